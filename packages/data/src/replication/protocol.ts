/**
 * The request/response protocols of data replication, versioned `/aruna/<domain>/1.0.0` like every
 * Aruna protocol: fetch and push a chunk, ask which chunks a node holds, push or pull a bucket's
 * version and purge records, compare key-range digests for anti-entropy, ask whether a chunk is
 * still referenced before collecting it, push or pull bucket records and bucket tombstones, and push
 * or pull multipart upload records, part records and upload tombstones.
 *
 * `replicationProtocols(network)` builds them with the network package's `defineProtocol` and
 * `messageCodec` (structured JSON header, binary fields raw after it, never base64), which the node
 * hands in: this package describes the messages and their hostile-input decoders but does not depend
 * on the network package. A decoder's refusal reaches the caller as the codec's `MalformedMessage`.
 */
import {
  type BucketRecordsRequest,
  type BucketRecordsResponse,
  type ChunkReferencesRequest,
  type ChunkReferencesResponse,
  decodeBucketRecordsRequest,
  decodeBucketRecordsResponse,
  decodeChunkReferencesRequest,
  decodeChunkReferencesResponse,
  decodeFetchChunkRequest,
  decodeFetchChunkResponse,
  decodeHaveChunksRequest,
  decodeHaveChunksResponse,
  decodePurgeRecordsRequest,
  decodePurgeRecordsResponse,
  decodePushChunkRequest,
  decodePushChunkResponse,
  decodeRangeDigestsRequest,
  decodeRangeDigestsResponse,
  decodeUploadRecordsRequest,
  decodeUploadRecordsResponse,
  decodeVersionRecordsRequest,
  decodeVersionRecordsResponse,
  type FetchChunkRequest,
  type FetchChunkResponse,
  type HaveChunksRequest,
  type HaveChunksResponse,
  MAX_CHUNK_BYTES,
  type PurgeRecordsRequest,
  type PurgeRecordsResponse,
  type PushChunkRequest,
  type PushChunkResponse,
  type RangeDigestsRequest,
  type RangeDigestsResponse,
  type UploadRecordsRequest,
  type UploadRecordsResponse,
  type VersionRecordsRequest,
  type VersionRecordsResponse,
} from './messages.js'

/** The network port's codec, structurally (`Codec<T>` of `@aruna/network`). */
export interface WireCodec<T> {
  encode(message: T): Uint8Array
  decode(bytes: Uint8Array): T
}

/** The network port's protocol descriptor, structurally (`Protocol<Req, Res>` of `@aruna/network`). */
export interface WireProtocol<Req, Res> {
  readonly id: string
  readonly request: WireCodec<Req>
  readonly response: WireCodec<Res>
  readonly maxMessageBytes: number
  readonly largeReplies?: boolean
}

/** What the protocols are built with: pass `@aruna/network` itself (its `defineProtocol` and `messageCodec`). */
export interface ProtocolToolkit {
  defineProtocol<Req, Res>(definition: {
    id: string
    request: WireCodec<Req>
    response: WireCodec<Res>
    maxMessageBytes?: number
    largeReplies?: boolean
  }): WireProtocol<Req, Res>
  messageCodec<T>(validate: (value: unknown) => T): WireCodec<T>
}

/** One protocol as this package describes it: its id, its size limit and its two decoders. */
export interface ProtocolSpec<Req, Res> {
  readonly id: string
  readonly maxMessageBytes: number
  /** Replies often as large as a chunk (`Protocol.largeReplies` of `@aruna/network`). */
  readonly largeReplies?: boolean
  readonly decodeRequest: (value: unknown) => Req
  readonly decodeResponse: (value: unknown) => Res
}

const MIB = 1024 * 1024
/** Room for a message's header next to a chunk's bytes. */
const HEADER_ROOM = 64 * 1024

function spec<Req, Res>(
  id: string,
  maxMessageBytes: number,
  decodeRequest: (value: unknown) => Req,
  decodeResponse: (value: unknown) => Res,
  largeReplies = false,
): ProtocolSpec<Req, Res> {
  return Object.freeze({
    id,
    maxMessageBytes,
    decodeRequest,
    decodeResponse,
    ...(largeReplies ? { largeReplies } : {}),
  })
}

