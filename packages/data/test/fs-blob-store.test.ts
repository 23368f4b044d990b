import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  chunkCidOf,
  chunksOnDisk,
  DEFAULT_INLINE_MAX_BYTES,
  FsBlobStore,
  formatVersionId,
  LmdbObjectIndex,
} from '../src/index.js'
import { overwriteChunkFile } from './fs-fixture.js'

async function listAll(store: FsBlobStore): Promise<string[]> {
  const out: string[] = []
  for await (const cid of store.list()) out.push(cid)
  return out.sort()
}

async function* inPieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += size) yield bytes.subarray(offset, offset + size)
}

// The file layout: these stores keep every chunk in a file (`inlineMaxBytes: 0`); small chunks in the
// small-chunk database are tested below.
describe('FsBlobStore on disk', () => {
  let root: string
  let store: FsBlobStore

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'aruna-fs-blobs-'))
    store = await FsBlobStore.open({ directory: root, inlineMaxBytes: 0 })
  })

  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('keeps a chunk as a read-only file in the shard named by its next-to-last two characters', async () => {
    const { cid } = await store.put(new TextEncoder().encode('hello'))
    const path = join(root, 'chunks', cid.slice(-3, -1), cid)
    expect(store.chunkPath(cid)).toBe(path)
    const info = await stat(path)
    expect(info.size).toBe(5)
    expect(info.mode & 0o777).toBe(0o444)
  })

  it('spreads chunks over many shard directories', async () => {
    for (let i = 0; i < 200; i++) await store.put(new Uint8Array(randomBytes(8)))
    const shards = await readdir(join(root, 'chunks'))
    expect(shards.every((shard) => /^[a-z2-7]{2}$/.test(shard))).toBe(true)
    expect(shards.length).toBeGreaterThan(100)
    expect(await listAll(store)).toHaveLength(200)
  })

  it('finds its chunks again after being reopened', async () => {
    const bytes = new Uint8Array(randomBytes(100_000))
    const { cid } = await store.put(bytes)
    const reopened = await FsBlobStore.open({ directory: root, inlineMaxBytes: 0 })
    expect(await reopened.get(cid)).toEqual(bytes)
    expect(await listAll(reopened)).toEqual([cid])
  })

  it('creates a missing root directory', async () => {
    const nested = await FsBlobStore.open({ directory: join(root, 'a', 'b'), inlineMaxBytes: 0 })
    const { cid } = await nested.put(new Uint8Array([1, 2, 3]))
    expect(await nested.has(cid)).toBe(true)
  })

  it('removes temp files a crash left behind when it opens, keeping the chunks', async () => {
    const { cid } = await store.put(new Uint8Array([9, 9, 9]))
    await writeFile(join(root, 'tmp', 'deadbeef.tmp'), new Uint8Array(1000))
    await mkdir(join(root, 'tmp', 'stray-dir'))
    await writeFile(join(root, 'tmp', 'stray-dir', 'x'), 'x')
    const reopened = await FsBlobStore.open({ directory: root, inlineMaxBytes: 0 })
    expect(await readdir(join(root, 'tmp'))).toEqual([])
    expect(await listAll(reopened)).toEqual([cid])
  })

  it('leaves no temp file behind after a put, a refused put or an aborted put', async () => {
    const bytes = new Uint8Array(randomBytes(50_000))
    await store.put(inPieces(bytes, 4096))
    await store.put(bytes)
    const claimed = chunkCidOf(new Uint8Array([1]))
    await expect(store.putVerified(claimed, inPieces(bytes, 999))).rejects.toMatchObject({
      code: 'CorruptChunk',
    })
    const controller = new AbortController()
    async function* aborting(): AsyncGenerator<Uint8Array> {
      yield bytes.subarray(0, 10)
      controller.abort()
      yield bytes.subarray(10)
    }
    await expect(store.put(aborting(), { signal: controller.signal })).rejects.toMatchObject({
      code: 'Aborted',
    })
    expect(await readdir(join(root, 'tmp'))).toEqual([])
  })

  it('lists only well-named chunk files in their own shard', async () => {
    const { cid } = await store.put(new Uint8Array([4, 5, 6]))
    const other = chunkCidOf(new Uint8Array([7]))
    await writeFile(join(root, 'chunks', 'README'), 'not a shard')
    await writeFile(join(root, 'chunks', 'zz'), 'a file where a shard would be')
    await mkdir(join(root, 'chunks', 'aa'), { recursive: true })
    await writeFile(join(root, 'chunks', 'aa', other), 'a chunk in the wrong shard')
    await writeFile(join(root, 'chunks', cid.slice(-3, -1), 'notes.txt'), 'not a chunk')
    expect(await listAll(store)).toEqual([cid])
  })

  it('moves a corrupt copy to quarantine rather than deleting it', async () => {
    const { cid } = await store.put(new Uint8Array(randomBytes(1000)))
    await overwriteChunkFile(store, cid, new Uint8Array(1000))
    await expect(store.get(cid)).rejects.toMatchObject({ code: 'CorruptChunk' })
    const quarantined = await readdir(join(root, 'quarantine'))
    expect(quarantined).toHaveLength(1)
    expect(quarantined[0]!.startsWith(`${cid}.`)).toBe(true)
    expect((await stat(join(root, 'quarantine', quarantined[0]!))).size).toBe(1000)
  })

  it('does not quarantine a good copy that replaced a corrupt one during a read', async () => {
    const bytes = new Uint8Array(randomBytes(1024 * 1024))
    const { cid } = await store.put(bytes)
    await overwriteChunkFile(store, cid, new Uint8Array(bytes.byteLength))
    const reading = (async () => {
      for await (const _piece of store.stream(cid)) {
        if (await store.has(cid)) {
          // Repair replaces the file while the damaged copy is still being read.
          await store.delete(cid)
          await store.putVerified(cid, bytes)
        }
      }
    })()
    await expect(reading).rejects.toMatchObject({ code: 'CorruptChunk' })
    expect(await readdir(join(root, 'quarantine'))).toEqual([])
    expect(await store.get(cid)).toEqual(bytes)
  })

  it('reads a chunk file into the memory it is given when the chunk fits, and a small chunk into none', async () => {
    const bytes = new Uint8Array(randomBytes(300_000))
    const { cid } = await store.put(bytes)
    const into = new Uint8Array(512 * 1024)
    const read = await store.get(cid, { into })
    expect(read.buffer).toBe(into.buffer)
    expect(read.byteOffset).toBe(0)
    expect(read.byteLength).toBe(bytes.byteLength)
    expect(Buffer.compare(read, bytes)).toBe(0)
    // The next read into the same memory overwrites it: the caller decides when that is safe.
    const other = new Uint8Array(randomBytes(1000))
    const second = await store.get((await store.put(other)).cid, { into })
    expect(Buffer.compare(second, other)).toBe(0)
    expect(Buffer.compare(into.subarray(0, 1000), other)).toBe(0)

    const inlining = await FsBlobStore.open({ directory: join(root, 'inlining') })
    const tiny = new Uint8Array(randomBytes(100))
    const kept = await inlining.get((await inlining.put(tiny)).cid, { into })
    expect(kept.buffer).not.toBe(into.buffer)
    expect(Buffer.compare(kept, tiny)).toBe(0)
    await inlining.close()
  })

  it('reports an aborted read into given memory as Aborted', async () => {
    const { cid } = await store.put(new Uint8Array(randomBytes(4 * 1024 * 1024)))
    const controller = new AbortController()
    const reading = store.get(cid, { signal: controller.signal, into: new Uint8Array(4 * 1024 * 1024) })
    controller.abort()
    await expect(reading).rejects.toMatchObject({ code: 'Aborted' })
  })

  it('reports an aborted read of a whole chunk as Aborted', async () => {
    const { cid } = await store.put(new Uint8Array(randomBytes(4 * 1024 * 1024)))
    const controller = new AbortController()
    const reading = store.get(cid, { signal: controller.signal })
    controller.abort()
    await expect(reading).rejects.toMatchObject({ code: 'Aborted' })
  })
})

