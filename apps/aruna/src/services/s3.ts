/**
 * The node's S3 service: chunks on disk (`FsBlobStore`), the key index in LMDB, multipart uploads in
 * durable JSON files, and the S3 API (hono) on its own port. Who may do what comes from the realm:
 * SigV4 against the realm's access keys (replicated through orga, so a key made on any node works on
 * this one) and the caller's roles from the organisation documents.
 *
 * The engine runs on the realm's stores, wrapped around the local ones (a node on its own is a realm of
 * one): chunks on their rendezvous holders (`RealmBlobStore`), the key index and multipart uploads
 * replicated to every node (`RealmObjectIndex`, `RealmMultipartStore`), kept whole by the repair sweep
 * and the scrub (`DataUpkeep`), writes admitted within the groups' storage quotas (`QuotaAdmission`);
 * garbage collection frees a chunk only when no other node still needs it.
 */
import { join } from 'node:path'
import { type Authorizer, type EncryptedAccessKeyStore, type RoleSource, SigV4Verifier } from '@aruna/auth'
import {
  type BlobStore,
  type Bucket,
  type ChunkReferencesResponse,
  type CreateBucketOptions,
  createS3App,
  FsBlobStore,
  FsMultipartStore,
  type GcResult,
  type GcTotals,
  HybridLogicalClock,
  LmdbObjectIndex,
  type MultipartStore,
  ObjectEngine,
  type ObjectIndex,
  type ReplicationProtocols,
  RoleSubtreeAuthorizer,
  replicationProtocols,
  type S3Identity,
  type S3RequestRecord,
  SigV4S3Authenticator,
} from '@aruna/data'
import { defineProtocol, messageCodec, type Network } from '@aruna/network'
import type { QuotaConfig } from '@aruna/orga'
import { BucketTombstones } from '../federation/bucket-tombstones.js'
import { type DataHealth, DataUpkeep } from '../federation/data-upkeep.js'
import { CountingObjectIndex, GroupUsage } from '../federation/group-usage.js'
import { QuotaAdmission } from '../federation/quota-admission.js'
import { RealmBlobStore, type WriteQuorum } from '../federation/realm-blob-store.js'
import { RealmMultipartStore } from '../federation/realm-multipart-store.js'
import { RealmNodes } from '../federation/realm-nodes.js'
import { RealmObjectIndex } from '../federation/realm-object-index.js'
import type { HttpEndpoint } from '../http/listen.js'
import { listen } from '../http/listen.js'
import type { Logger } from '../logger.js'

/** Usage per group is counted again from the key index this often. */
const USAGE_RECOUNT_MS = 10 * 60_000

/** Progress lines of a garbage collection run, at most this often. */
const GC_PROGRESS_LOG_MS = 5000

export interface S3ServiceInit {
  readonly dataDir: string
  readonly realm: string
  readonly nodeId: string
  readonly host: string
  readonly port: number
  readonly accessKeys: EncryptedAccessKeyStore
  readonly authorizer: Authorizer
  /** The roles behind `authorizer`: listings answer whole directories from them (one check, not one per key). */
  readonly roles: RoleSource
  /** The group a bucket created without `x-aruna-group` belongs to (the caller's first group). */
  readonly defaultGroup: (identity: S3Identity, bucket: string) => string | undefined
  /** Minutes between scheduled garbage collections (which also abort stale uploads); 0: none. */
  readonly gcIntervalMinutes: number
  readonly logger: Logger
  /** Told of every request after its access-log line (metrics). */
  readonly onRequest?: (record: S3RequestRecord) => void
  /** The realm this node's data is part of (a node on its own is a realm of one). */
  readonly federation: DataFederationInit
  /** Chunks of at most this many bytes go to the small-chunk database (`FsBlobStoreInit.inlineMaxBytes`). */
  readonly smallChunkBytes?: number
}

