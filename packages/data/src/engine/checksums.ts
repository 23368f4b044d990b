import { createHash, type Hash } from 'node:crypto'
import { crc32 as zlibCrc32 } from 'node:zlib'
import { DataError } from '../errors.js'
import type { Checksums } from '../port.js'

/** The S3 flexible checksums this node computes (`x-amz-checksum-<name lower-cased>`). */
export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'SHA1' | 'SHA256'

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'SHA1', 'SHA256']

/** The `Checksums` field that holds an algorithm's value. */
export type ChecksumField = 'crc32' | 'crc32c' | 'sha1' | 'sha256'

export function checksumField(algorithm: ChecksumAlgorithm): ChecksumField {
  return algorithm.toLowerCase() as ChecksumField
}

/** Reads an algorithm name as S3 headers spell it (any case); `InvalidRequest` for anything else. */
export function parseChecksumAlgorithm(value: string): ChecksumAlgorithm {
  const upper = value.trim().toUpperCase()
  if ((CHECKSUM_ALGORITHMS as readonly string[]).includes(upper)) return upper as ChecksumAlgorithm
  throw new DataError(
    'InvalidRequest',
    `unsupported checksum algorithm ${JSON.stringify(value).slice(0, 40)}`,
  )
}

/** Raw digest lengths, used to check that a client's base64 value can be a checksum at all. */
const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, SHA1: 20, SHA256: 32 }

/**
 * Decodes a base64 checksum value as a client sends it; `InvalidDigest` when it is not base64 of the
 * algorithm's digest length (a malformed value is the client's mistake, not a mismatch).
 */
export function decodeChecksum(algorithm: ChecksumAlgorithm, value: string): Buffer {
  const bytes = /^[A-Za-z0-9+/]*={0,2}$/.test(value) ? Buffer.from(value, 'base64') : Buffer.alloc(0)
  if (bytes.byteLength !== DIGEST_BYTES[algorithm] || bytes.toString('base64') !== value) {
    throw new DataError('InvalidDigest', `the ${algorithm} checksum is not a valid base64 digest`)
  }
  return bytes
}

// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-8: eight 256-entry tables let the
// loop consume 8 bytes per step. Node has no CRC32C of its own, and one table costs 8 KiB.
const CASTAGNOLI = 0x82f63b78
const TABLES = buildTables(CASTAGNOLI)

function buildTables(polynomial: number): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256))
  const first = tables[0]!
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ polynomial : c >>> 1
    first[n] = c >>> 0
  }
  for (let n = 0; n < 256; n++) {
    for (let t = 1; t < 8; t++) {
      const previous = tables[t - 1]![n]!
      tables[t]![n] = ((previous >>> 8) ^ first[previous & 0xff]!) >>> 0
    }
  }
  return tables
}

