import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FsBlobStore, LmdbObjectIndex } from '../src/index.js'
import { collectVersions } from '../src/testing/records.js'
import { removeDirectory, tempDirectory } from './lmdb-fixture.js'

const WRITER = fileURLToPath(new URL('./deferred-commit-crash-writer.ts', import.meta.url))

/**
 * Runs the writer on `directory` until it has acknowledged at least `acks` PutObjects, then kills it
 * with SIGKILL (no exit handlers, no close) and returns the acknowledged (key, version id) pairs.
 */
async function putUntilKilled(directory: string, nodeId: string, acks: number): Promise<[string, string][]> {
  const child = spawn(
    process.execPath,
    ['--experimental-transform-types', '--no-warnings', WRITER, directory, nodeId],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const acked: [string, string][] = []
  let stderr = ''
  let buffered = ''
  child.stderr.on('data', (data: Buffer) => {
    stderr += data.toString()
  })
  const exited = new Promise<NodeJS.Signals | number | null>((done) => {
    child.on('exit', (code, signal) => done(signal ?? code))
  })
  await new Promise<void>((done, fail) => {
    child.stdout.on('data', (data: Buffer) => {
      buffered += data.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop()!
      for (const line of lines) {
        const [, key, versionId] = line.split(' ')
        acked.push([`k${key}`, versionId as string])
      }
      if (acked.length >= acks && child.kill('SIGKILL')) done()
    })
    child.on('exit', (code) => fail(new Error(`the writer exited (${code}) before it was killed: ${stderr}`)))
  })
  expect(await exited).toBe('SIGKILL')
  return acked
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
