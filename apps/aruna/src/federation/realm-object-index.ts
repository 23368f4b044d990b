/**
 * The realm's key indexes seen from one node: an `ObjectIndex` over this node's LMDB index that
 * replicates every write to the other nodes of the realm and merges theirs.
 *
 * - Version and purge records are immutable and merge by union (last writer wins on HLC ids), so a
 *   write is stored here and pushed to every connected node, batched per node; it is acknowledged once
 *   a write quorum of the realm's nodes (this one included) has it durable.
 * - Bucket records (creation, versioning, CORS) are pushed the same way and merge last writer wins by
 *   their change ids; a deleted bucket leaves a tombstone (`BucketTombstones`) so a replica that missed
 *   the delete cannot bring it back.
 * - Anti-entropy: every `antiEntropyMs`, and when a node connects, this node pulls the other node's
 *   bucket records, compares a digest of each bucket's records with its own, and pulls the records of
 *   the buckets that differ. Each node pulls, so both sides converge.
 *
 * Departure from DESIGN.md §5: every node holds every bucket's key index (as metadata holds every
 * resource by default), instead of the bucket's rendezvous holders with one-hop forwarding for the
 * rest. Records are small, every node then answers HEAD, LIST and version listings from its own
 * index, and chunks (the bulk) are still placed on RF holders.
 */
import {
  type Bucket,
  type BucketRecordsRequest,
  type BucketRecordsResponse,
  type BucketTombstone,
  type BucketVersioning,
  type ContentVersion,
  type CorsConfiguration,
  type CreateBucketOptions,
  DataError,
  type HybridLogicalClock,
  isDataError,
  type KeyRange,
  type ListOptions,
  type ListResult,
  type ListVersionsOptions,
  MAX_RECORDS,
  type ObjectIndex,
  type ObjectVersion,
  type PurgeRecord,
  type PurgeRecordsRequest,
  type PurgeRecordsResponse,
  type PurgeResult,
  type PutVersionResult,
  type RangeDigest,
  type RangeDigestsResponse,
  type RecordCursor,
  type RecordRangeOptions,
  type ReplicationProtocols,
  type VersionRecordsRequest,
  type VersionRecordsResponse,
} from '@aruna/data'
import { isNetworkError, type Network } from '@aruna/network'
import type { Logger } from '../logger.js'
import type { BucketTombstones } from './bucket-tombstones.js'
import type { ChunkRiders, Rider } from './chunk-riders.js'
import { awaitConfirmations, type Laggards, othersNeeded } from './quorum.js'
import type { WriteQuorum } from './realm-blob-store.js'
import type { RealmNodes } from './realm-nodes.js'

const PUSH_TIMEOUT_MS = 10_000
const PULL_TIMEOUT_MS = 30_000
/** The longest a read waits for the nodes it is catching up with. */
const READ_THROUGH_TIMEOUT_MS = 5000
/** Nodes a miss asks when this node is not catching up with any. */
const MISS_PEERS = 2
/**
 * How long a write that has its quorum still waits for the other connected nodes, so a read through
 * any node in step with the realm finds it.
 */
const RECORD_SETTLE_MS = 1000

export interface RealmObjectIndexInit {
  /** This node's own index (LMDB), whole: every bucket's records. */
  readonly local: ObjectIndex
  readonly network: Network
  readonly protocols: ReplicationProtocols
  readonly nodes: RealmNodes
  readonly tombstones: BucketTombstones
  /** The engine's clock: it observes the ids of records from other nodes, so later local writes sort after them. */
  readonly clock: HybridLogicalClock
  /** Creates a bucket with a given creation time (a bucket from another node keeps the time it was made). */
  readonly createBucketAt: (name: string, options: CreateBucketOptions, createdAt: string) => Promise<Bucket>
  readonly writeQuorum: WriteQuorum
  /** Nodes that must have a record durable before its write is acknowledged, counted as for chunks. */
  readonly factor: number
  /** Milliseconds between anti-entropy rounds with each connected node. */
  readonly antiEntropyMs: number
  readonly logger: Logger
  /**
   * Small chunks waiting to go with the version that references them (`RealmBlobStore.riders`), and
   * how a chunk that came with a version is stored here (verified, durably; or, when the store can,
   * resolving once the chunk's commit is queued before the versions', handing `deferCommit` the
   * promise of that commit: `PutOptions.deferCommit`). Without them, versions go alone and a push that
   * carries chunks is refused.
   */
  readonly riders?: ChunkRiders
  readonly storeChunk?: (
    cid: string,
    bytes: Uint8Array,
    deferCommit: (committed: Promise<void>) => void,
  ) => Promise<void>
}