/** `count` distinct small chunks whose files all go to one shard directory. */
function chunksInOneShard(count: number): Uint8Array[] {
  const byShard = new Map<string, Uint8Array[]>()
  for (;;) {
    const bytes = new Uint8Array(randomBytes(16))
    const shard = chunkCidOf(bytes).slice(-3, -1)
    const found = byShard.get(shard) ?? []
    found.push(bytes)
    byShard.set(shard, found)
    if (found.length === count) return found
  }
}

describe('FsBlobStore group commit', () => {
  let root: string
  let store: FsBlobStore

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'aruna-fs-blobs-'))
    store = await FsBlobStore.open({ directory: root, inlineMaxBytes: 0 })
  })

  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('syncs a shard directory once per batch for the concurrent puts that land in it', async () => {
    const chunks = chunksInOneShard(16)
    const refs = await Promise.all(chunks.map((bytes) => store.put(bytes)))
    const { placed, batches, directorySyncs } = store.counters
    expect(placed).toBe(16)
    expect(directorySyncs).toBeLessThanOrEqual(batches)
    expect(directorySyncs).toBeLessThan(16)
    for (const [i, ref] of refs.entries()) expect(await store.get(ref.cid)).toEqual(chunks[i])
  })

  it('makes concurrent new shard directories durable with one sync of chunks/ per batch', async () => {
    const chunks = Array.from({ length: 32 }, () => new Uint8Array(randomBytes(16)))
    await Promise.all(chunks.map((bytes) => store.put(bytes)))
    const shards = new Set(chunks.map((bytes) => chunkCidOf(bytes).slice(-3, -1)))
    expect(store.counters.shardSyncs).toBeGreaterThan(0)
    expect(store.counters.shardSyncs).toBeLessThan(shards.size)
    expect((await readdir(join(root, 'chunks'))).sort()).toEqual([...shards].sort())
  })

  it('resolves each of many concurrent puts only when its chunk is in place, leaving no temp file', async () => {
    const chunks = Array.from({ length: 50 }, (_v, i) => new Uint8Array(randomBytes(100 + i)))
    await Promise.all(
      chunks.map(async (bytes, i) => {
        const { cid } = i % 2 === 0 ? await store.put(bytes) : await store.put(inPieces(bytes, 7), {})
        expect((await stat(store.chunkPath(cid))).size).toBe(bytes.byteLength)
      }),
    )
    expect(await readdir(join(root, 'tmp'))).toEqual([])
    expect(await listAll(store)).toHaveLength(50)
  })

  it('fails only the put whose placement fails, not the others of its batch', async () => {
    const [first, doomed] = chunksInOneShard(2) as [Uint8Array, Uint8Array]
    const { cid } = await store.put(first)
    // The shard directory the store knows is replaced by a file: renaming into it fails.
    const shard = join(root, 'chunks', cid.slice(-3, -1))
    await rm(shard, { recursive: true })
    await writeFile(shard, 'not a directory')
    // Chunks of other shards only: a random one in the broken shard would fail too (about one run in 50).
    const others: Uint8Array[] = []
    while (others.length < 20) {
      const bytes = new Uint8Array(randomBytes(32))
      if (chunkCidOf(bytes).slice(-3, -1) !== cid.slice(-3, -1)) others.push(bytes)
    }
    const outcomes = await Promise.allSettled([doomed, ...others].map((bytes) => store.put(bytes)))
    expect(outcomes[0]?.status).toBe('rejected')
    expect(outcomes.slice(1).every((outcome) => outcome.status === 'fulfilled')).toBe(true)
    for (const bytes of others) expect(await store.has(chunkCidOf(bytes))).toBe(true)
    expect(await readdir(join(root, 'tmp'))).toEqual([])
  })

  it('answers concurrent puts of one chunk with one copy on disk', async () => {
    const bytes = new Uint8Array(randomBytes(4096))
    const refs = await Promise.all(Array.from({ length: 10 }, () => store.put(bytes)))
    expect(new Set(refs.map((ref) => ref.cid)).size).toBe(1)
    expect(await listAll(store)).toEqual([refs[0]?.cid])
    expect(await store.get(refs[0]!.cid)).toEqual(bytes)
    expect(await readdir(join(root, 'tmp'))).toEqual([])
  })
})