export const REPLICATION_PROTOCOL_SPECS = Object.freeze({
  fetchChunk: spec<FetchChunkRequest, FetchChunkResponse>(
    '/aruna/data-fetch-chunk/1.0.0',
    MAX_CHUNK_BYTES + HEADER_ROOM,
    decodeFetchChunkRequest,
    decodeFetchChunkResponse,
    true,
  ),
  pushChunk: spec<PushChunkRequest, PushChunkResponse>(
    '/aruna/data-push-chunk/1.0.0',
    MAX_CHUNK_BYTES + HEADER_ROOM,
    decodePushChunkRequest,
    decodePushChunkResponse,
  ),
  haveChunks: spec<HaveChunksRequest, HaveChunksResponse>(
    '/aruna/data-have-chunks/1.0.0',
    MIB,
    decodeHaveChunksRequest,
    decodeHaveChunksResponse,
  ),
  versionRecords: spec<VersionRecordsRequest, VersionRecordsResponse>(
    '/aruna/data-versions/1.0.0',
    16 * MIB,
    decodeVersionRecordsRequest,
    decodeVersionRecordsResponse,
  ),
  purgeRecords: spec<PurgeRecordsRequest, PurgeRecordsResponse>(
    '/aruna/data-purges/1.0.0',
    4 * MIB,
    decodePurgeRecordsRequest,
    decodePurgeRecordsResponse,
  ),
  rangeDigests: spec<RangeDigestsRequest, RangeDigestsResponse>(
    '/aruna/data-range-digests/1.0.0',
    MIB,
    decodeRangeDigestsRequest,
    decodeRangeDigestsResponse,
  ),
  chunkReferences: spec<ChunkReferencesRequest, ChunkReferencesResponse>(
    '/aruna/data-gc-safety/1.0.0',
    MIB,
    decodeChunkReferencesRequest,
    decodeChunkReferencesResponse,
  ),
  buckets: spec<BucketRecordsRequest, BucketRecordsResponse>(
    '/aruna/data-buckets/1.0.0',
    4 * MIB,
    decodeBucketRecordsRequest,
    decodeBucketRecordsResponse,
  ),
  // New protocols go last: the fuzz target picks codecs by their position here.
  uploads: spec<UploadRecordsRequest, UploadRecordsResponse>(
    '/aruna/data-uploads/1.0.0',
    16 * MIB,
    decodeUploadRecordsRequest,
    decodeUploadRecordsResponse,
  ),
})

type Specs = typeof REPLICATION_PROTOCOL_SPECS
type ProtocolOf<S> = S extends ProtocolSpec<infer Req, infer Res> ? WireProtocol<Req, Res> : never

/** The replication protocols, one per entry of `REPLICATION_PROTOCOL_SPECS`. */
export type ReplicationProtocols = { readonly [K in keyof Specs]: ProtocolOf<Specs[K]> }

/** Builds every replication protocol with the network package's `defineProtocol` and `messageCodec`. */
export function replicationProtocols(network: ProtocolToolkit): ReplicationProtocols {
  const build = <Req, Res>(s: ProtocolSpec<Req, Res>): WireProtocol<Req, Res> =>
    network.defineProtocol<Req, Res>({
      id: s.id,
      maxMessageBytes: s.maxMessageBytes,
      ...(s.largeReplies === true ? { largeReplies: true } : {}),
      request: network.messageCodec(s.decodeRequest),
      response: network.messageCodec(s.decodeResponse),
    })
  const specs = REPLICATION_PROTOCOL_SPECS
  return Object.freeze({
    fetchChunk: build(specs.fetchChunk),
    pushChunk: build(specs.pushChunk),
    haveChunks: build(specs.haveChunks),
    versionRecords: build(specs.versionRecords),
    purgeRecords: build(specs.purgeRecords),
    rangeDigests: build(specs.rangeDigests),
    chunkReferences: build(specs.chunkReferences),
    buckets: build(specs.buckets),
    uploads: build(specs.uploads),
  })
}
