import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { formatVersionId, LmdbObjectIndex } from '../src/index.js'
import { collectVersions, expectCode } from '../src/testing/records.js'
import { runUntilKilled } from './kill-writer.js'
import { removeDirectory, tempDirectory } from './lmdb-fixture.js'

const EPOCH = Date.UTC(2025, 0, 1)

/** Runs the writer on `directory` until it has acknowledged at least `acks` writes, kills it and returns their numbers. */
async function writeUntilKilled(directory: string, nodeId: string, acks: number): Promise<number[]> {
  const lines = await runUntilKilled('./lmdb-crash-writer.ts', [directory, nodeId], acks)
  return lines.map((line) => Number(line.slice('ack '.length)))
}

function versionOf(n: number, nodeId: string): string {
  return formatVersionId({ wallTime: EPOCH + n, counter: 0, nodeId })
}

describe('LmdbObjectIndex after a crash', () => {
  let directory: string

  let parent: string

  beforeEach(async () => {
    parent = await tempDirectory()
    // A dot in the last part: lmdb-js would take it for a file name unless told otherwise.
    directory = join(parent, 'objects.lmdb')
  })

  afterEach(async () => {
    await removeDirectory(parent)
  })

  it('holds every acknowledged record after its writer was killed mid-writes, twice, with history and current pointers agreeing', async () => {
    const first = await writeUntilKilled(directory, 'writer-a', 400)
    const second = await writeUntilKilled(directory, 'writer-b', 300)

    const index = await LmdbObjectIndex.open(directory)
    try {
      for (const [nodeId, acked] of [
        ['writer-a', first],
        ['writer-b', second],
      ] as const) {
        for (const n of acked) {
          const version = await index.getVersion('crash', `k${n % 37}`, versionOf(n, nodeId))
          expect(version.deleteMarker === true).toBe(n % 5 === 4)
        }
      }
      // Whatever committed, the current pointer matches the history: nothing half written.
      const history = await collectVersions(index.listVersions('crash'))
      expect(history.length).toBeGreaterThanOrEqual(first.length + second.length)
      const listed = new Map((await index.list('crash')).objects.map((o) => [o.key, o.versionId]))
      for (let k = 0; k < 37; k++) {
        const key = `k${k}`
        const versions = await collectVersions(index.listVersions('crash', { key }))
        const newest = versions[0]?.[1]
        if (newest === undefined) continue
        const newestRecord = await index.getVersion('crash', key, newest)
        if (newestRecord.deleteMarker === true) {
          await expectCode(index.getCurrent('crash', key), 'NoSuchKey')
          expect(listed.has(key)).toBe(false)
        } else {
          expect((await index.getCurrent('crash', key)).versionId).toBe(newest)
          expect(listed.get(key)).toBe(newest)
        }
      }
      // And it takes writes again.
      const after = await index.putVersion({
        bucket: 'crash',
        key: 'k0',
        versionId: versionOf(1_000_000, 'checker'),
        createdAt: new Date().toISOString(),
        deleteMarker: true,
      })
      expect(after).toEqual({ stored: true, current: true, onlyVersion: false })
    } finally {
      await index.close()
    }
  }, 60_000)
})
