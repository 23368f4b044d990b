import { randomBytes } from 'node:crypto'
import type { Stats } from 'node:fs'
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { openTempDirectory, syncDirectory } from '@aruna/platform'
import { ChunkHasher, chunkCidOf, corruptChunk, parseChunkCid } from './chunk-id.js'
import { DataError, throwIfAborted } from './errors.js'
import { GroupCommit } from './group-commit.js'
import type { AbortOptions, BlobStore, ChunkRef, ChunkSource, ChunkStat } from './port.js'

/** Pieces read per step by `stream`. */
const STREAM_PIECE = 256 * 1024
const SHARD = /^[a-z2-7]{2}$/

export interface FsBlobStoreInit {
  /** The store's root; created if missing. One open store per directory at a time. */
  directory: string
}

/** What the store's writes cost in syncs, since it was opened. */
export interface FsBlobStoreCounters {
  /** Chunk files moved into place. */
  placed: number
  /** Batches of placements (group commits). */
  batches: number
  /** fsyncs of shard directories after renames: at most one per shard per batch. */
  directorySyncs: number
  /** fsyncs of `chunks/` after new shard directories were made: at most one per batch of them. */
  shardSyncs: number
}

/** A chunk written to its temp file (not yet synced; `handle` still open) and where it goes. */
interface Placement {
  readonly handle: FileHandle
  readonly temp: string
  readonly target: string
}

/**
 * A `BlobStore` on the local filesystem.
 *
 * Layout under the root: `chunks/<shard>/<cid>` holds the chunks, `tmp/` the writes in flight and
 * `quarantine/` the copies found corrupt. The shard is the next-to-last two characters of the CID
 * (as IPFS's flatfs does): the leading `bafkrei` is the same for every chunk, the last character
 * carries only 3 bits, and the two before it spread chunks evenly over 1024 directories.
 *
 * A write goes to a fresh temp file in `tmp/` (same filesystem), is verified, fdatasynced, renamed into
 * place and the shard directory fsynced, and only then resolves: after a crash a chunk is either whole
 * or absent, and whatever was left in `tmp/` is removed by the next `open`. Concurrent writes share
 * that work in a group commit: the chunks written while a batch is being placed go together in the
 * next one (each file synced, then all renamed, then each shard directory synced once for all its new
 * entries), and each write is answered with its own outcome. Concurrent writers of one chunk each
 * write their own temp file; the rename is atomic and the contents are identical, so either wins.
 */
export class FsBlobStore implements BlobStore {
  readonly directory: string
  readonly #chunks: string
  readonly #tmp: string
  readonly #quarantine: string
  readonly #shards = new Set<string>()
  readonly #placements = new GroupCommit<Placement, void>({ commit: (batch) => this.#place(batch) })
  /** Chunk files being placed, by path: their placement, to wait for before counting them as stored. */
  readonly #placing = new Map<string, Promise<void>>()
  readonly #newShards = new GroupCommit<string, void>({ commit: (batch) => this.#makeShards(batch) })
  /** Temp names: a prefix of this instance and a counter (no random bytes per write). */
  readonly #tempPrefix = randomBytes(6).toString('hex')
  #tempCount = 0
  readonly #counters = { placed: 0, directorySyncs: 0, shardSyncs: 0 }

  private constructor(directory: string) {
    this.directory = directory
    this.#chunks = join(directory, 'chunks')
    this.#tmp = join(directory, 'tmp')
    this.#quarantine = join(directory, 'quarantine')
  }

