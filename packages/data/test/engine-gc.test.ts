import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setImmediate as tick } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { FsMultipartStore } from '../src/engine/fs-multipart-store.js'
import { MemoryMultipartStore } from '../src/engine/memory-multipart-store.js'
import { ObjectEngine } from '../src/engine/object-engine.js'
import { isDataError } from '../src/errors.js'
import { FsBlobStore } from '../src/fs-blob-store.js'
import { HybridLogicalClock } from '../src/hlc.js'
import { LmdbObjectIndex } from '../src/lmdb-object-index.js'
import { MemoryBlobStore } from '../src/memory-blob-store.js'
import { MemoryObjectIndex } from '../src/memory-object-index.js'
import type { AbortOptions, BlobStore, ChunkRef, ChunkSource, ObjectIndex } from '../src/port.js'
import { G1 } from '../src/testing/records.js'
import { body, CHUNK, deferred, distinct, engineOver } from './gc-fixture.js'
import { openTemporary } from './lmdb-fixture.js'

/** mulberry32: a small seeded PRNG, so a failing interleaving can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A blob store that yields to the event loop a random number of times around every call. */
class JitterStore implements BlobStore {
  constructor(
    readonly inner: BlobStore,
    readonly random: () => number,
  ) {}
  async #jitter(): Promise<void> {
    const turns = Math.floor(this.random() * 4)
    for (let i = 0; i < turns; i++) await tick()
  }
  async put(source: ChunkSource, options?: AbortOptions): Promise<ChunkRef> {
    await this.#jitter()
    const ref = await this.inner.put(source, options)
    await this.#jitter()
    return ref
  }
  async putVerified(cid: string, source: ChunkSource, options?: AbortOptions): Promise<ChunkRef> {
    return this.inner.putVerified(cid, source, options)
  }
  async get(cid: string, options?: AbortOptions): Promise<Uint8Array> {
    await this.#jitter()
    return this.inner.get(cid, options)
  }
  stream(cid: string, options?: AbortOptions): AsyncIterable<Uint8Array> {
    return this.inner.stream(cid, options)
  }
  async has(cid: string, options?: AbortOptions): Promise<boolean> {
    await this.#jitter()
    return this.inner.has(cid, options)
  }
  async stat(cid: string, options?: AbortOptions) {
    await this.#jitter()
    return this.inner.stat(cid, options)
  }
  async delete(cid: string, options?: AbortOptions): Promise<void> {
    await this.#jitter()
    await this.inner.delete(cid, options)
    await this.#jitter()
  }
  async *list(options?: AbortOptions): AsyncGenerator<string> {
    for await (const cid of this.inner.list(options)) {
      await this.#jitter()
      yield cid
    }
  }
}

async function stored(blobs: BlobStore): Promise<string[]> {
  const out: string[] = []
  for await (const cid of blobs.list()) out.push(cid)
  return out.sort()
}

async function readAll(engine: ObjectEngine, bucket: string, key: string): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const piece of engine.readObject(await engine.headObject(bucket, key)).body) parts.push(piece)
  return Buffer.concat(parts)
}

/** Every chunk a version or an upload in progress references is in the store. */
async function expectNothingLiveFreed(engine: ObjectEngine, blobs: BlobStore): Promise<number> {
  const live = new Set<string>()
  for (const bucket of await engine.listBuckets()) {
    for await (const version of engine.listVersions(bucket.name)) {
      if (version.deleteMarker !== true) for (const c of version.manifest.chunks) live.add(c.cid)
    }
  }
  for await (const upload of engine.uploads.allUploads()) {
    for await (const part of engine.uploads.listParts(upload.uploadId))
      for (const c of part.chunks) live.add(c.cid)
  }
  const missing = []
  for (const cid of live) if (!(await blobs.has(cid))) missing.push(cid)
  expect(missing).toEqual([])
  return live.size
}

