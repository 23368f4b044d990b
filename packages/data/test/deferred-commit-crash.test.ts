import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FsBlobStore, LmdbObjectIndex } from '../src/index.js'
import { collectVersions } from '../src/testing/records.js'
import { runUntilKilled } from './kill-writer.js'
import { removeDirectory, tempDirectory } from './lmdb-fixture.js'

/** Runs the writer on `directory` until it has acknowledged at least `acks` PutObjects, kills it and returns their (key, version id). */
async function putUntilKilled(directory: string, nodeId: string, acks: number): Promise<[string, string][]> {
  const lines = await runUntilKilled('./deferred-commit-crash-writer.ts', [directory, nodeId], acks)
  return lines.map((line) => {
    const [, key, versionId] = line.split(' ')
    return [`k${key}`, versionId as string]
  })
}

describe('PutObject with the chunk commit deferred to the version record, after a crash', () => {
  let directory: string

  beforeEach(async () => {
    directory = await tempDirectory()
  })

  afterEach(async () => {
    await removeDirectory(directory)
  })

  it('holds every acknowledged object, and no version record whose chunk is missing, after its writer was killed twice', async () => {
    const acked = [
      ...(await putUntilKilled(directory, 'writer-a', 300)),
      ...(await putUntilKilled(directory, 'writer-b', 200)),
    ]
    const index = await LmdbObjectIndex.open(join(directory, 'index'))
    const blobs = await FsBlobStore.open({
      directory: join(directory, 'blobs'),
      smallChunks: index.smallChunkDatabase(),
    })
    try {
      for (const [key, versionId] of acked) {
        const version = await index.getVersion('crash', key, versionId)
        expect(version.deleteMarker).toBeUndefined()
      }
      // Acknowledged or not: a version that committed names chunks that committed with it or before.
      const versions = await collectVersions(index.listVersions('crash'))
      expect(versions.length).toBeGreaterThanOrEqual(acked.length)
      let chunks = 0
      for (const [key, versionId] of versions) {
        const version = await index.getVersion('crash', key, versionId)
        if (version.deleteMarker === true) continue
        for (const chunk of version.manifest.chunks) {
          expect((await blobs.get(chunk.cid)).byteLength).toBe(chunk.size)
          chunks++
        }
      }
      expect(chunks).toBe(versions.length)
    } finally {
      await blobs.close()
      await index.close()
    }
  }, 60_000)
})
