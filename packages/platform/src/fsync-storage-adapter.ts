/**
 * An automerge-repo storage adapter that survives crashes: every chunk is written to a temp file,
 * fsynced, renamed into place and its directory fsynced, so after a crash (or power loss) a chunk is
 * either whole or absent, never torn, and a `save` that resolved is on disk. automerge-repo's own
 * `NodeFSStorageAdapter` writes in place without fsync.
 *
 * This module imports nothing but Node built-ins, types and `durable-file`, so a plain Node process
 * (with type stripping) can load it: the crash test runs it in a child process it kills.
 */

import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Chunk, StorageAdapterInterface, StorageKey } from '@automerge/automerge-repo'
import { isErrorCode, openTempDirectory, syncDirectory, writeFileDurably } from './durable-file.js'

const MAGIC = 'AMCHUNK1'
const HEADER_AT = MAGIC.length + 4
/** Longest readable file or directory name; longer keys get a hashed name (their key is in the file). */
const MAX_NAME = 200

export interface FsyncStorageAdapterInit {
  /** The adapter's root; created if missing. One open adapter per directory at a time. */
  readonly directory: string
}

/** A chunk file's header: the full key (names may be hashed), an order, and the payload's digest. */
interface ChunkHeader {
  readonly key: string[]
  readonly seq: number
  readonly size: number
  readonly sha256: string
}

/** Thrown when a chunk file does not hold what its header promises (disk corruption, not a crash). */
export class CorruptChunkError extends Error {
  override readonly name = 'CorruptChunkError'
}

/**
 * Layout under the root: `chunks/<first key segment>/<rest of the key>` holds one file per key,
 * `tmp/` the writes in flight (removed by the next `open`). Names escape everything but `[a-z0-9_-]`
 * (upper case too, for case-insensitive filesystems), so `/`, `..` or NUL in a key cannot reach outside
 * its directory; a name that would grow past 200 characters is a SHA-256 of the segment(s) instead.
 * A file starts with a header naming its full key, a save sequence (so `loadRange` answers in save
 * order) and the payload's SHA-256, checked on every read.
 *
 * Calls on one key run in the order they were made; calls on different keys run concurrently.
 */
export class FsyncStorageAdapter implements StorageAdapterInterface {
  readonly directory: string
  readonly #chunks: string
  readonly #tmp: string
  readonly #knownDirs = new Set<string>()
  readonly #queues = new Map<string, Promise<unknown>>()
  #seq = 0
  #closed = false

  private constructor(directory: string) {
    this.directory = directory
    this.#chunks = join(directory, 'chunks')
    this.#tmp = join(directory, 'tmp')
  }

