import { randomBytes } from 'node:crypto'
import type { Stats } from 'node:fs'
import { type FileHandle, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { openTempDirectory, syncDirectory } from '@aruna/platform'
import { type Database, open as openLmdb, type RootDatabase } from 'lmdb'
import { ChunkHasher, checkChunkCid, chunkCidOf, corruptChunk } from './chunk-id.js'
import { DataError, throwIfAborted } from './errors.js'
import { GroupCommit } from './group-commit.js'
import { lmdbWrite } from './lmdb-errors.js'
import { checkNamedChunk } from './named-chunk.js'
import type {
  AbortOptions,
  BlobStore,
  ChunkRef,
  ChunkSource,
  ChunkStat,
  GetOptions,
  PutOptions,
} from './port.js'

/** Pieces read per step by `stream`. */
const STREAM_PIECE = 256 * 1024
const SHARD = /^[a-z2-7]{2}$/
/** Chunks up to this size are kept in the small-chunk database by default (`FsBlobStoreInit.inlineMaxBytes`). */
export const DEFAULT_INLINE_MAX_BYTES = 64 * 1024
/** The small-chunk database's directory under the store's root. */
const SMALL = 'small'
/** The name of the small-chunk database in an object index's environment (`LmdbObjectIndex.smallChunkDatabase`). */
export const SMALL_CHUNKS_DB = 'small-chunks'

export interface FsBlobStoreInit {
  /** The store's root; created if missing. One open store per directory at a time. */
  directory: string
  /**
   * Chunks of at most this many bytes are kept in the store's small-chunk database (LMDB, one
   * synced commit shared by the chunks written together) instead of a file each; 0 keeps every chunk
   * in a file. Default `DEFAULT_INLINE_MAX_BYTES` (64 KiB). Chunks already stored either way stay
   * readable when this changes.
   */
  inlineMaxBytes?: number
  /**
   * The database to keep small chunks in, in an LMDB environment the caller owns and keeps open (e.g.
   * `LmdbObjectIndex.smallChunkDatabase()`: chunks and key records then share commits, one fdatasync
   * pair for both). Default: an environment of the store's own in `small/`. Only with such a database
   * does the store take `PutOptions.deferCommit`: a small chunk's commit is then ordered before every
   * write the caller makes to that index afterwards.
   */
  smallChunks?: SmallChunkDatabase
}

/** An LMDB database of small chunks: chunk id → bytes (lmdb-js, binary values). */
export type SmallChunkDatabase = Database<Buffer, string>

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
  /** Chunks written to the small-chunk database. */
  inlined: number
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
 * Layout under the root: `chunks/<shard>/<cid>` holds the chunks, `small/` (an LMDB environment) the
 * chunks of at most `inlineMaxBytes`, `tmp/` the writes in flight and `quarantine/` the copies found
 * corrupt. The shard is the next-to-last two characters of the CID
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
 *
 * A small chunk costs a file, a file sync and a directory sync that way: it goes to the small-chunk
 * database instead, where the chunks written in one event turn share one LMDB commit (fdatasynced
 * before any of their writes resolves: `overlappingSync` off), and a read is a lookup in a memory map.
 * Reads, `has`, `stat`, `delete` and `list` look in both places, so a store keeps working when
 * `inlineMaxBytes` changes between opens. A corrupt small chunk is quarantined as a file like any
 * other. `close()` closes the database. With the object index's own database (`FsBlobStoreInit.smallChunks`)
 * a PutObject's small chunk need not wait for its commit (`PutOptions.deferCommit`): LMDB commits in
 * order, so the version record written next commits with it or after it, and the PUT takes one commit.
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
  readonly #counters = { placed: 0, directorySyncs: 0, shardSyncs: 0, inlined: 0 }
  readonly #inlineMax: number
  /** The store's own small-chunk environment (none when the caller gave a database). */
  readonly #smallRoot: RootDatabase<Buffer, string> | undefined
  readonly #small: SmallChunkDatabase
  /** Small chunks whose commit is under way, by id: a second write of one waits for it. */
  readonly #inlining = new Map<string, Promise<boolean>>()
  /** Small chunks share the object index's environment (`FsBlobStoreInit.smallChunks`): commits may be deferred. */
  readonly #sharesIndexCommits: boolean

  private constructor(
    directory: string,
    inlineMax: number,
    small: SmallChunkDatabase,
    ownRoot: RootDatabase<Buffer, string> | undefined,
  ) {
    this.directory = directory
    this.#chunks = join(directory, 'chunks')
    this.#tmp = join(directory, 'tmp')
    this.#quarantine = join(directory, 'quarantine')
    this.#inlineMax = inlineMax
    this.#smallRoot = ownRoot
    this.#small = small
    this.#sharesIndexCommits = ownRoot === undefined
  }

  get counters(): FsBlobStoreCounters {
    return { ...this.#counters, batches: this.#placements.batches }
  }

  /** Opens (or creates) the store at `init.directory` and removes temp files an earlier crash left. */
  static async open(init: FsBlobStoreInit): Promise<FsBlobStore> {
    const inlineMax = init.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES
    if (!Number.isSafeInteger(inlineMax) || inlineMax < 0) {
      throw new DataError('InvalidArgument', `inlineMaxBytes must be a whole number ≥ 0, not ${inlineMax}`)
    }
    const directory = resolve(init.directory)
    const chunks = join(directory, 'chunks')
    const quarantine = join(directory, 'quarantine')
    for (const dir of [chunks, quarantine]) await mkdir(dir, { recursive: true })
    await openTempDirectory(join(directory, 'tmp'))
    if (init.smallChunks !== undefined) {
      await syncDirectory(directory)
      return new FsBlobStore(directory, inlineMax, init.smallChunks, undefined)
    }
    const small = join(directory, SMALL)
    await mkdir(small, { recursive: true })
    await syncDirectory(directory)
    const smallRoot = openLmdb<Buffer, string>({
      path: small,
      noSubdir: false,
      encoding: 'binary',
      // Durable when a write resolves: lmdb-js resolves before the flush with overlappingSync on.
      overlappingSync: false,
      noSync: false,
      noMetaSync: false,
    })
    return new FsBlobStore(directory, inlineMax, smallRoot, smallRoot)
  }

  /** Waits for the small-chunk environment's pending commits and closes it (its own only). */
  async close(): Promise<void> {
    await this.#smallRoot?.close()
  }

  /** Where the chunk's file is (or would be). `InvalidCid` for anything but a chunk id. */
  chunkPath(cid: string): string {
    checkChunkCid(cid)
    return join(this.#chunks, cid.slice(-3, -1), cid)
  }

  async put(source: ChunkSource, options: PutOptions = {}): Promise<ChunkRef> {
    return this.#write(source, undefined, options)
  }

  async putVerified(cid: string, source: ChunkSource, options: PutOptions = {}): Promise<ChunkRef> {
    checkChunkCid(cid)
    return this.#write(source, cid, options)
  }

  async putHashed(ref: ChunkRef, bytes: Uint8Array, options: PutOptions = {}): Promise<ChunkRef> {
    checkNamedChunk(ref, bytes)
    const { release, ...rest } = options
    // A chunk written to a file is read no more once the write settled (every write to the file is
    // awaited, an abort included); a small chunk goes to LMDB, which is not asked when it is done.
    const written = this.#write(bytes, ref.cid, rest, true)
    if (release === undefined || bytes.byteLength <= this.#inlineMax) return written
    try {
      return await written
    } finally {
      release()
    }
  }

  async get(cid: string, options: GetOptions = {}): Promise<Uint8Array> {
    const small = await this.#smallChunk(cid, options.signal)
    if (small !== undefined) return small
    const handle = await this.#openChunk(cid, options.signal)
    try {
      let bytes: Uint8Array
      try {
        bytes = await readChunkFile(handle, options)
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
    const small = await this.#smallChunk(cid, options.signal)
    if (small !== undefined) {
      yield small
      return
    }
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
    if (this.#small.doesExist(cid)) return true
    return (await statIfExists(path)) !== undefined
  }

  async stat(cid: string, options: AbortOptions = {}): Promise<ChunkStat> {
    const path = this.chunkPath(cid)
    throwIfAborted(options.signal)
    const small = this.#small.getBinary(cid)
    if (small !== undefined) return { size: small.byteLength }
    const stats = await statIfExists(path)
    if (stats === undefined) throw noSuchChunk(cid)
    return { size: stats.size }
  }

  async delete(cid: string, options: AbortOptions = {}): Promise<void> {
    const path = this.chunkPath(cid)
    throwIfAborted(options.signal)
    await this.#inlining.get(cid)
    await lmdbWrite(this.#small.remove(cid))
    await rm(path, { force: true })
  }

  async *list(options: AbortOptions = {}): AsyncGenerator<string> {
    // A snapshot of the small chunks' ids first: a file of the same chunk (stored before a change of
    // `inlineMaxBytes`) is then not named twice.
    const small = new Set<string>()
    for (const cid of this.#small.getKeys()) if (typeof cid === 'string' && isChunkId(cid)) small.add(cid)
    for (const cid of small) {
      throwIfAborted(options.signal)
      yield cid
    }
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
        if (name.slice(-3, -1) === shard && !small.has(name) && isChunkId(name)) yield name
      }
    }
  }

  /** Writes a chunk; `hashed`: `expected` is the id of `source` (whole bytes), computed by the caller. */
  async #write(
    source: ChunkSource,
    expected: string | undefined,
    options: PutOptions,
    hashed = false,
  ): Promise<ChunkRef> {
    const signal = options.signal
    throwIfAborted(signal)
    let known: ChunkRef | undefined
    /** A streamed source's first pieces, read to tell whether it is small. */
    let head: Uint8Array[] = []
    let rest: AsyncIterator<Uint8Array> | undefined
    if (!(source instanceof Uint8Array)) {
      rest = source[Symbol.asyncIterator]()
      let size = 0
      for (;;) {
        const next = await rest.next()
        throwIfAborted(signal)
        if (next.done === true) {
          rest = undefined
          break
        }
        head.push(next.value)
        size += next.value.byteLength
        if (size > this.#inlineMax) break
      }
      if (rest === undefined) source = head.length === 1 ? (head[0] as Uint8Array) : Buffer.concat(head, size)
    }
    if (source instanceof Uint8Array) {
      // Whole bytes can be named before touching the disk, which makes re-putting a chunk cheap.
      known = {
        cid: hashed && expected !== undefined ? expected : chunkCidOf(source),
        size: source.byteLength,
      }
      if (expected !== undefined && known.cid !== expected) throw corruptChunk(expected, known.cid)
      if (this.#inlineMax > 0 && known.size <= this.#inlineMax) {
        const defer =
          this.#sharesIndexCommits && options.withVersion === true ? options.deferCommit : undefined
        await this.#putSmall(known.cid, source, defer)
        return known
      }
      if (await this.#placedDurably(this.chunkPath(known.cid))) return known
      head = [source]
    }
    const temp = join(this.#tmp, `${this.#tempPrefix}-${this.#tempCount++}.tmp`)
    const handle = await open(temp, 'wx', 0o444)
    let submitted = false
    try {
      const hasher = known === undefined ? new ChunkHasher() : undefined
      const pieces = rest === undefined ? head : chain(head, rest)
      for await (const piece of pieces) {
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
   * Stores a small chunk in the small-chunk database, durably when it resolves; with `defer`, once the
   * write is queued, handing `defer` the promise of its commit (`PutOptions.deferCommit`). A chunk
   * already there (or being committed by another write) is not written again.
   */
  async #putSmall(cid: string, bytes: Uint8Array, defer?: (committed: Promise<void>) => void): Promise<void> {
    const pending = this.#inlining.get(cid)
    if (pending !== undefined && (await pending)) return
    if (this.#small.doesExist(cid)) return
    const put = lmdbWrite(this.#small.put(cid, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)))
    const committing = put.then(
      () => true,
      () => false,
    )
    this.#inlining.set(cid, committing)
    const committed = put
      .then(() => {
        this.#counters.inlined++
      })
      .finally(() => {
        if (this.#inlining.get(cid) === committing) this.#inlining.delete(cid)
      })
    if (defer === undefined) return committed
    // The caller reads the outcome; this only keeps a failure from going unhandled meanwhile.
    committed.catch(() => {})
    defer(committed)
  }

  /**
   * The small chunk `cid`, verified; `undefined` when it is not in the small-chunk database. A copy
   * that does not hash to its id is quarantined (moved to `quarantine/` as a file) and refused.
   */
  async #smallChunk(cid: string, signal: AbortSignal | undefined): Promise<Uint8Array | undefined> {
    checkChunkCid(cid)
    throwIfAborted(signal)
    const stored = this.#small.getBinary(cid)
    if (stored === undefined) return undefined
    const bytes = new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength)
    const actual = chunkCidOf(bytes)
    if (actual === cid) return bytes
    await this.#quarantineSmall(cid, stored)
    throw corruptChunk(cid, actual)
  }

  /** Moves a corrupt small chunk out of service, unless repair replaced it since it was read. */
  async #quarantineSmall(cid: string, read: Buffer): Promise<void> {
    const kept = join(this.#quarantine, `${cid}.${Date.now()}.${randomBytes(4).toString('hex')}`)
    const removed = await lmdbWrite(
      this.#small.transaction(() => {
        const now = this.#small.getBinary(cid)
        if (now === undefined || !now.equals(read)) return false
        void this.#small.remove(cid)
        return true
      }),
    )
    if (removed) await writeFile(kept, read)
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

/**
 * The chunks a store's directory holds, with their sizes, read without opening the store: its
 * small-chunk database read-only (LMDB lets a reader in another process look while the store writes),
 * and the one in the object index's environment at `options.index` when the store keeps its small
 * chunks there, and its chunk files listed. For tools and tests that look at a running node's disk.
 */
export async function chunksOnDisk(
  directory: string,
  options: { readonly index?: string } = {},
): Promise<Map<string, number>> {
  const found = new Map<string, number>()
  const small = join(resolve(directory), SMALL)
  for (const [path, name] of [
    [small, undefined],
    ...(options.index === undefined ? [] : [[resolve(options.index), SMALL_CHUNKS_DB] as const]),
  ] as const) {
    if ((await statIfExists(join(path, 'data.mdb'))) === undefined) continue
    const root = openLmdb<Buffer, string>({
      path,
      noSubdir: false,
      encoding: 'binary',
      readOnly: true,
      ...(name === undefined ? {} : { maxDbs: 16 }),
    })
    try {
      const db = name === undefined ? root : root.openDB<Buffer, string>(name, { encoding: 'binary' })
      for (const { key, value } of db.getRange())
        if (typeof key === 'string' && isChunkId(key)) found.set(key, value.byteLength)
    } finally {
      await root.close()
    }
  }
  const chunks = join(resolve(directory), 'chunks')
  for (const shard of await readdir(chunks).catch(() => [] as string[])) {
    if (!SHARD.test(shard)) continue
    for (const name of await readdir(join(chunks, shard)).catch(() => [] as string[])) {
      if (name.slice(-3, -1) !== shard || found.has(name) || !isChunkId(name)) continue
      const stats = await statIfExists(join(chunks, shard, name))
      if (stats !== undefined) found.set(name, stats.size)
    }
  }
  return found
}

/** `head`'s pieces, then the rest of an iteration already begun. */
async function* chain(
  head: readonly Uint8Array[],
  rest: AsyncIterator<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  yield* head
  for (;;) {
    const next = await rest.next()
    if (next.done === true) return
    yield next.value
  }
}

/**
 * A chunk file's bytes: read into `options.into` when the file fits (a view of it), else into a buffer
 * of their own. Resolves only once no read into `into` is under way any more.
 */
async function readChunkFile(handle: FileHandle, options: GetOptions): Promise<Uint8Array> {
  const into = options.into
  if (into !== undefined) {
    const { size } = await handle.stat()
    if (size <= into.byteLength) {
      let filled = 0
      while (filled < size) {
        throwIfAborted(options.signal)
        const { bytesRead } = await handle.read(into, filled, size - filled, filled)
        if (bytesRead === 0) break
        filled += bytesRead
      }
      // Shorter than it was a moment ago: the hash check says what is wrong with it.
      return into.subarray(0, filled)
    }
  }
  const buffer = await handle.readFile({ signal: options.signal })
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
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
    checkChunkCid(name)
    return true
  } catch {
    return false
  }
}

function noSuchChunk(cid: string): DataError {
  return new DataError('NoSuchChunk', `no chunk ${cid}`)
}