/** How this node shares data with the realm (the `data` section of the configuration, in milliseconds). */
export interface DataFederationInit {
  readonly network: Network
  /** The realm's node list (peer ids). */
  listNodes(): Promise<readonly string[]>
  /** The realm's replication factor for data (orga's realm default). */
  dataFactor(): Promise<number | 'all'>
  /** The realm's storage quota configuration (orga). */
  quotaConfig(): Promise<QuotaConfig>
  /** A group's name, for messages (its id when unknown). */
  groupName(groupId: string): Promise<string>
  readonly writeQuorum: WriteQuorum
  readonly downAfterMs: number
  readonly repairIntervalMs: number
  readonly antiEntropyMs: number
  readonly scrubIntervalMs: number
  readonly scrubBytesPerSecond: number
  readonly repairBytesPerSecond: number
}

/** How the node's data fares in the realm (`aruna status`, metrics). */
export interface DataStatus extends DataHealth {
  readonly replicationFactor: number
  /** Realm nodes by placement state, as this node sees them. */
  readonly nodesLive: number
  readonly nodesDown: number
  readonly remoteReads: number
  readonly readRepairs: number
  readonly recordsReceived: number
  /** Still pulling what other nodes wrote while it was away (reads ask them meanwhile). */
  readonly catchingUp: boolean
}

/** The storage upkeep the REST API and metrics reach. */
export interface StorageUpkeep {
  /** One garbage collection run (a call during a run joins it), logged with its progress. */
  collectGarbage(reason: 'scheduled' | 'requested'): Promise<GcResult>
  /** Runs, chunks and bytes freed since start. */
  gcTotals(): GcTotals
}

/** This node's buckets, as the REST API reaches them (authorization is the caller's job). */
export type BucketCatalog = Pick<ObjectEngine, 'createBucket' | 'getBucket' | 'listBuckets' | 'deleteBucket'>

export interface S3Service extends StorageUpkeep {
  readonly endpoint: HttpEndpoint
  readonly buckets: BucketCatalog
  /** Replication state. */
  dataStatus(): DataStatus
  /** The realm's stores and upkeep (tests and tools). */
  readonly realm: RealmData
  /** Storage quotas and usage per group. */
  readonly quotas: QuotaAdmission
  close(timeoutMs: number): Promise<void>
}

/** The realm's stores as one node runs them. */
export interface RealmData {
  readonly nodes: RealmNodes
  readonly blobs: RealmBlobStore
  readonly index: RealmObjectIndex
  readonly uploads: RealmMultipartStore
  readonly upkeep: DataUpkeep
  readonly protocols: ReplicationProtocols
}

