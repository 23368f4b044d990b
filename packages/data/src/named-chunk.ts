import { checkChunkCid } from './chunk-id.js'
import { DataError } from './errors.js'
import type { BlobStore, ChunkRef, PutOptions } from './port.js'

/** `BlobStore.putHashed`'s argument check, for every store that has it: a chunk id, and bytes of its size. */
export function checkNamedChunk(ref: ChunkRef, bytes: Uint8Array): void {
  checkChunkCid(ref.cid)
  if (ref.size !== bytes.byteLength)
    throw new DataError('InvalidArgument', `chunk ${ref.cid} is ${bytes.byteLength} bytes, not ${ref.size}`)
}

/**
 * Stores bytes whose id this process has just computed from them: with `putHashed` when the store has
 * it (no second hash), else with `putVerified`.
 */
export function putNamedChunk(
  blobs: BlobStore,
  cid: string,
  bytes: Uint8Array,
  options?: PutOptions,
): Promise<ChunkRef> {
  return blobs.putHashed !== undefined
    ? blobs.putHashed({ cid, size: bytes.byteLength }, bytes, options)
    : blobs.putVerified(cid, bytes, options)
}
