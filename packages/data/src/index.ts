/**
 * @aruna/data: where an Aruna node keeps object content and the keys that point to it. Content is cut
 * into fixed-size chunks (`Chunker`) named by their CIDv1 (raw, sha2-256) and kept in a `BlobStore`
 * (`FsBlobStore` on disk with atomic durable writes, `MemoryBlobStore` for tests) that verifies the
 * hash on every read. A bucket's keys live in an `ObjectIndex` of immutable version records ordered by
 * hybrid-logical-clock version ids, so replicas merge by union; `MemoryObjectIndex` implements it in
 * memory and `listPage` gives any ordered store S3 ListObjectsV2 paging. Compliance suites for both
 * ports are in `@aruna/data/testing`.
 *
 * On top of the ports, `ObjectEngine` streams S3 writes into chunks (checking MD5 and flexible
 * checksums in the same pass) and reads them back verified, with multipart uploads recorded in a
 * `MultipartStore`; `createS3App` serves it as an S3 API (hono) behind the `S3Authenticator` and
 * `Authorizer` ports.
 */
export {
  ChunkBufferPool,
  type ChunkBufferPoolCounters,
  type ChunkBufferPoolInit,
  type LeasedBytes,
} from './chunk-buffers.js'
export { ChunkHasher, checkChunkCid, chunkCidOf, parseChunkCid, verifyChunk } from './chunk-id.js'
export { Chunker, type ChunkerInit, DEFAULT_CHUNK_SIZE } from './chunker.js'
export {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  ContentDigester,
  type ContentDigests,
  compositeChecksum,
  crc32,
  crc32c,
  multipartMd5,
} from './engine/checksums.js'
export {
  type ByteRange,
  parseRangeHeader,
  type RangeSpec,
  readContent,
  readContentLeased,
  resolveRange,
} from './engine/content-reader.js'
export { FsMultipartStore, type FsMultipartStoreInit } from './engine/fs-multipart-store.js'
export {
  ChunkGuard,
  type ChunkLease,
  collectGarbage,
  type GcOptions,
  type GcProgress,
  type GcResult,
  type GcSources,
  type PinWatch,
} from './engine/gc.js'
export {
  type ExpectedDigests,
  type IngestedContent,
  type IngestInit,
  ingest,
  isWholeBody,
  type WholeBody,
} from './engine/ingest.js'
export { MemoryMultipartStore } from './engine/memory-multipart-store.js'
export type {
  CompletedPart,
  CreateUploadInput,
  PartPage,
  UploadPage,
  UploadPageOptions,
  UploadPartInput,
} from './engine/multipart.js'
export {
  type CopyObjectInput,
  DEFAULT_UPLOAD_TIMEOUT_MS,
  type GcTotals,
  MAX_PUT_SIZE,
  MIN_PART_SIZE,
  NULL_VERSION_ID,
  type ObjectAttributes,
  type ObjectContent,
  ObjectEngine,
  type ObjectEngineInit,
  type ObjectRead,
  type PutObjectInput,
  s3VersionId,
  type UploadPartCopyInput,
  type WriteCondition,
} from './engine/object-engine.js'
export { partsOf, type SelectedPart, selectPart } from './engine/object-parts.js'
export type { ListUploadsOptions, MultipartStore, MultipartUpload, PartRecord } from './engine/port.js'
export {
  evaluatePreconditions,
  type PreconditionOutcome,
  type Preconditions,
} from './engine/preconditions.js'
export { MAX_PART_NUMBER, MIN_PART_NUMBER } from './engine/upload-records.js'
export { DataError, type DataErrorCode, isDataError } from './errors.js'
export {
  chunksOnDisk,
  DEFAULT_INLINE_MAX_BYTES,
  FsBlobStore,
  type FsBlobStoreInit,
  SMALL_CHUNKS_DB,
  type SmallChunkDatabase,
} from './fs-blob-store.js'
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
export {
  compareKeys,
  isGroupId,
  MAX_KEY_BYTES,
  validateBucketName,
  validateGroupId,
  validateKey,
} from './keys.js'
export { type KeyScan, listPage, MAX_KEYS, type Page, type ScanStart } from './listing.js'
export { lmdbFailure, tolerateLmdbCommitFailures } from './lmdb-errors.js'
export {
  DEFAULT_INDEX_MAP_BYTES,
  LmdbObjectIndex,
  type LmdbObjectIndexOptions,
  type ScanStats,
} from './lmdb-object-index.js'
export { MemoryBlobStore } from './memory-blob-store.js'
export { MemoryObjectIndex, type MemoryObjectIndexInit } from './memory-object-index.js'
export { checkNamedChunk, putNamedChunk } from './named-chunk.js'
export {
  chosenHolders,
  type PlacementAction,
  type PlacementItem,
  type PlacementMember,
  type PlacementNodeState,
  type PlacementPlan,
  type PlacementState,
  planPlacement,
} from './placement/planner.js'
export { type RankedNode, rankNodes, rendezvousScore } from './placement/rendezvous.js'
export {
  isReplicationFactor,
  MAX_REPLICATION_FACTOR,
  type ObjectScope,
  type ReplicationConfig,
  type ReplicationFactor,
  replicationFactorFor,
  validateReplicationConfig,
} from './placement/replication-factor.js'
export type {
  AbortOptions,
  BlobStore,
  Bucket,
  BucketVersioning,
  Checksums,
  ChunkRef,
  ChunkSource,
  ChunkStat,
  ContentVersion,
  CorsConfiguration,
  CorsMethod,
  CorsRule,
  CreateBucketOptions,
  DeleteMarker,
  GetOptions,
  KeyRange,
  ListOptions,
  ListResult,
  ListVersionsOptions,
  Manifest,
  ManifestPart,
  ObjectIndex,
  ObjectSummary,
  ObjectVersion,
  PurgeRecord,
  PurgeResult,
  PutOptions,
  PutVersionResult,
  RangeDigest,
  RecordRangeOptions,
} from './port.js'
export {
  type BucketRecordsRequest,
  type BucketRecordsResponse,
  type BucketTombstone,
  type ChunkReferencesRequest,
  type ChunkReferencesResponse,
  decodeBucketRecordsRequest,
  decodeBucketRecordsResponse,
  decodeUploadRecordsRequest,
  decodeUploadRecordsResponse,
  type FetchChunkRequest,
  type FetchChunkResponse,
  type HaveChunksRequest,
  type HaveChunksResponse,
  MAX_BUCKET_RECORDS,
  MAX_CHUNK_BYTES,
  MAX_CHUNK_IDS,
  MAX_RANGES,
  MAX_RECORDS,
  MAX_RIDING_CHUNK_BYTES,
  MAX_UPLOAD_RECORDS,
  type PullRequest,
  type PurgeRecordsRequest,
  type PurgeRecordsResponse,
  type PushChunkRequest,
  type PushChunkResponse,
  type RangeDigestsRequest,
  type RangeDigestsResponse,
  type RecordCursor,
  type ReplicationRefusal,
  type ReplicationRefusalCode,
  type UploadCursor,
  type UploadPart,
  type UploadRecordsRequest,
  type UploadRecordsResponse,
  type UploadTombstone,
  type VersionRecordsRequest,
  type VersionRecordsResponse,
} from './replication/messages.js'
export {
  type ProtocolSpec,
  type ProtocolToolkit,
  REPLICATION_PROTOCOL_SPECS,
  type ReplicationProtocols,
  replicationProtocols,
  type WireCodec,
  type WireProtocol,
} from './replication/protocol.js'
export { MAX_MANIFEST_CHUNKS } from './replication/records.js'
export { createS3App, type S3AppInit, type S3RequestRecord } from './s3/app.js'
export { AwsChunkedDecoder, type AwsChunkedInit } from './s3/aws-chunked.js'
export { type S3ErrorResponse, toS3Error } from './s3/errors.js'
export { isStreaming, payloadSigningOf } from './s3/payload.js'
export type {
  ChunkSignatureVerifier,
  PayloadSigning,
  S3Authenticator,
  S3Identity,
  S3RequestInfo,
} from './s3/port.js'
export { SigV4S3Authenticator } from './s3/sigv4-authenticator.js'
export {
  isSubtreeAuthorizer,
  RoleSubtreeAuthorizer,
  type SubtreeAccess,
  type SubtreeAuthorizer,
} from './s3/subtree-authorizer.js'
export { validateManifest, validatePurge, validateVersion, versioningOf } from './version-record.js'