export async function startS3Service(init: S3ServiceInit): Promise<S3Service> {
  const { dataDir, realm, logger } = init
  // A bucket that arrives from another node keeps its creation time: `createBucketAt` sets the time
  // the index's clock gives for that one call (the index reads it before its first await).
  let bucketTime: string | undefined
  const localIndex = await LmdbObjectIndex.open(join(dataDir, 'index'), {
    now: () => (bucketTime === undefined ? new Date() : new Date(bucketTime)),
  })
  // Small chunks live in the index's environment: a chunk and the version records written in the same
  // moment share one commit (one fdatasync pair) instead of one each.
  const localBlobs = await FsBlobStore.open({
    directory: join(dataDir, 'chunks'),
    smallChunks: localIndex.smallChunkDatabase(),
    ...(init.smallChunkBytes === undefined ? {} : { inlineMaxBytes: init.smallChunkBytes }),
  })
  // Usage per group, kept in step with every record the node's own index takes.
  const usage = new GroupUsage()
  const countedIndex = new CountingObjectIndex(localIndex, usage)
  const createBucketAt = (name: string, options: CreateBucketOptions, createdAt: string): Promise<Bucket> => {
    bucketTime = createdAt
    try {
      return countedIndex.createBucket(name, options)
    } finally {
      bucketTime = undefined
    }
  }
  const clock = new HybridLogicalClock(init.nodeId)
  let realmData: RealmData | undefined
  const stopServing: Array<() => void> = []
  try {
    const localUploads = await FsMultipartStore.open({ directory: join(dataDir, 'uploads') })
    const federation = init.federation
    const started = Date.now()
    await usage.recount(localIndex)
    logger.info(
      { groups: usage.byGroup().size, durationMs: Date.now() - started },
      'counted the storage each group uses',
    )
    const data = await startRealmData(federation, {
      dataDir,
      localBlobs,
      localIndex: countedIndex,
      localUploads,
      clock,
      createBucketAt,
      logger,
    })
    realmData = data
    const quotas = new QuotaAdmission({
      usage,
      index: () => data.index,
      quotaConfig: () => federation.quotaConfig(),
      groupName: (id) => federation.groupName(id),
      logger,
    })
    const engine = new ObjectEngine({
      index: data.index,
      blobs: data.blobs,
      uploads: data.uploads,
      clock,
      admission: quotas,
    })
    const { network } = federation
    const { protocols } = data
    stopServing.push(data.blobs.serve(), data.index.serve(), data.uploads.serve())
    network.handle(
      protocols.chunkReferences,
      async (request, context): Promise<ChunkReferencesResponse> => ({
        kind: 'referenced',
        referenced: await engine.referencedChunks(request.cids, { signal: context.signal }),
      }),
    )
    stopServing.push(() => network.unhandle(protocols.chunkReferences.id))
    data.upkeep.start()
    // A recount now and then, so usage cannot drift from the index.
    const recount = setInterval(() => {
      usage.recount(localIndex).catch((err) => logger.warn({ err }, 'recounting storage usage failed'))
    }, USAGE_RECOUNT_MS)
    recount.unref()
    stopServing.push(() => clearInterval(recount))
    const app = createS3App({
      engine,
      authenticator: new SigV4S3Authenticator(new SigV4Verifier({ keys: init.accessKeys })),
      authorizer: new RoleSubtreeAuthorizer(init.authorizer, init.roles),
      realm,
      defaultGroup: init.defaultGroup,
      onInternalError: (err, requestId) => logger.error({ err, requestId }, 'S3 request failed'),
      // The access log: one line per request, with the id its answer and error document carry.
      onRequest: (record) => {
        logger.info(record, 'S3 request')
        init.onRequest?.(record)
      },
    })
    const endpoint = await listen(app, init.host, init.port, 'S3 API')
    const stopping = new AbortController()
    const collectGarbage = async (reason: 'scheduled' | 'requested'): Promise<GcResult> => {
      logger.info({ reason }, 'garbage collection started')
      let logged = 0
      const result = await engine.collectGarbage({
        signal: stopping.signal,
        confirmUnreferenced: confirmUnreferencedBy(data),
        onProgress: (progress) => {
          if (Date.now() - logged < GC_PROGRESS_LOG_MS) return
          logged = Date.now()
          logger.info({ ...progress }, `garbage collection: ${progress.phase}`)
        },
      })
      logger.info(
        { ...result, reason },
        `garbage collection freed ${result.chunksFreed} chunks (${result.bytesFreed} bytes) in ${Math.round(result.durationMs)} ms`,
      )
      return result
    }
    const schedule =
      init.gcIntervalMinutes > 0
        ? setInterval(() => {
            collectGarbage('scheduled').catch((err) => {
              if (!stopping.signal.aborted) logger.warn({ err }, 'scheduled garbage collection failed')
            })
          }, init.gcIntervalMinutes * 60_000)
        : undefined
    schedule?.unref()
    return {
      endpoint,
      buckets: engine,
      collectGarbage,
      gcTotals: () => engine.gcTotals(),
      dataStatus: () => dataStatusOf(data),
      realm: data,
      quotas,
      async close(timeoutMs) {
        clearInterval(schedule)
        stopping.abort()
        await endpoint.close(timeoutMs)
        await stopRealmData(data, stopServing, timeoutMs)
        await localBlobs.close()
        await localIndex.close()
      },
    }
  } catch (err) {
    await stopRealmData(realmData, stopServing, 1000)
    await localBlobs.close()
    await localIndex.close()
    throw err
  }
}

interface LocalStores {
  readonly dataDir: string
  readonly localBlobs: BlobStore
  readonly localIndex: ObjectIndex
  readonly localUploads: MultipartStore
  readonly clock: HybridLogicalClock
  readonly createBucketAt: (name: string, options: CreateBucketOptions, createdAt: string) => Promise<Bucket>
  readonly logger: Logger
}