describe('FsBlobStore small chunks (in the small-chunk database)', () => {
  let root: string
  let store: FsBlobStore

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'aruna-fs-small-'))
    store = await FsBlobStore.open({ directory: root, inlineMaxBytes: 1024 })
  })

  afterEach(async () => {
    await store.close()
    await rm(root, { recursive: true, force: true })
  })

  it('keeps chunks up to inlineMaxBytes out of chunk files, and larger ones in files', async () => {
    const small = new Uint8Array(randomBytes(1024))
    const large = new Uint8Array(randomBytes(1025))
    const a = await store.put(small)
    const b = await store.put(inPieces(large, 100))
    expect(store.counters.inlined).toBe(1)
    await expect(stat(store.chunkPath(a.cid))).rejects.toMatchObject({ code: 'ENOENT' })
    expect((await stat(store.chunkPath(b.cid))).size).toBe(1025)
    expect(await store.get(a.cid)).toEqual(small)
    expect(await store.stat(a.cid)).toEqual({ size: 1024 })
    expect(await store.has(a.cid)).toBe(true)
    expect(await listAll(store)).toEqual([a.cid, b.cid].sort())
  })

  it('takes a small chunk streamed in pieces, under its claimed id or refusing a wrong one', async () => {
    const bytes = new Uint8Array(randomBytes(900))
    const cid = chunkCidOf(bytes)
    expect(await store.putVerified(cid, inPieces(bytes, 7))).toEqual({ cid, size: 900 })
    expect(await store.get(cid)).toEqual(bytes)
    const other = chunkCidOf(new Uint8Array([1]))
    await expect(store.putVerified(other, inPieces(bytes, 7))).rejects.toMatchObject({ code: 'CorruptChunk' })
    expect(await store.has(other)).toBe(false)
    const pieces: Uint8Array[] = []
    for await (const piece of store.stream(cid)) pieces.push(piece)
    expect(Buffer.concat(pieces)).toEqual(Buffer.from(bytes))
  })

  it('shares commits between concurrent small puts, and each is durable across a reopen', async () => {
    const chunks = Array.from({ length: 200 }, (_, i) => new Uint8Array(randomBytes(64 + i)))
    const refs = await Promise.all(chunks.map((bytes) => store.put(bytes)))
    expect(store.counters.inlined).toBe(200)
    await store.close()
    store = await FsBlobStore.open({ directory: root, inlineMaxBytes: 1024 })
    for (const [i, ref] of refs.entries()) expect(await store.get(ref.cid)).toEqual(chunks[i])
    expect(await listAll(store)).toHaveLength(200)
    expect(await readdir(join(root, 'chunks'))).toEqual([])
  })

  it('writes a chunk put many times at once only once', async () => {
    const bytes = new Uint8Array(randomBytes(512))
    const refs = await Promise.all(Array.from({ length: 10 }, () => store.put(bytes)))
    expect(new Set(refs.map((ref) => ref.cid)).size).toBe(1)
    expect(store.counters.inlined).toBe(1)
    await store.put(bytes)
    expect(store.counters.inlined).toBe(1)
  })

  it('deletes a small chunk, and a file of the same chunk stored before inlining', async () => {
    const bytes = new Uint8Array(randomBytes(300))
    await store.close()
    const files = await FsBlobStore.open({ directory: root, inlineMaxBytes: 0 })
    const { cid } = await files.put(bytes)
    await files.close()
    store = await FsBlobStore.open({ directory: root, inlineMaxBytes: 1024 })
    // Stored before as a file: still read, and not written again as a small chunk... until put again.
    expect(await store.get(cid)).toEqual(bytes)
    await store.put(bytes)
    expect(await listAll(store)).toEqual([cid])
    await store.delete(cid)
    expect(await store.has(cid)).toBe(false)
    await expect(store.get(cid)).rejects.toMatchObject({ code: 'NoSuchChunk' })
    await expect(store.stat(cid)).rejects.toMatchObject({ code: 'NoSuchChunk' })
    expect(await listAll(store)).toEqual([])
  })

  it('quarantines a corrupt small chunk as a file and refuses it; a good copy put again serves', async () => {
    const bytes = new Uint8Array(randomBytes(700))
    const { cid } = await store.put(bytes)
    await overwriteChunkFile(store, cid, new Uint8Array(randomBytes(700)))
    await expect(store.get(cid)).rejects.toMatchObject({ code: 'CorruptChunk' })
    expect(await store.has(cid)).toBe(false)
    const kept = await readdir(join(root, 'quarantine'))
    expect(kept).toHaveLength(1)
    expect(kept[0]?.startsWith(`${cid}.`)).toBe(true)
    await store.putVerified(cid, bytes)
    expect(await store.get(cid)).toEqual(bytes)
    await overwriteChunkFile(store, cid, new Uint8Array(randomBytes(700)))
    // A read transaction sees the database as it was when it began: read again in a fresh one.
    await store.close()
    store = await FsBlobStore.open({ directory: root, inlineMaxBytes: 1024 })
    await expect(async () => {
      for await (const _ of store.stream(cid)) {
        // nothing: the damage shows before any piece
      }
    }).rejects.toMatchObject({ code: 'CorruptChunk' })
  })

  it('refuses an inlineMaxBytes that is not a whole number ≥ 0', async () => {
    for (const inlineMaxBytes of [-1, 1.5, Number.NaN])
      await expect(FsBlobStore.open({ directory: root, inlineMaxBytes })).rejects.toMatchObject({
        code: 'InvalidArgument',
      })
  })
})