  /** Opens (or creates) the adapter at `init.directory` and removes what interrupted writes left. */
  static async open(init: FsyncStorageAdapterInit): Promise<FsyncStorageAdapter> {
    const adapter = new FsyncStorageAdapter(resolve(init.directory))
    await mkdir(adapter.#chunks, { recursive: true })
    await openTempDirectory(adapter.#tmp)
    await syncDirectory(adapter.directory)
    return adapter
  }

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    const { dir, file } = this.#locate(key)
    return this.#serial(join(dir, file), async () => (await readChunk(join(dir, file)))?.data)
  }

  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    const { dir, file } = this.#locate(key)
    if (this.#closed) return
    const seq = this.#nextSeq()
    await this.#serial(join(dir, file), async () => {
      await this.#ensureDir(dir)
      const header: ChunkHeader = { key: [...key], seq, size: data.byteLength, sha256: sha256(data) }
      await writeFileDurably(join(dir, file), encodeChunk(header, data), { tempDirectory: this.#tmp })
    })
  }

  async remove(key: StorageKey): Promise<void> {
    const { dir, file } = this.#locate(key)
    if (this.#closed) return
    await this.#serial(join(dir, file), () => removeFile(dir, file))
  }

  async loadRange(keyPrefix: StorageKey): Promise<Chunk[]> {
    const found = await this.#matching(keyPrefix)
    found.sort((a, b) => a.header.seq - b.header.seq || compare(a.path, b.path))
    return found.map(({ header, data }) => ({ key: header.key, data }))
  }

  async removeRange(keyPrefix: StorageKey): Promise<void> {
    if (this.#closed) return
    for (const { path, dir } of await this.#matching(keyPrefix)) {
      await this.#serial(path, () => removeFile(dir, path.slice(dir.length + 1)))
    }
  }

  /**
   * Waits for the calls in flight, then ignores further writes and removals (reads still work). A Repo
   * has no close of its own and may still try to save, say, a peer's sync state after its owner is done
   * with it; call this once the Repo's documents have been flushed.
   */
  async close(): Promise<void> {
    this.#closed = true
    while (this.#queues.size > 0) await Promise.all(this.#queues.values())
  }

  /** The chunks whose key starts with `prefix`: one directory when the prefix names its first segment. */
  async #matching(
    prefix: StorageKey,
  ): Promise<{ path: string; dir: string; header: ChunkHeader; data: Uint8Array }[]> {
    checkKey(prefix, true)
    const dirs =
      prefix.length === 0
        ? (await listDir(this.#chunks)).map((name) => join(this.#chunks, name))
        : [join(this.#chunks, segmentName(prefix[0] as string))]
    const found = []
    for (const dir of dirs) {
      for (const name of await listDir(dir)) {
        const path = join(dir, name)
        const chunk = await this.#serial(path, () => readChunk(path))
        if (chunk !== undefined && startsWith(chunk.header.key, prefix)) found.push({ path, dir, ...chunk })
      }
    }
    return found
  }

  #locate(key: StorageKey): { dir: string; file: string } {
    checkKey(key, false)
    const [first, ...rest] = key as [string, ...string[]]
    return { dir: join(this.#chunks, segmentName(first)), file: restName(rest) }
  }

  async #ensureDir(dir: string): Promise<void> {
    if (this.#knownDirs.has(dir)) return
    const created = await mkdir(dir, { recursive: true })
    // A new directory's own entry must be durable too, or the file in it can vanish with it.
    if (created !== undefined) await syncDirectory(this.#chunks)
    this.#knownDirs.add(dir)
  }

  #nextSeq(): number {
    this.#seq = Math.max(this.#seq + 1, Date.now() * 1000)
    return this.#seq
  }

  /** Runs `task` after every earlier task on `path` has settled. */
  #serial<T>(path: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(path) ?? Promise.resolve()
    const run = previous.then(task, task)
    const settled = run.then(
      () => undefined,
      () => undefined,
    )
    this.#queues.set(path, settled)
    void settled.then(() => {
      if (this.#queues.get(path) === settled) this.#queues.delete(path)
    })
    return run
  }
}

function checkKey(key: unknown, prefix: boolean): void {
  if (!Array.isArray(key) || key.some((segment) => typeof segment !== 'string')) {
    throw new TypeError('a storage key must be an array of strings')
  }
  if (!prefix && key.length === 0) throw new TypeError('a storage key must not be empty')
}

/** Escapes everything but `[a-z0-9_-]`: upper case as `^` + lower case, other bytes as `%XX`. */
function escapeSegment(segment: string): string {
  let out = ''
  for (const byte of Buffer.from(segment, 'utf8')) {
    const char = String.fromCharCode(byte)
    if (/[a-z0-9_-]/.test(char)) out += char
    else if (/[A-Z]/.test(char)) out += `^${char.toLowerCase()}`
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** `k` + the escaped segment; `h` + a hash when too long. Never `.`, `..` or a hidden name. */
function segmentName(segment: string): string {
  const name = `k${escapeSegment(segment)}`
  return name.length <= MAX_NAME ? name : `h${sha256(Buffer.from(segment, 'utf8'))}`
}

/** `c` + `+segment` per remaining segment (so `[]` and `['']` differ); `h` + a hash when too long. */
function restName(rest: readonly string[]): string {
  const name = `c${rest.map((segment) => `+${escapeSegment(segment)}`).join('')}`
  return name.length <= MAX_NAME ? name : `h${sha256(Buffer.from(JSON.stringify(rest), 'utf8'))}`
}

function startsWith(key: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= key.length && prefix.every((segment, i) => key[i] === segment)
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

function encodeChunk(header: ChunkHeader, data: Uint8Array): Uint8Array {
  const head = Buffer.from(JSON.stringify(header), 'utf8')
  const out = Buffer.alloc(HEADER_AT + head.length + data.byteLength)
  out.write(MAGIC, 0, 'latin1')
  out.writeUInt32BE(head.length, MAGIC.length)
  head.copy(out, HEADER_AT)
  out.set(data, HEADER_AT + head.length)
  return out
}

/** Reads and checks a chunk file; `undefined` when it does not exist. */
async function readChunk(path: string): Promise<{ header: ChunkHeader; data: Uint8Array } | undefined> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err) {
    if (isErrorCode(err, 'ENOENT')) return undefined
    throw err
  }
  const corrupt = (why: string) => new CorruptChunkError(`chunk file ${path} is corrupt: ${why}`)
  if (bytes.length < HEADER_AT || bytes.toString('latin1', 0, MAGIC.length) !== MAGIC) {
    throw corrupt('no chunk header')
  }
  const headerEnd = HEADER_AT + bytes.readUInt32BE(MAGIC.length)
  let header: ChunkHeader
  try {
    header = JSON.parse(bytes.toString('utf8', HEADER_AT, headerEnd)) as ChunkHeader
  } catch {
    throw corrupt('unreadable header')
  }
  if (!Array.isArray(header.key) || typeof header.seq !== 'number' || typeof header.sha256 !== 'string') {
    throw corrupt('malformed header')
  }
  const data = new Uint8Array(bytes.subarray(headerEnd))
  if (data.byteLength !== header.size || sha256(data) !== header.sha256) {
    throw corrupt('the payload does not match its digest')
  }
  return { header, data }
}

async function removeFile(dir: string, file: string): Promise<void> {
  try {
    await unlink(join(dir, file))
  } catch (err) {
    if (isErrorCode(err, 'ENOENT')) return
    throw err
  }
  await syncDirectory(dir)
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort()
  } catch (err) {
    if (isErrorCode(err, 'ENOENT')) return []
    throw err
  }
}
