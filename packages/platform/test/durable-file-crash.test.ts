import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { reportsUntilKilled } from './fixtures/kill-child.js'
import { versionOf } from './fixtures/versions.mjs'

const WRITER = fileURLToPath(new URL('./fixtures/durable-writer.mjs', import.meta.url))

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
      const reported = await reportsUntilKilled(WRITER, [path, String(start), '600'], 10 + round * 7)
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
