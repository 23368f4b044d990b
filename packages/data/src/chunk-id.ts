import { createHash, type Hash, hash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create as createDigest } from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { DataError } from './errors.js'

/**
 * Chunk ids are CIDv1 with the raw codec and a sha2-256 multihash, in their canonical base32 string
 * form (`bafkrei…`), so every chunk id is also a valid IPFS CID.
 */
export const RAW_CODEC = raw.code
export const SHA2_256 = sha256.code

/**
 * Parses a chunk id and checks that it is a canonical CIDv1 (raw, sha2-256) string; anything else
 * (CIDv0, other codecs or hashes, other bases, garbage) is `InvalidCid`.
 */
export function parseChunkCid(value: string): CID {
  let cid: CID
  try {
    cid = CID.parse(value)
  } catch (err) {
    throw new DataError('InvalidCid', `not a CID: ${JSON.stringify(value).slice(0, 80)}`, { cause: err })
  }
  if (cid.version !== 1 || cid.code !== RAW_CODEC || cid.multihash.code !== SHA2_256) {
    throw new DataError('InvalidCid', `not a raw sha2-256 CIDv1: ${value}`)
  }
  if (cid.multihash.digest.byteLength !== 32)
    throw new DataError('InvalidCid', `bad sha2-256 digest: ${value}`)
  // Written afresh: a parsed CID's toString() gives back the text it was parsed from (upper case too).
  if (chunkCidFromDigest(cid.multihash.digest) !== value)
    throw new DataError('InvalidCid', `not the canonical base32 form: ${value}`)
  return cid
}

/**
 * A canonical chunk id, as text: `b` (base32), then the base32 of CIDv1 · raw · sha2-256 · 32 bytes
 * (`afkrei`, always) and of the digest, 58 characters for 36 bytes. The first digest character carries 2
 * bits of the header (always 0), the last only 3 bits of the digest (its low 2 bits are 0): any string
 * of this form is exactly the canonical text of one chunk id.
 */
const CANONICAL = /^bafkrei[a-h][a-z2-7]{50}[aeimquy4]$/

/**
 * Checks that `value` is a canonical chunk id (what `parseChunkCid` accepts), without building a CID.
 * `InvalidCid` otherwise.
 */
export function checkChunkCid(value: string): void {
  if (typeof value === 'string' && CANONICAL.test(value)) return
  parseChunkCid(value)
  // parseChunkCid accepted what the pattern did not: the two must agree.
  throw new DataError('InvalidCid', `not a canonical raw sha2-256 CIDv1: ${value}`)
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'
/** CIDv1, raw, sha2-256, 32 bytes: the 4 bytes before every chunk id's digest. */
const HEADER = Uint8Array.of(1, RAW_CODEC, SHA2_256, 32)

/** The chunk id of a sha2-256 digest. */
export function chunkCidFromDigest(digest: Uint8Array): string {
  if (digest.byteLength !== 32) return CID.createV1(RAW_CODEC, createDigest(SHA2_256, digest)).toString()
  // Base32 (RFC 4648, lower case, no padding) of header and digest, as multiformats writes it.
  let text = 'b'
  let buffer = 0
  let bits = 0
  for (let at = 0; at < 36; at++) {
    buffer = ((buffer << 8) | (at < 4 ? (HEADER[at] as number) : (digest[at - 4] as number))) & 0xfff
    bits += 8
    while (bits >= 5) {
      bits -= 5
      text += BASE32[(buffer >>> bits) & 31]
    }
  }
  if (bits > 0) text += BASE32[(buffer << (5 - bits)) & 31]
  return text
}

/** The chunk id of `bytes`. */
export function chunkCidOf(bytes: Uint8Array): string {
  // One call, no Hash object (a small GET verifies one chunk this way).
  return chunkCidFromDigest(hash('sha256', bytes, 'buffer'))
}

/** Hashes a chunk that arrives in pieces, so stores can verify while streaming to or from disk. */
export class ChunkHasher {
  readonly #hash: Hash = createHash('sha256')
  #size = 0

  update(piece: Uint8Array): void {
    this.#hash.update(piece)
    this.#size += piece.byteLength
  }

  get size(): number {
    return this.#size
  }

  /** The chunk id of everything passed to `update`. Call once. */
  cid(): string {
    return chunkCidFromDigest(this.#hash.digest())
  }
}

/** Throws `CorruptChunk` unless `bytes` hash to `cid`. */
export function verifyChunk(cid: string, bytes: Uint8Array): void {
  const actual = chunkCidOf(bytes)
  if (actual !== cid) throw corruptChunk(cid, actual)
}

export function corruptChunk(cid: string, actual: string): DataError {
  return new DataError('CorruptChunk', `chunk ${cid} holds bytes that hash to ${actual}`)
}