/** Counters since start (metrics and `aruna status`). */
export interface RealmIndexCounters {
  /** Records (versions and purges) taken from other nodes' pushes and pulls. */
  recordsReceived: number
  /** Reads that pulled from other nodes first, while catching up with them. */
  readThroughs: number
  /** Anti-entropy rounds finished, and how many found a bucket that differed. */
  antiEntropyRounds: number
  antiEntropyRepairs: number
}

type RecordKind = 'versions' | 'purges'

interface PendingBatch {
  readonly peer: string
  readonly kind: RecordKind
  readonly bucket: string
  readonly records: Array<ObjectVersion | PurgeRecord>
  /** Chunks that go with the versions (riders), and their bytes so far. */
  readonly chunks: Map<string, Uint8Array>
  chunkBytes: number
  readonly waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>
}

/** The most chunk bytes one push of versions carries (the protocol allows 16 MiB per message). */
const MAX_BATCH_CHUNK_BYTES = 8 * 1024 * 1024

export class RealmObjectIndex implements ObjectIndex {
  readonly #init: RealmObjectIndexInit
  readonly #local: ObjectIndex
  readonly counters: RealmIndexCounters = {
    recordsReceived: 0,
    readThroughs: 0,
    antiEntropyRounds: 0,
    antiEntropyRepairs: 0,
  }
  readonly #pending = new Map<string, PendingBatch>()
  /** Peers a write no longer waits for after its quorum (see `Laggards`). */
  readonly #laggards: Laggards = new Set()
  #flushScheduled = false
  readonly #cleanups: Array<() => void> = []
  #timer: ReturnType<typeof setInterval> | undefined
  readonly #rounds = new Map<string, Promise<void>>()
  /** Connected nodes no anti-entropy round has finished with since they connected. */
  readonly #unsynced = new Set<string>()
  #stopped = false

  constructor(init: RealmObjectIndexInit) {
    this.#init = init
    this.#local = init.local
  }

