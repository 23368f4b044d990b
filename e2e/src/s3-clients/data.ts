/**
 * Deterministic test content: an AES-256-CTR keystream (key = sha256 of a seed), so any size can be
 * produced again byte for byte, fast, as a stream, without holding it in memory.
 */
import { createCipheriv, createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

export const KiB = 1024
export const MiB = 1024 * KiB

const BLOCK = MiB

/** The bytes of the content named `seed`, `size` long, in blocks of at most 1 MiB. */
export async function* deterministicBytes(seed: string, size: number): AsyncGenerator<Buffer> {
  const key = createHash('sha256').update(seed).digest()
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
  const zeros = Buffer.alloc(BLOCK)
  let left = size
  while (left > 0) {
    const n = Math.min(left, BLOCK)
    yield cipher.update(n === BLOCK ? zeros : zeros.subarray(0, n))
    left -= n
  }
}

/** A readable stream of the content named `seed`. */
export function deterministicStream(seed: string, size: number): Readable {
  return Readable.from(deterministicBytes(seed, size), { objectMode: false, highWaterMark: 2 * BLOCK })
}

export interface Digests {
  readonly size: number
  readonly sha256: string
  readonly md5: string
}

/** Hashes a stream as it passes (sha256 and md5), without keeping it. */
export class Hasher {
  readonly #sha256 = createHash('sha256')
  readonly #md5 = createHash('md5')
  #size = 0

  update(chunk: Uint8Array): void {
    this.#sha256.update(chunk)
    this.#md5.update(chunk)
    this.#size += chunk.length
  }

  digests(): Digests {
    return { size: this.#size, sha256: this.#sha256.digest('hex'), md5: this.#md5.digest('hex') }
  }
}

/** Writes the content named `seed` to `path` and returns its digests. */
export async function writeDeterministicFile(path: string, seed: string, size: number): Promise<Digests> {
  const hasher = new Hasher()
  await pipeline(
    deterministicBytes(seed, size),
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        hasher.update(chunk)
        yield chunk
      }
    },
    createWriteStream(path),
  )
  return hasher.digests()
}

/** sha256 and md5 of anything iterable, streamed. */
export async function digestOf(source: AsyncIterable<Uint8Array | string>): Promise<Digests> {
  const hasher = new Hasher()
  for await (const chunk of source) hasher.update(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return hasher.digests()
}

export function digestOfFile(path: string): Promise<Digests> {
  return digestOf(createReadStream(path))
}

/** The bytes `[start, end]` (inclusive) of a file. */
export async function readFileRange(path: string, start: number, end: number): Promise<Buffer> {
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(end - start + 1)
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start)
    return buffer.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}