describe('chunksOnDisk', () => {
  it('names the chunks of a store directory with their sizes, small and in files, while the store is open', async () => {
    const root = await mkdtemp(join(tmpdir(), 'aruna-fs-ondisk-'))
    try {
      expect(await chunksOnDisk(root)).toEqual(new Map())
      const store = await FsBlobStore.open({ directory: root, inlineMaxBytes: 100 })
      const small = await store.put(new Uint8Array(randomBytes(100)))
      const large = await store.put(new Uint8Array(randomBytes(101)))
      expect(await chunksOnDisk(root)).toEqual(
        new Map([
          [small.cid, 100],
          [large.cid, 101],
        ]),
      )
      await store.delete(small.cid)
      expect([...(await chunksOnDisk(root)).keys()]).toEqual([large.cid])
      await store.close()
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})

describe('chunksOnDisk with the small chunks in an object index environment', () => {
  it('names them from the index environment while both are open', async () => {
    const root = await mkdtemp(join(tmpdir(), 'aruna-fs-ondisk-index-'))
    try {
      const index = await LmdbObjectIndex.open(join(root, 'index'))
      const store = await FsBlobStore.open({
        directory: join(root, 'blobs'),
        smallChunks: index.smallChunkDatabase(),
      })
      const small = await store.put(new Uint8Array(randomBytes(64)))
      // One byte over the default limit: a file.
      const large = await store.put(new Uint8Array(randomBytes(DEFAULT_INLINE_MAX_BYTES + 1)))
      expect(await chunksOnDisk(join(root, 'blobs'), { index: join(root, 'index') })).toEqual(
        new Map([
          [small.cid, 64],
          [large.cid, DEFAULT_INLINE_MAX_BYTES + 1],
        ]),
      )
      // Without the index, only the files.
      expect([...(await chunksOnDisk(join(root, 'blobs'))).keys()]).toEqual([large.cid])
      await store.close()
      await index.close()
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})

describe('FsBlobStore deferred commits (PutOptions.deferCommit)', () => {
  let root: string
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'aruna-fs-deferred-'))
  })
  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  /** What became of a promise after one macrotask: its outcome then, or 'pending'. */
  async function outcome(promise: Promise<void>): Promise<string> {
    const state = promise.then(
      () => 'committed',
      () => 'failed',
    )
    return Promise.race([state, new Promise<string>((done) => setImmediate(() => done('pending')))])
  }

  it("hands over the commit of a PutObject's small chunk in the index's environment, done once the next index write is", async () => {
    const index = await LmdbObjectIndex.open(join(root, 'index'))
    let store = await FsBlobStore.open({
      directory: join(root, 'blobs'),
      smallChunks: index.smallChunkDatabase(),
    })
    await index.createBucket('bucket', { group: '01JAAAAAAAAAAAAAAAAAAAAAAA' })
    const bytes = new Uint8Array(randomBytes(100))
    const commits: Promise<void>[] = []
    const ref = await store.put(bytes, { withVersion: true, deferCommit: (c) => commits.push(c) })
    expect(commits).toHaveLength(1)
    const commit = commits[0] as Promise<void>
    await index.putVersion({
      bucket: 'bucket',
      key: 'k',
      versionId: formatVersionId({ wallTime: Date.UTC(2025, 0, 1), counter: 0, nodeId: 'n' }),
      createdAt: new Date().toISOString(),
      manifest: {
        chunks: [ref],
        size: ref.size,
        contentType: 'application/octet-stream',
        userMetadata: {},
        checksums: { md5: '0'.repeat(32) },
        etag: `"${'0'.repeat(32)}"`,
      },
    })
    expect(await outcome(commit)).toBe('committed')
    expect(Buffer.from(await store.get(ref.cid)).equals(bytes)).toBe(true)
    await store.close()
    await index.close()
    const reopened = await LmdbObjectIndex.open(join(root, 'index'))
    store = await FsBlobStore.open({
      directory: join(root, 'blobs'),
      smallChunks: reopened.smallChunkDatabase(),
    })
    expect(Buffer.from(await store.get(ref.cid)).equals(bytes)).toBe(true)
    await store.close()
    await reopened.close()
  })

  it('resolves only once durable otherwise: its own environment, no withVersion, a chunk in a file, a chunk stored already', async () => {
    const index = await LmdbObjectIndex.open(join(root, 'index'))
    const shared = await FsBlobStore.open({
      directory: join(root, 'shared'),
      smallChunks: index.smallChunkDatabase(),
    })
    const own = await FsBlobStore.open({ directory: join(root, 'own') })
    const commits: Promise<void>[] = []
    const deferCommit = (c: Promise<void>) => commits.push(c)
    const small = new Uint8Array(randomBytes(100))
    await own.put(small, { withVersion: true, deferCommit })
    await shared.put(new Uint8Array(randomBytes(100)), { deferCommit })
    await shared.put(new Uint8Array(randomBytes(DEFAULT_INLINE_MAX_BYTES + 1)), {
      withVersion: true,
      deferCommit,
    })
    await shared.put(small)
    await shared.put(small, { withVersion: true, deferCommit })
    expect(commits).toHaveLength(0)
    // And the one case that defers, for contrast.
    await shared.putHashed(
      { cid: chunkCidOf(new Uint8Array([1, 2, 3])), size: 3 },
      new Uint8Array([1, 2, 3]),
      {
        withVersion: true,
        deferCommit,
      },
    )
    expect(commits).toHaveLength(1)
    await commits[0]
    await shared.close()
    await own.close()
    await index.close()
  })
})

describe('FsBlobStore putHashed', () => {
  let root: string
  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it.each([
    ['a small chunk', 1000, 1024],
    ['a chunk in a file', 5000, 1024],
  ])(
    'stores %s under the id its caller computed, and refuses a size that does not match',
    async (_, size, inlineMaxBytes) => {
      root = await mkdtemp(join(tmpdir(), 'aruna-fs-hashed-'))
      const store = await FsBlobStore.open({ directory: root, inlineMaxBytes })
      const bytes = new Uint8Array(randomBytes(size))
      const ref = { cid: chunkCidOf(bytes), size }
      expect(await store.putHashed(ref, bytes)).toEqual(ref)
      expect(await store.get(ref.cid)).toEqual(bytes)
      await expect(store.putHashed({ ...ref, size: size + 1 }, bytes)).rejects.toMatchObject({
        code: 'InvalidArgument',
      })
      await expect(store.putHashed({ cid: 'not-a-cid', size }, bytes)).rejects.toMatchObject({
        code: 'InvalidCid',
      })
      await store.close()
    },
  )

  it("gives a file chunk's bytes back once they are written, whatever the outcome, and a small chunk's never", async () => {
    root = await mkdtemp(join(tmpdir(), 'aruna-fs-hashed-'))
    const store = await FsBlobStore.open({ directory: root, inlineMaxBytes: 1024 })
    let released = 0
    const release = () => {
      released++
    }
    const bytes = new Uint8Array(randomBytes(5000))
    const copy = bytes.slice()
    const ref = { cid: chunkCidOf(bytes), size: bytes.byteLength }
    const put = store.putHashed(ref, bytes, { release })
    expect(released).toBe(0)
    await put
    expect(released).toBe(1)
    // The caller may now reuse the memory: the stored chunk is what was written.
    bytes.fill(0)
    expect(Buffer.from(await store.get(ref.cid)).equals(Buffer.from(copy))).toBe(true)

    // A put that fails gives them back too.
    const other = new Uint8Array(randomBytes(5000))
    await expect(
      store.putHashed({ cid: chunkCidOf(other), size: other.byteLength }, other, {
        release,
        signal: AbortSignal.abort(),
      }),
    ).rejects.toMatchObject({ code: 'Aborted' })
    expect(released).toBe(2)

    // A small chunk goes to LMDB, which does not say when it is done with the bytes.
    const small = new Uint8Array(randomBytes(500))
    await store.putHashed({ cid: chunkCidOf(small), size: small.byteLength }, small, { release })
    expect(released).toBe(2)
    await store.close()
  })
})
