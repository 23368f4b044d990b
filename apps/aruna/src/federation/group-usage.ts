/**
 * Storage used per group: the bytes and the number of content versions of the group's buckets, each
 * version counted once however many nodes hold copies (the realm's key index is on every node, so each
 * node counts the whole realm from its own index, and nodes whose indexes agree agree on usage).
 *
 * `CountingObjectIndex` wraps the node's own index and keeps the counts in step with every record that
 * lands in it, from this node's writes and from other nodes' alike; `recount` rebuilds them from the
 * index (at start, and periodically, so drift cannot accumulate). Old versions count (they hold bytes)
 * and delete markers do not.
 *
 * Departure from issue #19's suggestion of a per-node counter CRDT: usage is derived from the
 * replicated key index, which already merges without double counting; the counts converge when the
 * indexes do, and a recount is the same computation.
 */
import {
  type Bucket,
  type BucketVersioning,
  type ContentVersion,
  type CorsConfiguration,
  type CreateBucketOptions,
  isDataError,
  type KeyRange,
  type ListOptions,
  type ListResult,
  type ListVersionsOptions,
  type ObjectIndex,
  type ObjectVersion,
  type PurgeRecord,
  type PurgeResult,
  type PutVersionResult,
  type RangeDigest,
  type RecordRangeOptions,
} from '@aruna/data'

export interface UsageFigures {
  bytes: number
  objects: number
}

interface BucketUsage extends UsageFigures {
  readonly group: string
}

/** The counts, by bucket; read by group. */
export class GroupUsage {
  #buckets = new Map<string, BucketUsage>()
  /** Changes counted while a recount ran: applied on top of its result. */
  #during: Array<(buckets: Map<string, BucketUsage>) => void> | undefined

  /** Usage of one group (zero when it has no buckets). */
  ofGroup(group: string): UsageFigures {
    const total = { bytes: 0, objects: 0 }
    for (const usage of this.#buckets.values())
      if (usage.group === group) {
        total.bytes += usage.bytes
        total.objects += usage.objects
      }
    return total
  }

  /** Usage of every group with at least one bucket. */
  byGroup(): Map<string, UsageFigures> {
    const groups = new Map<string, UsageFigures>()
    for (const usage of this.#buckets.values()) {
      const total = groups.get(usage.group) ?? { bytes: 0, objects: 0 }
      total.bytes += usage.bytes
      total.objects += usage.objects
      groups.set(usage.group, total)
    }
    return groups
  }

  /** The group a bucket belongs to, when the counts know the bucket. */
  groupOf(bucket: string): string | undefined {
    return this.#buckets.get(bucket)?.group
  }

  /** Counts everything again from `index`; changes made meanwhile are kept. */
  async recount(index: ObjectIndex): Promise<void> {
    const during: Array<(buckets: Map<string, BucketUsage>) => void> = []
    this.#during = during
    try {
      const fresh = new Map<string, BucketUsage>()
      for (const bucket of await index.listBuckets()) {
        const usage = { group: bucket.group, bytes: 0, objects: 0 }
        try {
          for await (const version of index.listVersions(bucket.name)) {
            if (version.deleteMarker === true) continue
            usage.bytes += version.manifest.size
            usage.objects++
          }
        } catch (err) {
          if (!isDataError(err, 'NoSuchBucket')) throw err
          continue
        }
        fresh.set(bucket.name, usage)
      }
      for (const change of during) change(fresh)
      this.#buckets = fresh
    } finally {
      this.#during = undefined
    }
  }

  #change(change: (buckets: Map<string, BucketUsage>) => void): void {
    change(this.#buckets)
    this.#during?.push(change)
  }

  bucketCreated(bucket: Bucket): void {
    this.#change((buckets) => {
      if (!buckets.has(bucket.name)) buckets.set(bucket.name, { group: bucket.group, bytes: 0, objects: 0 })
    })
  }

  bucketDeleted(name: string): void {
    this.#change((buckets) => buckets.delete(name))
  }

  /** A version stored (+1) or purged (−1). */
  versionCounted(version: ObjectVersion, sign: 1 | -1): void {
    if (version.deleteMarker === true) return
    const size = version.manifest.size
    this.#change((buckets) => {
      const usage = buckets.get(version.bucket)
      if (usage === undefined) return
      usage.bytes += sign * size
      usage.objects += sign
    })
  }
}

/** The node's own index with `GroupUsage` kept in step with every record stored in it. */
export class CountingObjectIndex implements ObjectIndex {
  readonly #index: ObjectIndex
  readonly #usage: GroupUsage

  constructor(index: ObjectIndex, usage: GroupUsage) {
    this.#index = index
    this.#usage = usage
  }

  async putVersion(version: ObjectVersion): Promise<PutVersionResult> {
    const result = await this.#index.putVersion(version)
    if (result.stored) this.#usage.versionCounted(version, 1)
    return result
  }

  async purgeVersion(purge: PurgeRecord): Promise<PurgeResult> {
    const result = await this.#index.purgeVersion(purge)
    if (result.removed !== undefined) this.#usage.versionCounted(result.removed, -1)
    return result
  }

  async createBucket(name: string, options: CreateBucketOptions): Promise<Bucket> {
    const bucket = await this.#index.createBucket(name, options)
    this.#usage.bucketCreated(bucket)
    return bucket
  }

  async deleteBucket(name: string): Promise<void> {
    await this.#index.deleteBucket(name)
    this.#usage.bucketDeleted(name)
  }

  getCurrent(bucket: string, key: string): Promise<ContentVersion> {
    return this.#index.getCurrent(bucket, key)
  }
  getVersion(bucket: string, key: string, versionId: string): Promise<ObjectVersion> {
    return this.#index.getVersion(bucket, key, versionId)
  }
  listVersions(bucket: string, options?: ListVersionsOptions): AsyncIterable<ObjectVersion> {
    return this.#index.listVersions(bucket, options)
  }
  list(bucket: string, options?: ListOptions): Promise<ListResult> {
    return this.#index.list(bucket, options)
  }
  getBucket(name: string): Promise<Bucket> {
    return this.#index.getBucket(name)
  }
  listBuckets(options?: { group?: string }): Promise<Bucket[]> {
    return this.#index.listBuckets(options)
  }
  listPurges(bucket: string, options?: RecordRangeOptions): AsyncIterable<PurgeRecord> {
    return this.#index.listPurges(bucket, options)
  }
  digestRange(bucket: string, range?: KeyRange): Promise<RangeDigest> {
    return this.#index.digestRange(bucket, range)
  }
  setBucketVersioning(name: string, versioning: BucketVersioning, changeId: string): Promise<Bucket> {
    return this.#index.setBucketVersioning(name, versioning, changeId)
  }
  setBucketCors(name: string, cors: CorsConfiguration | undefined, changeId: string): Promise<Bucket> {
    return this.#index.setBucketCors(name, cors, changeId)
  }
}
