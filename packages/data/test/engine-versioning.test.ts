import { describe, expect, it } from 'vitest'
import { MemoryMultipartStore } from '../src/engine/memory-multipart-store.js'
import { ObjectEngine } from '../src/engine/object-engine.js'
import { HybridLogicalClock } from '../src/hlc.js'
import { MemoryBlobStore } from '../src/memory-blob-store.js'
import { MemoryObjectIndex } from '../src/memory-object-index.js'
import type { Bucket } from '../src/port.js'
import { G1 } from '../src/testing/records.js'
import { versioningOf } from '../src/version-record.js'

/** An index whose bucket records look like those written before versioning could be set. */
class LegacyIndex extends MemoryObjectIndex {
  override async getBucket(name: string): Promise<Bucket> {
    const { versioning: _dropped, ...legacy } = await super.getBucket(name)
    return legacy
  }
}

function engineOver(index: MemoryObjectIndex): ObjectEngine {
  return new ObjectEngine({
    index,
    blobs: new MemoryBlobStore(),
    uploads: new MemoryMultipartStore(),
    clock: new HybridLogicalClock('node-a'),
    chunkSize: 16,
  })
}

async function* body(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text)
}

async function ids(engine: ObjectEngine, bucket: string): Promise<string[]> {
  const out: string[] = []
  for await (const v of engine.listVersions(bucket))
    out.push(`${v.key} ${v.nullVersion === true ? 'null' : 'id'}`)
  return out
}

describe('ObjectEngine versioning', () => {
  it('counts a bucket from before versioning could be set as Enabled: it keeps every version', async () => {
    expect(versioningOf({ name: 'old', group: G1, createdAt: '2025-01-01T00:00:00Z' })).toBe('Enabled')
    const engine = engineOver(new LegacyIndex())
    await engine.createBucket('old', G1)
    expect(await engine.getBucketVersioning('old')).toBe('Enabled')
    await engine.putObject({ bucket: 'old', key: 'k', body: body('one') })
    await engine.putObject({ bucket: 'old', key: 'k', body: body('two') })
    expect(await ids(engine, 'old')).toEqual(['k id', 'k id'])
  })

  it('keeps one null version when two writes race, the newer one, whichever is recorded last', async () => {
    const index = new MemoryObjectIndex()
    const engine = engineOver(index)
    await engine.createBucket('bkt', G1)
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const putVersion = index.putVersion.bind(index)
    let first = true
    index.putVersion = async (version) => {
      if (first) {
        first = false
        await gate
      }
      return putVersion(version)
    }
    const older = engine.putObject({ bucket: 'bkt', key: 'k', body: body('older') })
    await new Promise((resolve) => setTimeout(resolve, 5))
    const newer = await engine.putObject({ bucket: 'bkt', key: 'k', body: body('newer') })
    release()
    const olderVersion = await older
    expect(olderVersion.versionId < newer.versionId).toBe(true)
    expect(await ids(engine, 'bkt')).toEqual(['k null'])
    expect((await engine.headObject('bkt', 'k')).versionId).toBe(newer.versionId)
  })

  it('purges by id, by null, and records a purge for an id it does not hold yet', async () => {
    const index = new MemoryObjectIndex()
    const engine = engineOver(index)
    await engine.createBucket('bkt', G1)
    const v = await engine.putObject({ bucket: 'bkt', key: 'k', body: body('one') })
    expect(v.nullVersion).toBe(true)
    expect(await engine.resolveVersionId('bkt', 'k', 'null')).toBe(v.versionId)
    expect((await engine.headObject('bkt', 'k', 'null')).versionId).toBe(v.versionId)
    expect((await engine.deleteVersion('bkt', 'k', 'null')).removed?.versionId).toBe(v.versionId)
    expect(await engine.deleteVersion('bkt', 'k', 'null')).toEqual({ versionId: 'null' })
    await expect(engine.headObject('bkt', 'k', 'null')).rejects.toMatchObject({ code: 'NoSuchVersion' })
    const later = '01941f297c0c-00000000-node-z'
    expect(await engine.deleteVersion('bkt', 'k', later)).toEqual({ versionId: later })
    expect((await index.listPurges('bkt')[Symbol.asyncIterator]().next()).value).toBeDefined()
    await expect(engine.deleteVersion('bkt', 'k', 'v1')).rejects.toMatchObject({ code: 'InvalidVersionId' })
    await expect(engine.putBucketVersioning('bkt', 'Unversioned')).rejects.toMatchObject({
      code: 'InvalidArgument',
    })
    expect(await engine.deleteObject('bkt', 'never')).toEqual({})
  })
})
