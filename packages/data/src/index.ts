/**
 * @aruna/data: where an Aruna node keeps object content and the keys that point to it. Content is cut
 * into fixed-size chunks (`Chunker`) named by their CIDv1 (raw, sha2-256) and kept in a `BlobStore`
 * (`FsBlobStore` on disk with atomic durable writes, `MemoryBlobStore` for tests) that verifies the
 * hash on every read. A bucket's keys live in an `ObjectIndex` of immutable version records ordered by
 * hybrid-logical-clock version ids, so replicas merge by union; `MemoryObjectIndex` implements it in
 * memory and `listPage` gives any ordered store S3 ListObjectsV2 paging. Compliance suites for both
 * ports are in `@aruna/data/testing`.
 */
export { ChunkHasher, chunkCidOf, parseChunkCid, verifyChunk } from './chunk-id.js'
export { Chunker, type ChunkerInit, DEFAULT_CHUNK_SIZE } from './chunker.js'
export { DataError, type DataErrorCode, isDataError } from './errors.js'
export { FsBlobStore, type FsBlobStoreInit } from './fs-blob-store.js'
export {
  formatVersionId,
  type HlcState,
  type HlcTimestamp,
  HybridLogicalClock,
  type HybridLogicalClockInit,
  parseVersionId,
  receive,
  tick,
} from './hlc.js'
export { compareKeys, MAX_KEY_BYTES, validateBucketName, validateKey } from './keys.js'
export { type KeyScan, listPage, MAX_KEYS, type Page, type ScanStart } from './listing.js'
export { MemoryBlobStore } from './memory-blob-store.js'
export { MemoryObjectIndex, type MemoryObjectIndexInit } from './memory-object-index.js'
export type {
  AbortOptions,
  BlobStore,
  Bucket,
  Checksums,
  ChunkRef,
  ChunkSource,
  ChunkStat,
  ContentVersion,
  CreateBucketOptions,
  DeleteMarker,
  ListOptions,
  ListResult,
  ListVersionsOptions,
  Manifest,
  ObjectIndex,
  ObjectSummary,
  ObjectVersion,
  PutVersionResult,
} from './port.js'
export { validateManifest, validateVersion } from './version-record.js'