  get counters(): FsBlobStoreCounters {
    return { ...this.#counters, batches: this.#placements.batches }
  }

  /** Opens (or creates) the store at `init.directory` and removes temp files an earlier crash left. */
  static async open(init: FsBlobStoreInit): Promise<FsBlobStore> {
    const store = new FsBlobStore(resolve(init.directory))
    for (const dir of [store.#chunks, store.#quarantine]) await mkdir(dir, { recursive: true })
    await openTempDirectory(store.#tmp)
    await syncDirectory(store.directory)
    return store
  }

  /** Where the chunk's file is (or would be). `InvalidCid` for anything but a chunk id. */
  chunkPath(cid: string): string {
    parseChunkCid(cid)
    return join(this.#chunks, cid.slice(-3, -1), cid)
  }

  async put(source: ChunkSource, options: AbortOptions = {}): Promise<ChunkRef> {
    return this.#write(source, undefined, options.signal)
  }

  async putVerified(cid: string, source: ChunkSource, options: AbortOptions = {}): Promise<ChunkRef> {
    parseChunkCid(cid)
    return this.#write(source, cid, options.signal)
  }

  async get(cid: string, options: AbortOptions = {}): Promise<Uint8Array> {
    const handle = await this.#openChunk(cid, options.signal)
    try {
      let bytes: Uint8Array
      try {
        const buffer = await handle.readFile({ signal: options.signal })
        bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
      } catch (err) {
        throwIfAborted(options.signal)
        throw err
      }
      const actual = chunkCidOf(bytes)
      if (actual !== cid) {
        await this.#quarantineCopy(cid, await handle.stat())
        throw corruptChunk(cid, actual)
      }
      return bytes
    } finally {
      await handle.close()
    }
  }

  async *stream(cid: string, options: AbortOptions = {}): AsyncGenerator<Uint8Array> {
    const handle = await this.#openChunk(cid, options.signal)
    try {
      const hasher = new ChunkHasher()
      for (;;) {
        throwIfAborted(options.signal)
        const piece = new Uint8Array(STREAM_PIECE)
        const { bytesRead } = await handle.read(piece, 0, STREAM_PIECE, null)
        if (bytesRead === 0) break
        const filled = piece.subarray(0, bytesRead)
        hasher.update(filled)
        yield filled
      }
      const actual = hasher.cid()
      if (actual !== cid) {
        await this.#quarantineCopy(cid, await handle.stat())
        throw corruptChunk(cid, actual)
      }
    } finally {
      await handle.close()
    }
  }

  async has(cid: string, options: AbortOptions = {}): Promise<boolean> {
    const path = this.chunkPath(cid)
    throwIfAborted(options.signal)
    return (await statIfExists(path)) !== undefined
  }

  async stat(cid: string, options: AbortOptions = {}): Promise<ChunkStat> {
    const path = this.chunkPath(cid)
    throwIfAborted(options.signal)
    const stats = await statIfExists(path)
    if (stats === undefined) throw noSuchChunk(cid)
    return { size: stats.size }
  }

  async delete(cid: string, options: AbortOptions = {}): Promise<void> {
    const path = this.chunkPath(cid)
    throwIfAborted(options.signal)
    await rm(path, { force: true })
  }

  async *list(options: AbortOptions = {}): AsyncGenerator<string> {
    for (const shard of await readdir(this.#chunks)) {
      if (!SHARD.test(shard)) continue
      let names: string[]
      try {
        names = await readdir(join(this.#chunks, shard))
      } catch (err) {
        if (isMissing(err)) continue
        throw err
      }
      for (const name of names) {
        throwIfAborted(options.signal)
        if (name.slice(-3, -1) === shard && isChunkId(name)) yield name
      }
    }
  }

  async #write(source: ChunkSource, expected: string | undefined, signal?: AbortSignal): Promise<ChunkRef> {
    throwIfAborted(signal)
    let known: ChunkRef | undefined
    if (source instanceof Uint8Array) {
      // Whole bytes can be named before touching the disk, which makes re-putting a chunk cheap.
      known = { cid: chunkCidOf(source), size: source.byteLength }
      if (expected !== undefined && known.cid !== expected) throw corruptChunk(expected, known.cid)
      if (await this.#placedDurably(this.chunkPath(known.cid))) return known
    }
    const temp = join(this.#tmp, `${this.#tempPrefix}-${this.#tempCount++}.tmp`)
    const handle = await open(temp, 'wx', 0o444)
    let submitted = false
    try {
      const hasher = known === undefined ? new ChunkHasher() : undefined
      for await (const piece of source instanceof Uint8Array ? [source] : source) {
        throwIfAborted(signal)
        hasher?.update(piece)
        await writeAll(handle, piece)
      }
      const ref = known ?? { cid: hasher!.cid(), size: hasher!.size }
      if (expected !== undefined && ref.cid !== expected) throw corruptChunk(expected, ref.cid)
      const target = this.chunkPath(ref.cid)
      // A streamed chunk is named only now: one already in place needs no second copy.
      if (known !== undefined || !(await this.#placedDurably(target))) {
        await this.#ensureShard(dirname(target))
        throwIfAborted(signal)
        submitted = true
        const placing = this.#placements.submit({ handle, temp, target })
        this.#placing.set(target, placing)
        try {
          await placing
        } finally {
          if (this.#placing.get(target) === placing) this.#placing.delete(target)
        }
      }
      return ref
    } finally {
      if (!submitted) {
        try {
          await handle.close()
        } finally {
          await rm(temp, { force: true })
        }
      }
    }
  }

  /**
   * Places a batch of written chunks durably: every temp file fdatasynced (side by side), then each
   * synced one renamed into place, then each shard directory that got a new entry fsynced once. A
   * chunk's outcome is its own: a failed sync or rename fails that chunk only (and removes its temp
   * file), a failed directory sync the chunks renamed into that directory.
   */
  async #place(batch: readonly Placement[]): Promise<PromiseSettledResult<void>[]> {
    const renamed = await Promise.allSettled(
      batch.map(async ({ handle, temp, target }) => {
        try {
          try {
            await handle.datasync()
          } finally {
            await handle.close()
          }
          await rename(temp, target)
        } catch (err) {
          await rm(temp, { force: true })
          throw err
        }
      }),
    )
    const directories = new Map<string, Promise<void>>()
    batch.forEach(({ target }, i) => {
      if (renamed[i]?.status !== 'fulfilled') return
      const directory = dirname(target)
      if (!directories.has(directory)) directories.set(directory, syncDirectory(directory))
    })
    this.#counters.directorySyncs += directories.size
    return Promise.allSettled(
      batch.map(async ({ target }, i) => {
        const outcome = renamed[i] as PromiseSettledResult<void>
        if (outcome.status === 'rejected') throw outcome.reason
        await directories.get(dirname(target))
        this.#counters.placed++
      }),
    )
  }

  /**
   * Whether the chunk file at `target` is in place and durable. A file another write of the same chunk
   * has renamed into place is not durable until that write's batch has synced its directory: wait for
   * it (and if it failed, say no, so that this write places its own copy).
   */
  async #placedDurably(target: string): Promise<boolean> {
    const placing = this.#placing.get(target)
    if (placing !== undefined)
      return placing.then(
        () => true,
        () => false,
      )
    return (await statIfExists(target)) !== undefined
  }

  async #ensureShard(dir: string): Promise<void> {
    if (this.#shards.has(dir)) return
    await this.#newShards.submit(dir)
    this.#shards.add(dir)
  }

  /**
   * Creates a batch of shard directories. A new shard directory's own entry must reach the disk too, or
   * a crash could lose it with the chunks in it: one fsync of `chunks/` covers every shard made here.
   */
  async #makeShards(batch: readonly string[]): Promise<PromiseSettledResult<void>[]> {
    const made = await Promise.allSettled(batch.map((dir) => mkdir(dir, { recursive: true })))
    if (made.some((outcome) => outcome.status === 'fulfilled' && outcome.value !== undefined)) {
      this.#counters.shardSyncs++
      const synced = await Promise.allSettled([syncDirectory(this.#chunks)])
      if (synced[0]?.status === 'rejected')
        return made.map((outcome) =>
          outcome.status === 'rejected' ? outcome : (synced[0] as PromiseRejectedResult),
        )
    }
    return made.map((outcome) =>
      outcome.status === 'rejected' ? outcome : { status: 'fulfilled', value: undefined },
    )
  }

  async #openChunk(cid: string, signal: AbortSignal | undefined): Promise<FileHandle> {
    const path = this.chunkPath(cid)
    throwIfAborted(signal)
    try {
      return await open(path, 'r')
    } catch (err) {
      if (isMissing(err)) throw noSuchChunk(cid)
      throw err
    }
  }

  /**
   * Moves a corrupt copy out of service, keeping it for inspection. It moves the file only if it is
   * still the one that was read, so a good copy that repair wrote in the meantime stays in place.
   */
  async #quarantineCopy(cid: string, read: Stats): Promise<void> {
    const path = this.chunkPath(cid)
    const now = await statIfExists(path)
    if (now === undefined || now.ino !== read.ino || now.dev !== read.dev) return
    try {
      await rename(path, join(this.#quarantine, `${cid}.${Date.now()}.${randomBytes(4).toString('hex')}`))
    } catch (err) {
      if (!isMissing(err)) throw err
    }
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset)
    offset += bytesWritten
  }
}

async function statIfExists(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path)
  } catch (err) {
    if (isMissing(err)) return undefined
    throw err
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

function isChunkId(name: string): boolean {
  try {
    parseChunkCid(name)
    return true
  } catch {
    return false
  }
}

function noSuchChunk(cid: string): DataError {
  return new DataError('NoSuchChunk', `no chunk ${cid}`)
}
