/**
 * The engine's write admission (storage quotas): a write the admission refuses stores no version, and
 * one that announces its size is refused before a byte is stored.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { MemoryMultipartStore } from '../src/engine/memory-multipart-store.js'
import { ObjectEngine } from '../src/engine/object-engine.js'
import { DataError } from '../src/errors.js'
import { HybridLogicalClock } from '../src/hlc.js'
import { MemoryBlobStore } from '../src/memory-blob-store.js'
import { MemoryObjectIndex } from '../src/memory-object-index.js'
import { G1 } from '../src/testing/records.js'

/** Admits writes while the bytes admitted stay within `limit`; records what it was asked. */
function limitedTo(limit: number) {
  const asked: { key: string; size: number }[] = []
  let used = 0
  return {
    asked,
    admission: {
      async admit(write: { bucket: string; key: string; size: number }) {
        asked.push({ key: write.key, size: write.size })
        if (used + write.size > limit) throw new DataError('QuotaExceeded', `${write.key} does not fit`)
      },
    },
    commit(size: number) {
      used += size
    },
  }
}

async function setup(limit: number) {
  const quota = limitedTo(limit)
  const blobs = new MemoryBlobStore()
  const index = new MemoryObjectIndex()
  const engine = new ObjectEngine({
    blobs,
    index,
    uploads: new MemoryMultipartStore(),
    clock: new HybridLogicalClock('node-a'),
    chunkSize: 16,
    minPartSize: 32,
    admission: quota.admission,
  })
  await engine.createBucket('bkt', G1)
  return { engine, blobs, index, quota }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

async function chunksIn(blobs: MemoryBlobStore): Promise<number> {
  let n = 0
  for await (const _ of blobs.list()) n++
  return n
}

describe('ObjectEngine write admission', () => {
  it('refuses a PUT of announced size before storing a byte, and records nothing', async () => {
    const { engine, blobs, quota } = await setup(100)
    const body = randomBytes(101)
    await expect(
      engine.putObject({ bucket: 'bkt', key: 'big', body: once(body), size: 101 }),
    ).rejects.toMatchObject({
      code: 'QuotaExceeded',
    })
    expect(await chunksIn(blobs)).toBe(0)
    expect(quota.asked).toEqual([{ key: 'big', size: 101 }])
    await expect(engine.headObject('bkt', 'big')).rejects.toMatchObject({ code: 'NoSuchKey' })
  })

  it('asks again with the real size before recording, which catches a body of unannounced size', async () => {
    const { engine, quota } = await setup(100)
    await expect(
      engine.putObject({ bucket: 'bkt', key: 'streamed', body: once(randomBytes(150)) }),
    ).rejects.toMatchObject({
      code: 'QuotaExceeded',
    })
    await expect(engine.headObject('bkt', 'streamed')).rejects.toMatchObject({ code: 'NoSuchKey' })
    const fits = await engine.putObject({
      bucket: 'bkt',
      key: 'small',
      body: once(randomBytes(60)),
      size: 60,
    })
    expect(fits.manifest.size).toBe(60)
    expect(quota.asked).toEqual([
      { key: 'streamed', size: 150 },
      { key: 'small', size: 60 },
      { key: 'small', size: 60 },
    ])
  })

  it('admits copies and multipart completions by the size of the object they make', async () => {
    const { engine, quota } = await setup(100)
    await engine.putObject({ bucket: 'bkt', key: 'src', body: once(randomBytes(60)), size: 60 })
    quota.commit(60)
    await expect(
      engine.copyObject({ source: { bucket: 'bkt', key: 'src' }, bucket: 'bkt', key: 'copy' }),
    ).rejects.toMatchObject({ code: 'QuotaExceeded' })
    const upload = await engine.createMultipartUpload({
      bucket: 'bkt',
      key: 'mp',
      initiator: 'alice',
      contentType: 'x/y',
    })
    const part = await engine.uploadPart({
      bucket: 'bkt',
      key: 'mp',
      uploadId: upload.uploadId,
      partNumber: 1,
      body: once(randomBytes(50)),
      size: 50,
    })
    await expect(
      engine.completeMultipartUpload({
        bucket: 'bkt',
        key: 'mp',
        uploadId: upload.uploadId,
        parts: [{ partNumber: 1, etag: part.etag }],
      }),
    ).rejects.toMatchObject({ code: 'QuotaExceeded' })
    expect(quota.asked.slice(-2)).toEqual([
      { key: 'copy', size: 60 },
      { key: 'mp', size: 50 },
    ])
    await expect(engine.headObject('bkt', 'mp')).rejects.toMatchObject({ code: 'NoSuchKey' })
  })
})