  // Reads: this node's index holds every bucket. While it is catching up with nodes it has not
  // finished an anti-entropy round with since they connected (after a start, a restart, a freeze or a
  // partition), a miss or a listing first pulls what those nodes have of it (read-through).
  async getCurrent(bucket: string, key: string): Promise<ContentVersion> {
    try {
      return await this.#local.getCurrent(bucket, key)
    } catch (err) {
      if (!(await this.#readThroughOnMiss(err, bucket, key))) throw err
      return this.#local.getCurrent(bucket, key)
    }
  }
  async getVersion(bucket: string, key: string, versionId: string): Promise<ObjectVersion> {
    try {
      return await this.#local.getVersion(bucket, key, versionId)
    } catch (err) {
      if (!(await this.#readThroughOnMiss(err, bucket, key))) throw err
      return this.#local.getVersion(bucket, key, versionId)
    }
  }
  async *listVersions(bucket: string, options?: ListVersionsOptions): AsyncGenerator<ObjectVersion> {
    await this.#catchUp(bucket)
    yield* this.#local.listVersions(bucket, options)
  }
  async list(bucket: string, options?: ListOptions): Promise<ListResult> {
    await this.#catchUp(bucket)
    return this.#local.list(bucket, options)
  }
  async getBucket(name: string): Promise<Bucket> {
    try {
      return await this.#local.getBucket(name)
    } catch (err) {
      if (!(await this.#readThroughOnMiss(err, name))) throw err
      return this.#local.getBucket(name)
    }
  }
  async listBuckets(options?: { group?: string }): Promise<Bucket[]> {
    await this.#catchUp()
    return this.#local.listBuckets(options)
  }
  listPurges(bucket: string, options?: RecordRangeOptions): AsyncIterable<PurgeRecord> {
    return this.#local.listPurges(bucket, options)
  }

  /** Whether this node is still catching up with some connected node (no round finished with it yet). */
  get catchingUp(): boolean {
    return this.#catchingUpWith().length > 0
  }

  #catchingUpWith(): string[] {
    return [...this.#unsynced].filter((peer) => this.#init.nodes.isConnected(peer))
  }

  /**
   * After a miss (`NoSuchKey`, `NoSuchVersion`, `NoSuchBucket`): pulls the bucket's records (the key's
   * alone when given) from the nodes not yet caught up with, or else from two connected nodes (a record
   * may still be on its way here, or have missed this node), one hop; true when it asked anyone.
   */
  async #readThroughOnMiss(err: unknown, bucket: string, key?: string): Promise<boolean> {
    if (
      !isDataError(err, 'NoSuchKey') &&
      !isDataError(err, 'NoSuchVersion') &&
      !isDataError(err, 'NoSuchBucket')
    )
      return false
    const catchingUp = this.#catchingUpWith()
    const peers = catchingUp.length > 0 ? catchingUp : this.#init.nodes.connected().slice(0, MISS_PEERS)
    if (peers.length === 0) return false
    await this.#pullFrom(peers, bucket, key === undefined ? undefined : { start: key, end: `${key}\u0000` })
    return true
  }

  /** Before a listing while catching up: the bucket (or the bucket list) as the other nodes have it. */
  async #catchUp(bucket?: string): Promise<void> {
    const peers = this.#catchingUpWith()
    if (peers.length === 0) return
    await this.#pullFrom(peers, bucket, {})
  }

  /** Pulls bucket records, then (for a bucket) the records in `range` from each of `peers`, bounded in time. */
  async #pullFrom(
    peers: readonly string[],
    bucket: string | undefined,
    range: KeyRange | undefined,
  ): Promise<void> {
    this.counters.readThroughs++
    let timer: ReturnType<typeof setTimeout> | undefined
    const pulls = Promise.allSettled(
      peers.map(async (peer) => {
        // The bucket list only when the bucket is not known here (or for a listing of buckets).
        if (bucket === undefined || (await this.#find(bucket)) === undefined) await this.#pullBuckets(peer)
        if (bucket === undefined || range === undefined || (await this.#find(bucket)) === undefined) return
        await this.#pullRange(peer, bucket, range)
      }),
    )
    await Promise.race([
      pulls,
      new Promise((resolve) => {
        timer = setTimeout(resolve, READ_THROUGH_TIMEOUT_MS)
      }),
    ])
    clearTimeout(timer)
  }
  digestRange(bucket: string, range?: KeyRange): Promise<RangeDigest> {
    return this.#local.digestRange(bucket, range)
  }

  // Writes: here, then to the other nodes.
  async putVersion(version: ObjectVersion): Promise<PutVersionResult> {
    const result = await this.#local.putVersion(version)
    if (result.stored) await this.#replicate('versions', version.bucket, version)
    return result
  }

  async purgeVersion(purge: PurgeRecord): Promise<PurgeResult> {
    const result = await this.#local.purgeVersion(purge)
    if (result.stored) await this.#replicate('purges', purge.bucket, purge)
    return result
  }

  async createBucket(name: string, options: CreateBucketOptions): Promise<Bucket> {
    const bucket = await this.#local.createBucket(name, options)
    await this.#pushBuckets({ kind: 'push', buckets: [bucket], tombstones: [] })
    return bucket
  }

  async deleteBucket(name: string): Promise<void> {
    const bucket = await this.#local.getBucket(name)
    await this.#local.deleteBucket(name)
    const tombstone: BucketTombstone = {
      name,
      createdAt: bucket.createdAt,
      deletedAt: new Date().toISOString(),
    }
    await this.#init.tombstones.add(tombstone)
    await this.#pushBuckets({ kind: 'push', buckets: [], tombstones: [tombstone] })
  }

  async setBucketVersioning(name: string, versioning: BucketVersioning, changeId: string): Promise<Bucket> {
    const bucket = await this.#local.setBucketVersioning(name, versioning, changeId)
    await this.#pushBuckets({ kind: 'push', buckets: [bucket], tombstones: [] })
    return bucket
  }

  async setBucketCors(name: string, cors: CorsConfiguration | undefined, changeId: string): Promise<Bucket> {
    const bucket = await this.#local.setBucketCors(name, cors, changeId)
    await this.#pushBuckets({ kind: 'push', buckets: [bucket], tombstones: [] })
    return bucket
  }

  /**
   * Pushes a record to every connected node and waits until the write quorum has it: `factor`'s
   * majority (or the configured number) of the realm's nodes not gone past the grace period, this one
   * included, never more than there are. `ServiceUnavailable` when too few could take it (the record
   * stays here and reaches the others by anti-entropy).
   */
  async #replicate(kind: RecordKind, bucket: string, record: ObjectVersion | PurgeRecord): Promise<void> {
    const { nodes, writeQuorum, factor } = this.#init
    const needed = othersNeeded(nodes, writeQuorum, factor)
    const riders = kind === 'versions' ? this.#ridersOf(record as ObjectVersion) : []
    const pushes = nodes.connected().map((peer) => ({
      peer,
      push: this.#enqueue(
        peer,
        kind,
        bucket,
        record,
        riders.filter((rider) => rider.peers.includes(peer)),
      ),
    }))
    // A chunk that goes with the record needs its own write quorum among its holders, as when it went
    // alone (`RealmBlobStore`): the record's quorum may be met by nodes that do not hold it.
    await Promise.all([
      awaitConfirmations(pushes, needed, `the record of ${record.key}`, {
        settleMs: RECORD_SETTLE_MS,
        laggards: this.#laggards,
      }),
      ...riders.map((rider) =>
        awaitConfirmations(
          pushes.filter(({ peer }) => rider.peers.includes(peer)),
          rider.needed,
          `chunk ${rider.cid}`,
        ),
      ),
    ])
  }

  /** The chunks of `version` waiting to go with it (see `ChunkRiders`). */
  #ridersOf(version: ObjectVersion): Rider[] {
    const riders = this.#init.riders
    if (riders === undefined || version.deleteMarker === true || riders.size === 0) return []
    const found: Rider[] = []
    for (const chunk of version.manifest.chunks) {
      const rider = riders.take(chunk.cid)
      if (rider !== undefined) found.push(rider)
    }
    return found
  }

  #enqueue(
    peer: string,
    kind: RecordKind,
    bucket: string,
    record: ObjectVersion | PurgeRecord,
    riders: readonly Rider[] = [],
  ): Promise<void> {
    const id = `${peer}\u0000${kind}\u0000${bucket}`
    const riding = riders.reduce((sum, rider) => sum + rider.bytes.byteLength, 0)
    let batch = this.#pending.get(id)
    if (
      batch === undefined ||
      batch.records.length >= MAX_RECORDS ||
      (riding > 0 && batch.chunkBytes + riding > MAX_BATCH_CHUNK_BYTES)
    ) {
      if (batch !== undefined) this.#send(batch)
      batch = { peer, kind, bucket, records: [], chunks: new Map(), chunkBytes: 0, waiters: [] }
      this.#pending.set(id, batch)
    }
    const target = batch
    target.records.push(record)
    for (const rider of riders)
      if (!target.chunks.has(rider.cid)) {
        target.chunks.set(rider.cid, rider.bytes)
        target.chunkBytes += rider.bytes.byteLength
      }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      setImmediate(() => this.#flush())
    }
    return new Promise((resolve, reject) => target.waiters.push({ resolve, reject }))
  }

  #flush(): void {
    this.#flushScheduled = false
    const batches = [...this.#pending.values()]
    this.#pending.clear()
    for (const batch of batches) this.#send(batch)
  }

  #send(batch: PendingBatch): void {
    const id = `${batch.peer}\u0000${batch.kind}\u0000${batch.bucket}`
    if (this.#pending.get(id) === batch) this.#pending.delete(id)
    const { network, protocols } = this.#init
    const request =
      batch.kind === 'versions'
        ? network.request(
            batch.peer,
            protocols.versionRecords,
            {
              kind: 'push',
              bucket: batch.bucket,
              versions: batch.records as ObjectVersion[],
              ...(batch.chunks.size === 0
                ? {}
                : { chunks: [...batch.chunks].map(([cid, bytes]) => ({ cid, bytes })) }),
            },
            { timeoutMs: PUSH_TIMEOUT_MS },
          )
        : network.request(
            batch.peer,
            protocols.purgeRecords,
            { kind: 'push', bucket: batch.bucket, purges: batch.records as PurgeRecord[] },
            { timeoutMs: PUSH_TIMEOUT_MS },
          )
    request.then(
      (answer) => {
        if (answer.kind === 'stored') for (const waiter of batch.waiters) waiter.resolve()
        else {
          const err = new Error(
            answer.kind === 'refused' ? `${answer.code}: ${answer.message}` : 'unexpected answer',
          )
          for (const waiter of batch.waiters) waiter.reject(err)
        }
      },
      (err: unknown) => {
        this.#init.logger.debug({ peer: batch.peer, err }, 'pushing records to a node failed')
        for (const waiter of batch.waiters) waiter.reject(err)
      },
    )
  }

  /** Pushes bucket records to every connected node, waiting (bounded) for their answers; failures are left to anti-entropy. */
  async #pushBuckets(request: BucketRecordsRequest): Promise<void> {
    const { network, protocols, nodes } = this.#init
    await Promise.allSettled(
      nodes.connected().map(async (peer) => {
        try {
          await network.request(peer, protocols.buckets, request, { timeoutMs: PUSH_TIMEOUT_MS })
        } catch (err) {
          this.#init.logger.debug({ peer, err }, 'pushing bucket records to a node failed')
        }
      }),
    )
  }

  // Applying records from other nodes.

  /**
   * Stores a batch of records all at once (independent writes: they share the index's commits instead
   * of waiting for one commit each, in turn); the first failure other than a version conflict is thrown
   * once all have settled.
   */
  async #applyVersions(versions: readonly ObjectVersion[]): Promise<number> {
    for (const version of versions) this.#init.clock.observe(version.versionId)
    const results = await Promise.allSettled(versions.map((version) => this.#local.putVersion(version)))
    let stored = 0
    let failure: { err: unknown } | undefined
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') {
        if (result.value.stored) stored++
      } else if (isDataError(result.reason, 'VersionConflict')) {
        const version = versions[i] as ObjectVersion
        this.#init.logger.warn(
          { bucket: version.bucket, key: version.key },
          'two different records share a version id',
        )
      } else failure ??= { err: result.reason }
    })
    this.counters.recordsReceived += stored
    if (failure !== undefined) throw failure.err
    return stored
  }

  async #applyPurges(purges: readonly PurgeRecord[]): Promise<number> {
    let stored = 0
    for (const purge of purges) if ((await this.#local.purgeVersion(purge)).stored) stored++
    this.counters.recordsReceived += stored
    return stored
  }

  /** Merges bucket records: tombstones first, so a deleted bucket's record does not come back. */
  async #applyBuckets(buckets: readonly Bucket[], tombstones: readonly BucketTombstone[]): Promise<void> {
    for (const tombstone of tombstones) {
      await this.#init.tombstones.add(tombstone)
      const existing = await this.#find(tombstone.name)
      if (existing === undefined || existing.createdAt > tombstone.createdAt) continue
      try {
        await this.#local.deleteBucket(tombstone.name)
      } catch (err) {
        if (!isDataError(err, 'BucketNotEmpty')) throw err
        this.#init.logger.warn(
          { bucket: tombstone.name },
          'a bucket deleted on another node still holds objects here (written concurrently with the delete); it stays',
        )
      }
    }
    for (const bucket of buckets) {
      if (this.#init.tombstones.buries(bucket)) continue
      let existing = await this.#find(bucket.name)
      if (existing === undefined) {
        const lww = bucket.versioningChangeId !== undefined
        existing = await this.#init.createBucketAt(
          bucket.name,
          {
            group: bucket.group,
            ...(!lww && bucket.versioning !== undefined ? { versioning: bucket.versioning } : {}),
          },
          bucket.createdAt,
        )
      } else if (existing.createdAt !== bucket.createdAt || existing.group !== bucket.group) {
        this.#init.logger.warn(
          { bucket: bucket.name },
          'two nodes created a bucket of the same name; this node keeps its own',
        )
        continue
      }
      if (
        bucket.versioningChangeId !== undefined &&
        bucket.versioning !== undefined &&
        bucket.versioning !== 'Unversioned'
      )
        await this.#local.setBucketVersioning(bucket.name, bucket.versioning, bucket.versioningChangeId)
      if (bucket.corsChangeId !== undefined)
        await this.#local.setBucketCors(bucket.name, bucket.cors, bucket.corsChangeId)
    }
  }

  async #find(name: string): Promise<Bucket | undefined> {
    try {
      return await this.#local.getBucket(name)
    } catch (err) {
      if (isDataError(err, 'NoSuchBucket')) return undefined
      throw err
    }
  }

  // Serving other nodes.

  /** Answers other nodes' record pushes, pulls and digests, and starts anti-entropy. */
  serve(): () => void {
    const { network, protocols, nodes } = this.#init
    network.handle(
      protocols.versionRecords,
      (request, context) =>
        this.#answerRecords('versions', request, context.peer) as Promise<VersionRecordsResponse>,
    )
    network.handle(
      protocols.purgeRecords,
      (request, context) =>
        this.#answerRecords('purges', request, context.peer) as Promise<PurgeRecordsResponse>,
    )
    network.handle(protocols.rangeDigests, async (request): Promise<RangeDigestsResponse> => {
      try {
        const digests = await Promise.all(
          request.ranges.map((range) => this.#local.digestRange(request.bucket, range)),
        )
        return { kind: 'digests', digests }
      } catch (err) {
        return refusal(err)
      }
    })
    network.handle(protocols.buckets, async (request): Promise<BucketRecordsResponse> => {
      try {
        if (request.kind === 'pull')
          return {
            kind: 'records',
            buckets: await this.#local.listBuckets(),
            tombstones: this.#init.tombstones.all(),
          }
        await this.#applyBuckets(request.buckets, request.tombstones)
        return { kind: 'stored' }
      } catch (err) {
        return refusal(err)
      }
    })
    for (const peer of nodes.connected()) this.#unsynced.add(peer)
    const gone = ({ peer }: { peer: string }): void => {
      this.#unsynced.delete(peer)
    }
    this.#cleanups.push(
      network.on('peer:join', ({ peer }) => {
        this.#unsynced.add(peer)
        this.#round(peer)
      }),
      network.on('peer:leave', gone),
      network.on('peer:unreachable', gone),
    )
    this.#timer = setInterval(() => {
      for (const peer of nodes.connected()) this.#round(peer)
    }, this.#init.antiEntropyMs)
    this.#timer.unref()
    return () => {
      this.#stopped = true
      clearInterval(this.#timer)
      for (const cleanup of this.#cleanups.splice(0)) cleanup()
      for (const protocol of [
        protocols.versionRecords,
        protocols.purgeRecords,
        protocols.rangeDigests,
        protocols.buckets,
      ])
        network.unhandle(protocol.id)
    }
  }

  /**
   * Answers a request of one kind of record: a pull with a page, a push by applying it (pulling the
   * sender's bucket records first when the bucket is new here).
   */
  async #answerRecords(
    kind: RecordKind,
    request: VersionRecordsRequest | PurgeRecordsRequest,
    peer: string,
  ): Promise<VersionRecordsResponse | PurgeRecordsResponse> {
    try {
      if (request.kind === 'pull') {
        const page = await this.#pullPage(request.bucket, request.range, request.after, request.limit, kind)
        return kind === 'versions'
          ? {
              kind: 'records',
              bucket: request.bucket,
              versions: page.records as ObjectVersion[],
              ...page.next,
            }
          : { kind: 'records', bucket: request.bucket, purges: page.records as PurgeRecord[], ...page.next }
      }
      // Chunks that came with the versions are stored (verified) before them; a commit the store
      // deferred is ordered before the versions', and the answer waits for it.
      const committed: Promise<void>[] = []
      if ('versions' in request && request.chunks !== undefined)
        await this.#storeChunks(request.chunks, committed)
      const stored = await this.#withBucket(peer, request.bucket, () =>
        'versions' in request ? this.#applyVersions(request.versions) : this.#applyPurges(request.purges),
      )
      await Promise.all(committed)
      return { kind: 'stored', stored }
    } catch (err) {
      return refusal(err)
    }
  }

  /** Stores the chunks of a push; the commits the store defers are added to `committed`. */
  async #storeChunks(
    chunks: readonly { readonly cid: string; readonly bytes: Uint8Array }[],
    committed: Promise<void>[],
  ): Promise<void> {
    const store = this.#init.storeChunk
    if (store === undefined)
      throw new DataError('InvalidRequest', 'this node takes no chunks with version records')
    const defer = (commit: Promise<void>) => {
      // Read once the versions are applied; this only keeps a failure of a push that fails anyway
      // from going unhandled.
      commit.catch(() => {})
      committed.push(commit)
    }
    await Promise.all(
      chunks.map(({ cid, bytes }) =>
        store(cid, bytes, defer).catch((err: unknown) => {
          if (isDataError(err, 'CorruptChunk'))
            throw new DataError('InvalidRequest', `the bytes sent for chunk ${cid} do not match it`)
          throw err
        }),
      ),
    )
  }

  /**
   * Runs `apply`; when the bucket is not known here yet (its record is still on the way), pulls the
   * sender's bucket records first and runs it again.
   */
  async #withBucket<T>(peer: string, bucket: string, apply: () => Promise<T>): Promise<T> {
    try {
      return await apply()
    } catch (err) {
      if (!isDataError(err, 'NoSuchBucket')) throw err
      await this.#pullBuckets(peer)
      if (this.#init.tombstones.has(bucket)) return apply().catch(() => 0 as T)
      return apply()
    }
  }

  /** One page of a bucket's records in `range` after `after`, in index order. */
  async #pullPage(
    bucket: string,
    range: KeyRange,
    after: RecordCursor | undefined,
    limit: number,
    kind: RecordKind,
  ): Promise<{ records: Array<ObjectVersion | PurgeRecord>; next: { next?: RecordCursor } }> {
    const options = {
      range,
      ...(after === undefined ? {} : { keyMarker: after.key, versionIdMarker: after.versionId }),
    }
    const source: AsyncIterable<ObjectVersion | PurgeRecord> =
      kind === 'versions'
        ? this.#local.listVersions(bucket, options)
        : this.#local.listPurges(bucket, options)
    const records: Array<ObjectVersion | PurgeRecord> = []
    let more = false
    for await (const record of source) {
      if (records.length === limit) {
        more = true
        break
      }
      records.push(record)
    }
    const last = records.at(-1)
    return {
      records,
      next: more && last !== undefined ? { next: { key: last.key, versionId: last.versionId } } : {},
    }
  }

  // Anti-entropy.

  /** One anti-entropy round with `peer`, unless one is running already. */
  #round(peer: string): void {
    if (this.#stopped || this.#rounds.has(peer)) return
    const round = this.antiEntropy(peer)
      .then(() => {
        this.#unsynced.delete(peer)
      })
      .catch((err) => {
        if (!this.#stopped) this.#init.logger.debug({ peer, err }, 'an anti-entropy round failed')
      })
      .finally(() => this.#rounds.delete(peer))
    this.#rounds.set(peer, round)
  }

  /** Pulls what `peer` has and this node lacks: bucket records, then the records of every bucket that differs. */
  async antiEntropy(peer: string): Promise<void> {
    await this.#pullBuckets(peer)
    const { network, protocols } = this.#init
    for (const bucket of await this.#local.listBuckets()) {
      if (this.#stopped) return
      const answer = await network.request(
        peer,
        protocols.rangeDigests,
        { kind: 'digests', bucket: bucket.name, ranges: [{}] },
        { timeoutMs: PULL_TIMEOUT_MS },
      )
      if (answer.kind !== 'digests') continue // the peer does not have it yet: it pulls it from us
      const mine = await this.#local.digestRange(bucket.name)
      const theirs = answer.digests[0]
      if (theirs === undefined || (theirs.digest === mine.digest && theirs.count === mine.count)) continue
      this.counters.antiEntropyRepairs++
      await this.#pullRange(peer, bucket.name, {})
    }
    this.counters.antiEntropyRounds++
  }

  async #pullBuckets(peer: string): Promise<void> {
    const answer = await this.#init.network.request(
      peer,
      this.#init.protocols.buckets,
      { kind: 'pull' },
      { timeoutMs: PULL_TIMEOUT_MS },
    )
    if (answer.kind === 'records') await this.#applyBuckets(answer.buckets, answer.tombstones)
  }

  /** Pulls `peer`'s version and purge records of `bucket` in `range`, page by page. */
  async #pullRange(peer: string, bucket: string, range: KeyRange): Promise<void> {
    for (const kind of ['versions', 'purges'] as const) {
      const protocol =
        kind === 'versions' ? this.#init.protocols.versionRecords : this.#init.protocols.purgeRecords
      let after: RecordCursor | undefined
      for (;;) {
        const answer = (await this.#init.network.request(
          peer,
          protocol as ReplicationProtocols['versionRecords'],
          { kind: 'pull', bucket, range, limit: MAX_RECORDS, ...(after === undefined ? {} : { after }) },
          { timeoutMs: PULL_TIMEOUT_MS },
        )) as VersionRecordsResponse | PurgeRecordsResponse
        if (answer.kind !== 'records') break
        if ('versions' in answer) await this.#applyVersions(answer.versions)
        else await this.#applyPurges(answer.purges)
        if (answer.next === undefined || this.#stopped) break
        after = answer.next
      }
    }
  }

  /** Waits (bounded) for anti-entropy rounds in flight. */
  async quiesce(): Promise<void> {
    await Promise.allSettled([...this.#rounds.values()])
  }
}

function refusal(err: unknown): {
  kind: 'refused'
  code: 'NoSuchBucket' | 'InvalidRequest' | 'Unavailable'
  message: string
} {
  if (isDataError(err, 'NoSuchBucket'))
    return { kind: 'refused', code: 'NoSuchBucket', message: 'no such bucket here' }
  if (isDataError(err) && err.code.startsWith('Invalid'))
    return { kind: 'refused', code: 'InvalidRequest', message: err.message }
  if (isNetworkError(err)) return { kind: 'refused', code: 'Unavailable', message: err.code }
  return { kind: 'refused', code: 'Unavailable', message: 'the key index failed' }
}
