import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FsyncStorageAdapter } from '../src/index.js'
import { reportsUntilKilled } from './fixtures/kill-child.js'
import { versionPayload as payload } from './fixtures/versions.mjs'

const SAVER = fileURLToPath(new URL('./fixtures/crash-saver.mjs', import.meta.url))

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
      const reported = await reportsUntilKilled(SAVER, [directory, String(start)], 25)
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
