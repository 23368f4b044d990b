import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { versionOf } from './fixtures/versions.mjs'

const WRITER = fileURLToPath(new URL('./fixtures/durable-writer.mjs', import.meta.url))

/**
 * Runs the writer on `path` from version `start`, kills it with SIGKILL once it has reported `count`
 * writes (plus a random few milliseconds, so the kill lands anywhere in a write), and returns what it
 * reported.
 */
async function writeUntilKilled(path: string, start: number, count: number, mode: string): Promise<number[]> {
  const child = spawn(process.execPath, [WRITER, path, String(start), mode], {
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
      const match = /^wrote (\d+)$/.exec(line)
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

describe('writeFileDurably when the writer is killed', () => {
  let directory: string
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'platform-durable-crash-'))
  })
  afterEach(() => rm(directory, { recursive: true, force: true }))

  it('leaves the last reported version or the whole next one, with its mode, never a torn file', async () => {
    const path = join(directory, 'secret.json')
    let start = 0
    for (let round = 0; round < 5; round++) {
      const reported = await writeUntilKilled(path, start, 10 + round * 7, '600')
      expect(reported.length).toBeGreaterThanOrEqual(10)
      const last = reported.at(-1)!
      const version = versionOf(await readFile(path))
      expect([last, last + 1]).toContain(version)
      expect((await stat(path)).mode & 0o777).toBe(0o600)
      // A kill mid-write leaves at most its one hidden temp file beside the file, never in its place.
      const others = (await readdir(directory)).filter((name) => name !== 'secret.json')
      expect(others.length).toBeLessThanOrEqual(round + 1)
      for (const name of others) expect(name).toMatch(/^\.secret\.json\.[0-9a-f]{16}\.tmp$/)
      start = last + 2
    }
  }, 60_000)
})