/** Continues a CRC32C over `bytes` from `crc` (0 to start); returns the unsigned 32-bit value. */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ]
  let c = ~crc >>> 0
  let i = 0
  const end8 = bytes.byteLength - (bytes.byteLength % 8)
  while (i < end8) {
    const low = (c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0
    c =
      t7[low & 0xff]! ^
      t6[(low >>> 8) & 0xff]! ^
      t5[(low >>> 16) & 0xff]! ^
      t4[low >>> 24]! ^
      t3[bytes[i + 4]!]! ^
      t2[bytes[i + 5]!]! ^
      t1[bytes[i + 6]!]! ^
      t0[bytes[i + 7]!]!
    i += 8
  }
  while (i < bytes.byteLength) c = t0[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}

/** Continues a CRC32 (IEEE, as zip and S3 use it) over `bytes`; Node's zlib does the work. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  return zlibCrc32(bytes, crc)
}

function uint32Bytes(value: number): Buffer {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(value >>> 0)
  return bytes
}

/** One algorithm's running state. */
interface Running {
  update(piece: Uint8Array): void
  digest(): Buffer
}

function running(algorithm: ChecksumAlgorithm): Running {
  switch (algorithm) {
    case 'CRC32':
      return crcRunning(crc32)
    case 'CRC32C':
      return crcRunning(crc32c)
    case 'SHA1':
    case 'SHA256':
      return hashRunning(createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256'))
  }
}

function crcRunning(crc: (bytes: Uint8Array, previous: number) => number): Running {
  let value = 0
  return {
    update(piece) {
      value = crc(piece, value)
    },
    digest: () => uint32Bytes(value),
  }
}

function hashRunning(hash: Hash): Running {
  return { update: (piece) => void hash.update(piece), digest: () => hash.digest() }
}

/** The digests of one pass over some content. */
export interface ContentDigests {
  /** Hex MD5 (the S3 ETag of a single-part upload). */
  md5: string
  /** Hex SHA-256 of the whole content, when asked for (to check `x-amz-content-sha256`). */
  sha256Hex?: string
  /** Base64 values of the flexible checksums asked for. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>
}

/**
 * Every digest S3 asks of an upload, computed in one pass as the content streams by: MD5 always, the
 * flexible checksums asked for, and the hex SHA-256 when the signature covers the payload hash.
 */
export class ContentDigester {
  readonly #md5: Hash | undefined
  readonly #sha256: Hash | undefined
  readonly #running = new Map<ChecksumAlgorithm, Running>()

  /** `md5: false` leaves the MD5 to someone else (the hash worker); `digest` is then given it. */
  constructor(algorithms: Iterable<ChecksumAlgorithm>, options: { sha256Hex?: boolean; md5?: boolean } = {}) {
    this.#md5 = options.md5 === false ? undefined : createHash('md5')
    for (const algorithm of algorithms) this.#running.set(algorithm, running(algorithm))
    // SHA256 as a flexible checksum and as the payload hash are the same digest: compute it once.
    this.#sha256 =
      options.sha256Hex === true && !this.#running.has('SHA256') ? createHash('sha256') : undefined
  }

  update(piece: Uint8Array): void {
    this.#md5?.update(piece)
    this.#sha256?.update(piece)
    for (const state of this.#running.values()) state.update(piece)
  }

  /** Call once, after the last `update`; with the MD5 computed elsewhere when built with `md5: false`. */
  digest(md5?: string): ContentDigests {
    const own = this.#md5?.digest('hex') ?? md5
    if (own === undefined) throw new Error('ContentDigester: no MD5 computed here and none given')
    const result: ContentDigests = { md5: own, checksums: {} }
    for (const [algorithm, state] of this.#running) {
      const raw = state.digest()
      result.checksums[algorithm] = raw.toString('base64')
      if (algorithm === 'SHA256') result.sha256Hex = raw.toString('hex')
    }
    if (this.#sha256 !== undefined) result.sha256Hex = this.#sha256.digest('hex')
    return result
  }
}

/**
 * S3's checksum of a multipart object for one algorithm (checksum type COMPOSITE): the algorithm over
 * the concatenated raw part checksums, base64, then `-<part count>`.
 */
export function compositeChecksum(algorithm: ChecksumAlgorithm, partValues: readonly string[]): string {
  const state = running(algorithm)
  for (const value of partValues) state.update(decodeChecksum(algorithm, value))
  return `${state.digest().toString('base64')}-${partValues.length}`
}

/** S3's ETag of a multipart object: MD5 over the concatenated raw part MD5s, hex, then `-<count>`. */
export function multipartMd5(partMd5s: readonly string[]): string {
  const hash = createHash('md5')
  for (const md5 of partMd5s) hash.update(Buffer.from(md5, 'hex'))
  return `${hash.digest('hex')}-${partMd5s.length}`
}

/** Copies the flexible checksums of a digest result into a `Checksums` record. */
export function toChecksums(digests: ContentDigests): Checksums {
  const checksums: Checksums = { md5: digests.md5 }
  for (const [algorithm, value] of Object.entries(digests.checksums)) {
    checksums[checksumField(algorithm as ChecksumAlgorithm)] = value
  }
  return checksums
}

/** The flexible checksums a `Checksums` record holds, by algorithm. */
export function flexibleChecksums(checksums: Checksums): Array<[ChecksumAlgorithm, string]> {
  const found: Array<[ChecksumAlgorithm, string]> = []
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = checksums[checksumField(algorithm)]
    if (value !== undefined) found.push([algorithm, value])
  }
  return found
}