async function startRealmData(federation: DataFederationInit, local: LocalStores): Promise<RealmData> {
  const { network } = federation
  const protocols = replicationProtocols({ defineProtocol, messageCodec })
  const nodes = new RealmNodes({
    network,
    listNodes: () => federation.listNodes(),
    dataFactor: () => federation.dataFactor(),
    downAfterMs: federation.downAfterMs,
    logger: local.logger,
  })
  await nodes.start()
  const blobs = new RealmBlobStore({
    local: local.localBlobs,
    network,
    protocols,
    nodes,
    writeQuorum: federation.writeQuorum,
    logger: local.logger,
  })
  const index = new RealmObjectIndex({
    local: local.localIndex,
    network,
    protocols,
    nodes,
    tombstones: await BucketTombstones.open(join(local.dataDir, 'bucket-tombstones.json')),
    clock: local.clock,
    createBucketAt: local.createBucketAt,
    writeQuorum: federation.writeQuorum,
    // The record quorum follows the data factor as it was at start.
    factor: nodes.factor(),
    antiEntropyMs: federation.antiEntropyMs,
    logger: local.logger,
    riders: blobs.riders,
    storeChunk: async (cid, bytes, deferCommit) => {
      await local.localBlobs.putVerified(cid, bytes, { withVersion: true, deferCommit })
    },
  })
  const uploads = await RealmMultipartStore.open({
    local: local.localUploads,
    network,
    protocols,
    nodes,
    tombstonesPath: join(local.dataDir, 'upload-tombstones.json'),
    writeQuorum: federation.writeQuorum,
    factor: nodes.factor(),
    antiEntropyMs: federation.antiEntropyMs,
    logger: local.logger,
  })
  const upkeep = new DataUpkeep({
    store: blobs,
    nodes,
    logger: local.logger,
    repairIntervalMs: federation.repairIntervalMs,
    scrubIntervalMs: federation.scrubIntervalMs,
    scrubBytesPerSecond: federation.scrubBytesPerSecond,
    repairBytesPerSecond: federation.repairBytesPerSecond,
  })
  return { nodes, blobs, index, uploads, upkeep, protocols }
}

async function stopRealmData(
  data: RealmData | undefined,
  stopServing: Array<() => void>,
  timeoutMs: number,
): Promise<void> {
  if (data === undefined) return
  await data.upkeep.stop()
  await data.blobs.drain(timeoutMs)
  for (const stop of stopServing.splice(0)) stop()
  await data.index.quiesce()
  await data.uploads.quiesce()
  data.nodes.stop()
}

/**
 * Garbage collection's question to the realm: of these chunks, which does no other node need? Every
 * other listed node must answer; when one does not, none of the batch is freed this run.
 */
function confirmUnreferencedBy(
  data: RealmData,
): (cids: readonly string[], options: { signal?: AbortSignal }) => Promise<ReadonlySet<string>> {
  return async (cids, options) => {
    const referenced = new Set<string>()
    const others = data.nodes.others()
    const answers = await Promise.all(
      others.map(async (peer) => {
        if (!data.nodes.isConnected(peer)) return false
        try {
          const answer = await data.blobs.network.request(
            peer,
            data.protocols.chunkReferences,
            { kind: 'referenced', cids },
            { timeoutMs: 60_000, ...(options.signal === undefined ? {} : { signal: options.signal }) },
          )
          if (answer.kind !== 'referenced' || answer.referenced.length !== cids.length) return false
          answer.referenced.forEach((yes, i) => {
            if (yes) referenced.add(cids[i] as string)
          })
          return true
        } catch {
          return false
        }
      }),
    )
    if (answers.includes(false)) return new Set()
    return new Set(cids.filter((cid) => !referenced.has(cid)))
  }
}

function dataStatusOf(data: RealmData): DataStatus {
  const members = data.nodes.members()
  return {
    ...data.upkeep.health,
    // Corrupt copies are found by reads as well as by the scrub.
    corruptFound: data.upkeep.health.corruptFound + data.blobs.counters.corruptFound,
    corruptRepaired: data.upkeep.health.corruptRepaired + data.blobs.counters.corruptRepaired,
    replicationFactor: data.nodes.factor(),
    nodesLive: members.filter((member) => member.state !== 'down').length,
    nodesDown: members.filter((member) => member.state === 'down').length,
    remoteReads: data.blobs.counters.remoteReads,
    readRepairs: data.blobs.counters.readRepairs,
    recordsReceived: data.index.counters.recordsReceived,
    catchingUp: data.index.catchingUp,
  }
}
