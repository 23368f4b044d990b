import { spawn } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FsyncStorageAdapter } from '../src/index.js'

const SAVER = fileURLToPath(new URL('./fixtures/crash-saver.mjs', import.meta.url))

/** The same payload the saver writes for save `n`. */
function payload(n: number): Uint8Array {
  const size = 1024 + ((n * 7919) % (255 * 1024))
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) out[i] = (n * 31 + i * 17) & 0xff
  return out
}

/**
 * Runs the saver from save `start`, kills it with SIGKILL once it has reported `count` saves (plus a
 * random few milliseconds, so the kill lands anywhere in a write), and returns what it reported.
 */
async function saveUntilKilled(directory: string, start: number, count: number): Promise<number[]> {
  const child = spawn(process.execPath, [SAVER, directory, String(start)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const reported: number[] = []
  let errors = ''
  child.stderr.on('data', (chunk) => {
    errors += String(chunk)
  })
  let buffered = ''
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  )
  const guard = setTimeout(() => child.kill('SIGKILL'), 20_000)
  child.stdout.on('data', (chunk) => {
    buffered += String(chunk)
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const line of lines) {
      const match = /^saved (\d+)$/.exec(line)
      if (match !== null) reported.push(Number(match[1]))
    }
    if (reported.length >= count && !child.killed) {
      setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 5))
    }
  })
  const signal = await exited
  clearTimeout(guard)
  expect(errors).toBe('')
  expect(signal).toBe('SIGKILL')
  return reported
}

describe('FsyncStorageAdapter after a crash', () => {
  let directory: string
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'platform-crash-'))
  })
  afterEach(() => rm(directory, { recursive: true, force: true }))

  it('holds every chunk a killed writer reported saved, whole, and no partial file', async () => {
    let start = 0
    const everything: number[] = []
    for (let round = 0; round < 3; round++) {
      const reported = await saveUntilKilled(directory, start, 25)
      expect(reported.length).toBeGreaterThanOrEqual(25)
      everything.push(...reported)
      const last = reported.at(-1)!

      const adapter = await FsyncStorageAdapter.open({ directory })
      expect(await readdir(join(directory, 'tmp'))).toEqual([])
      for (const n of everything) {
        expect(await adapter.load(['doc', 'incremental', `change-${n}`])).toEqual(payload(n))
      }
      // Every chunk on disk loads and checks out, including one the kill interrupted before it was reported.
      const chunks = await adapter.loadRange(['doc'])
      expect(chunks.length).toBeGreaterThanOrEqual(everything.length + 1)
      for (const chunk of chunks) {
        const name = chunk.key[2]
        if (name !== undefined) expect(chunk.data).toEqual(payload(Number(name.slice('change-'.length))))
      }
      // The head is overwritten in place by rename: it is the last reported save or the one after.
      const head = Number(new TextDecoder().decode(await adapter.load(['doc', 'head'])))
      expect([last, last + 1]).toContain(head)
      start = last + 2
    }
  }, 60_000)
})