async function purgeEverything(engine: ObjectEngine): Promise<void> {
  for (const bucket of await engine.listBuckets()) {
    const all = []
    for await (const v of engine.listVersions(bucket.name)) all.push(v)
    for (const v of all) await engine.deleteVersion(bucket.name, v.key, v.versionId)
  }
  const uploads = []
  for await (const u of engine.uploads.allUploads()) uploads.push(u)
  for (const u of uploads) await engine.abortMultipartUpload(u.bucket, u.key, u.uploadId)
}

describe('ObjectEngine garbage collection', () => {
  it('frees the chunks of overwritten and purged versions, never those still referenced', async () => {
    const blobs = new MemoryBlobStore()
    const { engine } = engineOver(blobs)
    await engine.createBucket('unv', G1)
    await engine.createBucket('ver', G1)
    await engine.putBucketVersioning('ver', 'Enabled')
    const a = Buffer.alloc(CHUNK * 2, 'a')
    const b = Buffer.alloc(CHUNK * 2, 'b')
    await engine.putObject({ bucket: 'unv', key: 'k', body: body(a) })
    await engine.putObject({ bucket: 'unv', key: 'k', body: body(b) })
    const shared = await engine.putObject({ bucket: 'ver', key: 'x', body: body(Buffer.alloc(CHUNK, 'b')) })
    expect(await stored(blobs)).toHaveLength(2)
    const progress: string[] = []
    const first = await engine.collectGarbage({ onProgress: (p) => progress.push(p.phase) })
    expect(first).toMatchObject({ chunksFreed: 1, bytesFreed: CHUNK, chunksLive: 1, uploadsAborted: 0 })
    expect(progress).toContain('sweep')
    expect(progress.at(-1)).toBe('done')
    expect(await readAll(engine, 'unv', 'k')).toEqual(b)
    await engine.deleteObject('unv', 'k')
    expect((await engine.collectGarbage()).chunksFreed).toBe(0) // still shared with ver/x
    expect(await readAll(engine, 'ver', 'x')).toEqual(Buffer.alloc(CHUNK, 'b'))
    await engine.deleteObject('ver', 'x')
    expect((await engine.collectGarbage()).chunksFreed).toBe(0) // a delete marker keeps the old version
    await engine.deleteVersion('ver', 'x', shared.versionId)
    expect((await engine.collectGarbage()).chunksFreed).toBe(1)
    expect(await stored(blobs)).toEqual([])
    expect(engine.gcTotals()).toEqual({ runs: 4, chunksFreed: 2, bytesFreed: 2 * CHUNK })
  })

  it('frees parts of aborted and stale uploads, keeps those of uploads in progress', async () => {
    const blobs = new MemoryBlobStore()
    const now = { t: Date.parse('2025-01-01T00:00:00Z') }
    const index = new MemoryObjectIndex()
    const uploads = new MemoryMultipartStore()
    const engine = new ObjectEngine({
      index,
      blobs,
      uploads,
      clock: new HybridLogicalClock('node-a', { now: () => now.t }),
      chunkSize: CHUNK,
      minPartSize: CHUNK,
      uploadTimeoutMs: 1000,
      now: () => new Date(now.t),
    })
    await engine.createBucket('bkt', G1)
    const part = async (key: string, fill: string) => {
      const upload = await engine.createMultipartUpload({ bucket: 'bkt', key, initiator: 'a' })
      await engine.uploadPart({
        bucket: 'bkt',
        key,
        uploadId: upload.uploadId,
        partNumber: 1,
        body: body(Buffer.alloc(CHUNK, fill)),
      })
      return upload.uploadId
    }
    const aborted = await part('aborted', 'a')
    await engine.abortMultipartUpload('bkt', 'aborted', aborted)
    await part('stale', 's')
    now.t += 2000
    await part('open', 'o')
    const result = await engine.collectGarbage()
    expect(result).toMatchObject({ uploadsAborted: 1, chunksFreed: 2, chunksLive: 1 })
    expect(await stored(blobs)).toHaveLength(1)
    await expectNothingLiveFreed(engine, blobs)
  })

  it('stops on a signal without touching anything live, and the next run finishes the job', async () => {
    const blobs = new MemoryBlobStore()
    const { engine } = engineOver(blobs)
    await engine.createBucket('bkt', G1)
    for (let i = 0; i < 40; i++) {
      await engine.putObject({ bucket: 'bkt', key: `k${i % 4}`, body: body(distinct(i)) })
    }
    const controller = new AbortController()
    const stopped = engine.collectGarbage({
      signal: controller.signal,
      batchSize: 5,
      onProgress: (p) => {
        if (p.chunksFreed > 0) controller.abort()
      },
    })
    await expect(stopped).rejects.toMatchObject({ code: 'Aborted' })
    const left = (await stored(blobs)).length
    expect(left).toBeGreaterThan(4)
    expect(left).toBeLessThan(40)
    await expectNothingLiveFreed(engine, blobs)
    expect((await engine.collectGarbage()).chunksFreed).toBe(left - 4)
    expect(await stored(blobs)).toHaveLength(4)
  })

  it('survives a crash in the middle of a sweep: live chunks stay, a restart frees the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aruna-gc-'))
    try {
      const blobs = await FsBlobStore.open({ directory: join(dir, 'blobs') })
      let deletes = 0
      const crashing = new Proxy(blobs, {
        get(target, name, receiver) {
          if (name === 'delete') {
            return async (cid: string) => {
              if (++deletes > 3) throw new Error('the process died')
              await target.delete(cid)
            }
          }
          const value = Reflect.get(target, name, receiver)
          return typeof value === 'function' ? value.bind(target) : value
        },
      })
      const { engine, index } = engineOver(crashing)
      await engine.createBucket('bkt', G1)
      for (let i = 0; i < 20; i++) {
        await engine.putObject({ bucket: 'bkt', key: `k${i % 2}`, body: body(distinct(i)) })
      }
      await expect(engine.collectGarbage({ batchSize: 2 })).rejects.toThrow('the process died')
      // "Restart": a fresh engine over the same directory and the same (durable) records.
      const reopened = await FsBlobStore.open({ directory: join(dir, 'blobs') })
      const engine2 = new ObjectEngine({
        index,
        blobs: reopened,
        uploads: new MemoryMultipartStore(),
        clock: new HybridLogicalClock('node-a'),
        chunkSize: CHUNK,
      })
      await expectNothingLiveFreed(engine2, reopened)
      expect((await engine2.collectGarbage()).chunksFreed).toBe(20 - 2 - 3)
      expect(await readAll(engine2, 'bkt', 'k0')).toEqual(distinct(18))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('keeps a chunk that a PUT stores again while the sweep is deleting it', async () => {
    const inner = new MemoryBlobStore()
    let release: (() => void) | undefined
    let deleting: (() => void) | undefined
    const deleteStarted = new Promise<void>((resolve) => {
      deleting = resolve
    })
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const blobs = new Proxy(inner, {
      get(target, name, receiver) {
        if (name === 'delete') {
          return async (cid: string) => {
            deleting!()
            await gate
            await target.delete(cid)
          }
        }
        const value = Reflect.get(target, name, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const { engine } = engineOver(blobs)
    await engine.createBucket('bkt', G1)
    const bytes = Buffer.alloc(CHUNK, 'z')
    await engine.putObject({ bucket: 'bkt', key: 'old', body: body(bytes) })
    await engine.deleteObject('bkt', 'old')
    const run = engine.collectGarbage()
    await deleteStarted
    const put = engine.putObject({ bucket: 'bkt', key: 'new', body: body(bytes) })
    await tick()
    release!()
    await Promise.all([run, put])
    expect(await readAll(engine, 'bkt', 'new')).toEqual(bytes)
    expect((await engine.collectGarbage()).chunksFreed).toBe(0)
  })

  it('keeps a chunk whose PUT is in progress when a sweep starts', async () => {
    const inner = new MemoryBlobStore()
    const gate = deferred()
    const putWaiting = deferred()
    let hold = false
    const blobs = new Proxy(inner, {
      get(target, name, receiver) {
        if (name === 'put') {
          return async (source: ChunkSource) => {
            const ref = await target.put(source)
            if (hold) {
              putWaiting.resolve()
              await gate.promise
            }
            return ref
          }
        }
        const value = Reflect.get(target, name, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const { engine } = engineOver(blobs)
    await engine.createBucket('bkt', G1)
    const bytes = distinct(1)
    await engine.putObject({ bucket: 'bkt', key: 'old', body: body(bytes) })
    await engine.deleteObject('bkt', 'old')
    hold = true
    const put = engine.putObject({ bucket: 'bkt', key: 'new', body: body(bytes) })
    await putWaiting.promise
    const sweeping = deferred()
    const run = engine.collectGarbage({ onProgress: (p) => p.phase === 'sweep' && sweeping.resolve() })
    await sweeping.promise
    for (let i = 0; i < 5; i++) await tick()
    gate.resolve()
    await Promise.all([run, put])
    expect(await readAll(engine, 'bkt', 'new')).toEqual(bytes)
  })

  it('keeps the chunks of a copy whose source is purged and collected before the copy is recorded', async () => {
    const blobs = new MemoryBlobStore()
    const { engine, index } = engineOver(blobs)
    await engine.createBucket('bkt', G1)
    const source = await engine.putObject({ bucket: 'bkt', key: 'src', body: body(distinct(2)) })
    const gate = deferred()
    const recording = deferred()
    const putVersion = index.putVersion.bind(index)
    index.putVersion = async (version) => {
      if (version.key === 'dst') {
        recording.resolve()
        await gate.promise
      }
      return putVersion(version)
    }
    const copy = engine.copyObject({ source: { bucket: 'bkt', key: 'src' }, bucket: 'bkt', key: 'dst' })
    await recording.promise
    await engine.deleteVersion('bkt', 'src', source.versionId)
    expect((await engine.collectGarbage()).chunksFreed).toBe(0)
    gate.resolve()
    await copy
    expect(await readAll(engine, 'bkt', 'dst')).toEqual(distinct(2))
  })

  it.each([
    ['its chunk list taken over', undefined],
    ['a range of it read', { start: 1, end: 2 * CHUNK - 1 }],
  ])(
    'keeps the chunks of an UploadPartCopy (%s) whose source is purged and collected before the part is recorded',
    async (_, range) => {
      const blobs = new MemoryBlobStore()
      const { engine, uploads } = engineOver(blobs)
      await engine.createBucket('bkt', G1)
      const bytes = Buffer.concat([distinct(7), distinct(8)])
      const source = await engine.putObject({ bucket: 'bkt', key: 'src', body: body(bytes) })
      const upload = await engine.createMultipartUpload({ bucket: 'bkt', key: 'dst', initiator: 'u' })
      const gate = deferred()
      const recording = deferred()
      const putPart = uploads.putPart.bind(uploads)
      uploads.putPart = async (uploadId, part) => {
        recording.resolve()
        await gate.promise
        return putPart(uploadId, part)
      }
      const copy = engine.uploadPartCopy({
        source: { bucket: 'bkt', key: 'src' },
        ...(range !== undefined ? { range } : {}),
        bucket: 'bkt',
        key: 'dst',
        uploadId: upload.uploadId,
        partNumber: 1,
      })
      await recording.promise
      await engine.deleteVersion('bkt', 'src', source.versionId)
      expect((await engine.collectGarbage()).chunksFreed).toBe(0)
      gate.resolve()
      const { part } = await copy
      await engine.completeMultipartUpload({
        bucket: 'bkt',
        key: 'dst',
        uploadId: upload.uploadId,
        parts: [{ partNumber: 1, etag: part.etag }],
      })
      const expected = range === undefined ? bytes : bytes.subarray(range.start, range.end + 1)
      expect(await readAll(engine, 'bkt', 'dst')).toEqual(expected)
    },
  )

  it('refuses an UploadPartCopy whose source is purged while it is being copied', async () => {
    const { engine, index } = engineOver(new MemoryBlobStore())
    await engine.createBucket('bkt', G1)
    const source = await engine.putObject({ bucket: 'bkt', key: 'src', body: body(distinct(9)) })
    const upload = await engine.createMultipartUpload({ bucket: 'bkt', key: 'dst', initiator: 'u' })
    const getVersion = index.getVersion.bind(index)
    let purged = false
    index.getVersion = async (bucket, key, versionId) => {
      const found = await getVersion(bucket, key, versionId)
      if (!purged) {
        purged = true
        await engine.deleteVersion('bkt', 'src', source.versionId)
      }
      return found
    }
    await expect(
      engine.uploadPartCopy({
        source: { bucket: 'bkt', key: 'src', versionId: source.versionId },
        bucket: 'bkt',
        key: 'dst',
        uploadId: upload.uploadId,
        partNumber: 1,
      }),
    ).rejects.toMatchObject({ code: 'NoSuchVersion' })
  })

  it('refuses a copy whose source is purged while it is being copied', async () => {
    const { engine, index } = engineOver(new MemoryBlobStore())
    await engine.createBucket('bkt', G1)
    const source = await engine.putObject({ bucket: 'bkt', key: 'src', body: body(distinct(3)) })
    const getVersion = index.getVersion.bind(index)
    let purged = false
    index.getVersion = async (bucket, key, versionId) => {
      if (!purged) {
        purged = true
        const found = await getVersion(bucket, key, versionId)
        await engine.deleteVersion('bkt', 'src', source.versionId)
        return found
      }
      return getVersion(bucket, key, versionId)
    }
    await expect(
      engine.copyObject({
        source: { bucket: 'bkt', key: 'src', versionId: source.versionId },
        bucket: 'bkt',
        key: 'dst',
      }),
    ).rejects.toMatchObject({ code: 'NoSuchVersion' })
  })

  it('lets a read that has started finish when its version is purged and collected meanwhile', async () => {
    const blobs = new MemoryBlobStore()
    const { engine } = engineOver(blobs)
    await engine.createBucket('bkt', G1)
    const bytes = Buffer.concat([distinct(4), distinct(5), distinct(6)])
    const version = await engine.putObject({ bucket: 'bkt', key: 'k', body: body(bytes) })
    const reader = engine.readObject(version).body[Symbol.asyncIterator]()
    const first = await reader.next()
    await engine.deleteVersion('bkt', 'k', version.versionId)
    expect((await engine.collectGarbage()).chunksFreed).toBe(0)
    const rest: Uint8Array[] = [first.value as Uint8Array]
    for (let next = await reader.next(); next.done !== true; next = await reader.next()) rest.push(next.value)
    expect(Buffer.concat(rest)).toEqual(bytes)
    expect((await engine.collectGarbage()).chunksFreed).toBe(3)
    // A read never started pins nothing.
    const again = await engine.putObject({ bucket: 'bkt', key: 'k', body: body(bytes) })
    engine.readObject(again)
    await engine.deleteVersion('bkt', 'k', again.versionId)
    expect((await engine.collectGarbage()).chunksFreed).toBe(3)
  })

  it('joins a run already in progress', async () => {
    const { engine } = engineOver(new MemoryBlobStore())
    const [a, b] = [engine.collectGarbage(), engine.collectGarbage()]
    expect(a).toBe(b)
    await a
    expect(engine.collectGarbage()).not.toBe(a)
  })

  it.each([
    [1, 'memory'],
    [2, 'memory'],
    [3, 'memory'],
    [4, 'memory'],
    [5, 'memory'],
    [6, 'memory'],
    [7, 'LMDB'],
    [8, 'LMDB'],
  ] as const)(
    'never frees a chunk a live version or upload references, under random concurrent writes (seed %i, %s index)',
    async (seed, kind) => {
      const lmdb = kind === 'LMDB' ? await openTemporary() : undefined
      try {
        await randomInterleavings(seed, lmdb?.index ?? new MemoryObjectIndex())
      } finally {
        await lmdb?.dispose()
      }
    },
  )
})

async function randomInterleavings(seed: number, index: ObjectIndex): Promise<void> {
  const random = prng(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const blocks = Array.from({ length: 6 }, (_, i) => Buffer.alloc(CHUNK, String.fromCharCode(97 + i)))
  const content = () =>
    Buffer.concat(Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(blocks)))
  const blobs = new JitterStore(new MemoryBlobStore(), random)
  const { engine } = engineOver(blobs, new MemoryMultipartStore(), index)
  const buckets = ['ver', 'unv', 'sus']
  for (const b of buckets) await engine.createBucket(b, G1)
  await engine.putBucketVersioning('ver', 'Enabled')
  await engine.putBucketVersioning('sus', 'Enabled')
  const keys = ['k0', 'k1', 'k2']
  const open: Array<{ bucket: string; key: string; uploadId: string }> = []
  const expected = new Set([
    'NoSuchKey',
    'NoSuchVersion',
    'InvalidPart',
    'NoSuchUpload',
    'MethodNotAllowed',
    'InvalidRequest',
  ])

  const ops: Array<() => Promise<unknown>> = [
    () => engine.putObject({ bucket: pick(buckets), key: pick(keys), body: body(content()) }),
    () =>
      engine.copyObject({
        source: { bucket: pick(buckets), key: pick(keys) },
        bucket: pick(buckets),
        key: pick(keys),
        replace: {},
      }),
    () => engine.deleteObject(pick(buckets), pick(keys)),
    async () => {
      const bucket = pick(buckets)
      const all = []
      for await (const v of engine.listVersions(bucket)) all.push(v)
      if (all.length > 0) {
        const v = pick(all)
        await engine.deleteVersion(bucket, v.key, v.versionId)
      }
    },
    async () => {
      const bucket = pick(buckets)
      const key = pick(keys)
      const { uploadId } = await engine.createMultipartUpload({ bucket, key, initiator: 'a' })
      const parts = []
      for (let n = 1; n <= 1 + Math.floor(random() * 2); n++) {
        parts.push(await engine.uploadPart({ bucket, key, uploadId, partNumber: n, body: body(content()) }))
      }
      const fate = random()
      if (fate < 0.4) {
        await engine.completeMultipartUpload({
          bucket,
          key,
          uploadId,
          parts: parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
        })
      } else if (fate < 0.7) await engine.abortMultipartUpload(bucket, key, uploadId)
      else open.push({ bucket, key, uploadId })
    },
    async () => {
      const upload = open.splice(Math.floor(random() * open.length), 1)[0]
      if (upload === undefined) return
      if (random() < 0.5) await engine.abortMultipartUpload(upload.bucket, upload.key, upload.uploadId)
      else {
        await engine.uploadPart({ ...upload, partNumber: 1, body: body(content()) })
        const parts = (await engine.listParts(upload.bucket, upload.key, upload.uploadId)).parts
        await engine.completeMultipartUpload({
          ...upload,
          parts: parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
        })
      }
    },
    () => engine.putBucketVersioning('sus', random() < 0.5 ? 'Suspended' : 'Enabled'),
    () => engine.collectGarbage({ batchSize: 1 + Math.floor(random() * 4) }),
    () => engine.collectGarbage({ batchSize: 2 }),
  ]
  for (let round = 0; round < 40; round++) {
    const batch = Array.from({ length: 3 + Math.floor(random() * 5) }, () => pick(ops)())
    const results = await Promise.allSettled(batch)
    for (const r of results) {
      if (r.status === 'rejected' && !(isDataError(r.reason) && expected.has(r.reason.code))) throw r.reason
    }
    await expectNothingLiveFreed(engine, blobs)
    for (const bucket of buckets) {
      for (const key of keys) {
        try {
          await readAll(engine, bucket, key)
        } catch (err) {
          if (!isDataError(err, 'NoSuchKey')) throw err
        }
      }
    }
  }
  await engine.collectGarbage()
  const live = await expectNothingLiveFreed(engine, blobs)
  expect((await stored(blobs)).length).toBe(live)
  await purgeEverything(engine)
  await engine.collectGarbage()
  expect(await stored(blobs)).toEqual([])
}

describe('space', () => {
  let dir: string | undefined
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  /** Bytes in files under `path`, but for the small-chunk database's (`small/`: LMDB keeps its size). */
  async function bytesUnder(path: string): Promise<number> {
    let total = 0
    for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
      if (entry.parentPath === join(path, 'small')) continue
      if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size
    }
    return total
  }

  // Every chunk in a file, or small chunks in the small-chunk database: the files are gone, and the
  // database's entries (LMDB keeps its file's size and reuses the freed pages).
  it.each([
    ['every chunk in a file', 0],
    ['small chunks in the database', undefined],
  ] as const)(
    'write, purge every version, collect: the chunk store is back to empty (%s)',
    async (_, inlineMaxBytes) => {
      dir = await mkdtemp(join(tmpdir(), 'aruna-space-'))
      const blobs = await FsBlobStore.open({
        directory: join(dir, 'blobs'),
        ...(inlineMaxBytes === undefined ? {} : { inlineMaxBytes }),
      })
      const uploads = await FsMultipartStore.open({ directory: join(dir, 'uploads') })
      const lmdb = await LmdbObjectIndex.open(join(dir, 'index'))
      const { engine } = engineOver(blobs, uploads, lmdb)
      await engine.createBucket('ver', G1)
      await engine.putBucketVersioning('ver', 'Enabled')
      await engine.createBucket('unv', G1)
      const before = await bytesUnder(join(dir, 'blobs'))
      let written = 0
      for (let i = 0; i < 30; i++) {
        const bytes = createHash('sha512').update(`${i}`).digest()
        written += bytes.length
        await engine.putObject({ bucket: i % 2 === 0 ? 'ver' : 'unv', key: `k${i % 5}`, body: body(bytes) })
      }
      await engine.copyObject({ source: { bucket: 'ver', key: 'k0' }, bucket: 'unv', key: 'copy' })
      const upload = await engine.createMultipartUpload({ bucket: 'ver', key: 'mp', initiator: 'a' })
      await engine.uploadPart({
        bucket: 'ver',
        key: 'mp',
        uploadId: upload.uploadId,
        partNumber: 1,
        body: body(Buffer.alloc(100, 'm')),
      })
      // In files, the chunks take space on disk; in the database, they are its entries.
      if (inlineMaxBytes === 0)
        expect(await bytesUnder(join(dir, 'blobs'))).toBeGreaterThan(before + written / 2)
      else expect((await stored(blobs)).length).toBeGreaterThanOrEqual(30)
      await purgeEverything(engine)
      const result = await engine.collectGarbage()
      expect(result.bytesFreed).toBeGreaterThan(written / 2)
      expect(await stored(blobs)).toEqual([])
      expect(await bytesUnder(join(dir, 'blobs'))).toBe(0)
      expect(await bytesUnder(join(dir, 'uploads'))).toBe(0)
      await lmdb.close()
    },
  )
})
