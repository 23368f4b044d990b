import { DataError } from './errors.js'
import { parseVersionId } from './hlc.js'
import { compareKeys, validateBucketName, validateGroupId, validateKey } from './keys.js'
import { type KeyScan, listPage, type ScanStart } from './listing.js'
import { recordId } from './lmdb-keys.js'
import type {
  Bucket,
  BucketVersioning,
  ContentVersion,
  CorsConfiguration,
  CreateBucketOptions,
  KeyRange,
  ListOptions,
  ListResult,
  ListVersionsOptions,
  ObjectIndex,
  ObjectVersion,
  PurgeRecord,
  PurgeResult,
  PutVersionResult,
  RangeDigest,
  RecordRangeOptions,
} from './port.js'
import { RangeDigester } from './range-digest.js'
import {
  sameVersion,
  summarize,
  validatePurge,
  validateVersion,
  validateVersioningChange,
  versioningChangeWins,
} from './version-record.js'

interface BucketState {
  bucket: Bucket
  /** Each key's versions, newest (greatest version id) first. */
  history: Map<string, ObjectVersion[]>
  /** Every key with at least one version, sorted. */
  keys: string[]
  /** Keys whose newest version holds content, sorted: what ListObjectsV2 pages through. */
  live: string[]
  /** Purge records by `key NUL versionId`. */
  purges: Map<string, PurgeRecord>
}

export interface MemoryObjectIndexInit {
  /** Clock for bucket creation times; default the system clock. */
  now?: () => Date
}

/**
 * An `ObjectIndex` in memory, for tests of the layers above and as the reference the LMDB index is
 * checked against. Sorted arrays stand in for the ordered store: one binary search per seek.
 * Records are copied in and out, so callers cannot change what the index holds.
 */
export class MemoryObjectIndex implements ObjectIndex {
  readonly #buckets = new Map<string, BucketState>()
  readonly #now: () => Date

  constructor(init: MemoryObjectIndexInit = {}) {
    this.#now = init.now ?? (() => new Date())
  }

  async putVersion(version: ObjectVersion): Promise<PutVersionResult> {
    validateVersion(version)
    const state = this.#state(version.bucket)
    if (state.purges.has(purgeId(version.key, version.versionId)))
      return { stored: false, current: false, onlyVersion: false }
    let versions = state.history.get(version.key)
    if (versions === undefined) {
      versions = []
      state.history.set(version.key, versions)
      insertSorted(state.keys, version.key)
    }
    // Newest first: the position is the number of versions with a greater id.
    let at = 0
    while (at < versions.length && versions[at]!.versionId > version.versionId) at++
    const existing = versions[at]
    if (existing !== undefined && existing.versionId === version.versionId) {
      if (!sameVersion(existing, version)) {
        throw new DataError(
          'VersionConflict',
          `a different record already has version id ${version.versionId}`,
        )
      }
      return { stored: false, current: at === 0, onlyVersion: false }
    }
    const onlyVersion = versions.length === 0
    versions.splice(at, 0, structuredClone(version))
    if (at === 0) {
      if (version.deleteMarker === true) removeSorted(state.live, version.key)
      else insertSorted(state.live, version.key)
    }
    return { stored: true, current: at === 0, onlyVersion }
  }

  async getCurrent(bucket: string, key: string): Promise<ContentVersion> {
    validateKey(key)
    const current = this.#state(bucket).history.get(key)?.[0]
    if (current === undefined || current.deleteMarker === true) {
      throw new DataError('NoSuchKey', `no object ${key} in bucket ${bucket}`)
    }
    return structuredClone(current)
  }

  async getVersion(bucket: string, key: string, versionId: string): Promise<ObjectVersion> {
    validateKey(key)
    const versions = this.#state(bucket).history.get(key) ?? []
    const found = versions.find((v) => v.versionId === versionId)
    if (found === undefined) throw new DataError('NoSuchVersion', `no version ${versionId} of ${key}`)
    return structuredClone(found)
  }

  async *listVersions(bucket: string, options: ListVersionsOptions = {}): AsyncGenerator<ObjectVersion> {
    const state = this.#state(bucket)
    if (options.key !== undefined) validateKey(options.key)
    const prefix = options.key ?? options.prefix ?? ''
    const range = inRange(options.range)
    const wanted = (key: string | undefined): key is string =>
      key !== undefined &&
      (options.key === undefined ? key.startsWith(prefix) : key === options.key) &&
      range.includes(key)

    let start: ScanStart = { key: prefix, inclusive: true }
    const marker = options.keyMarker
    if (marker !== undefined && compareKeys(marker, prefix) >= 0) {
      start = { key: marker, inclusive: false }
      if (options.versionIdMarker !== undefined && wanted(marker)) {
        const older = (state.history.get(marker) ?? []).filter((v) => v.versionId < options.versionIdMarker!)
        for (const version of older) yield structuredClone(version)
      }
    }
    if (range.start !== undefined && compareKeys(range.start, start.key) > 0)
      start = { key: range.start, inclusive: true }
    // Seek afresh for every key, so writes between two reads neither skip nor repeat a key.
    for (;;) {
      const key = state.keys[seek(state.keys, start)]
      if (!wanted(key)) return
      for (const version of [...(state.history.get(key) ?? [])]) yield structuredClone(version)
      start = { key, inclusive: false }
    }
  }

  async list(bucket: string, options: ListOptions = {}): Promise<ListResult> {
    const state = this.#state(bucket)
    const scan: KeyScan<ContentVersion> = function* (start) {
      for (let i = seek(state.live, start); i < state.live.length; i++) {
        const key = state.live[i]!
        yield [key, state.history.get(key)![0] as ContentVersion] as const
      }
    }
    const page = listPage(scan, options)
    const result: ListResult = {
      objects: page.entries.map(([, version]) => summarize(version)),
      commonPrefixes: page.commonPrefixes,
      keyCount: page.entries.length + page.commonPrefixes.length,
      isTruncated: page.isTruncated,
    }
    if (page.nextContinuationToken !== undefined) result.nextContinuationToken = page.nextContinuationToken
    return result
  }

  async createBucket(name: string, options: CreateBucketOptions): Promise<Bucket> {
    validateBucketName(name)
    validateGroupId(options?.group)
    if (this.#buckets.has(name)) throw new DataError('BucketAlreadyExists', `bucket ${name} exists`)
    const bucket: Bucket = {
      name,
      group: options.group,
      createdAt: this.#now().toISOString(),
      versioning: options.versioning ?? 'Unversioned',
    }
    this.#buckets.set(name, { bucket, history: new Map(), keys: [], live: [], purges: new Map() })
    return { ...bucket }
  }

  async deleteBucket(name: string): Promise<void> {
    const state = this.#state(name)
    if (state.live.length > 0) throw new DataError('BucketNotEmpty', `bucket ${name} is not empty`)
    this.#buckets.delete(name)
  }

  async getBucket(name: string): Promise<Bucket> {
    return copyBucket(this.#state(name).bucket)
  }

  async listBuckets(options: { group?: string } = {}): Promise<Bucket[]> {
    return [...this.#buckets.values()]
      .map((state) => copyBucket(state.bucket))
      .filter((bucket) => options.group === undefined || bucket.group === options.group)
      .sort((a, b) => compareKeys(a.name, b.name))
  }

  async purgeVersion(purge: PurgeRecord): Promise<PurgeResult> {
    validatePurge(purge)
    const state = this.#state(purge.bucket)
    const id = purgeId(purge.key, purge.versionId)
    const existing = state.purges.get(id)
    if (existing !== undefined && existing.purgedAt <= purge.purgedAt) return { stored: false }
    state.purges.set(id, { ...purge })
    const versions = state.history.get(purge.key) ?? []
    const at = versions.findIndex((v) => v.versionId === purge.versionId)
    if (at < 0) return { stored: true }
    const [removed] = versions.splice(at, 1)
    if (versions.length === 0) {
      state.history.delete(purge.key)
      removeSorted(state.keys, purge.key)
    }
    if (at === 0) {
      const next = versions[0]
      if (next === undefined || next.deleteMarker === true) removeSorted(state.live, purge.key)
      else insertSorted(state.live, purge.key)
    }
    return { stored: true, removed: removed! }
  }

  async *listPurges(bucket: string, options: RecordRangeOptions = {}): AsyncGenerator<PurgeRecord> {
    const purges = this.#purgesInRange(this.#state(bucket), options.range)
    const { keyMarker, versionIdMarker } = options
    const after = (purge: PurgeRecord): boolean => {
      if (keyMarker === undefined) return true
      const order = compareKeys(purge.key, keyMarker)
      return order > 0 || (order === 0 && versionIdMarker !== undefined && purge.versionId < versionIdMarker)
    }
    for (const purge of purges) if (after(purge)) yield { ...purge }
  }

  async digestRange(bucket: string, range: KeyRange = {}): Promise<RangeDigest> {
    const state = this.#state(bucket)
    const bounds = inRange(range)
    const digester = new RangeDigester()
    for (let i = seek(state.keys, { key: bounds.start ?? '', inclusive: true }); i < state.keys.length; i++) {
      const key = state.keys[i]!
      if (!bounds.includes(key)) break
      for (const version of state.history.get(key)!) digester.version(recordId(key, version.versionId))
    }
    for (const purge of this.#purgesInRange(state, range))
      digester.purge(recordId(purge.key, purge.versionId))
    return digester.digest()
  }

  /** The purge records of `range` in index order: by key, newest version id first. */
  #purgesInRange(state: BucketState, range: KeyRange | undefined): PurgeRecord[] {
    const bounds = inRange(range)
    return [...state.purges.values()]
      .filter((purge) => bounds.includes(purge.key))
      .sort((a, b) => compareKeys(a.key, b.key) || (a.versionId < b.versionId ? 1 : -1))
  }

  async setBucketVersioning(name: string, versioning: BucketVersioning, changeId: string): Promise<Bucket> {
    validateVersioningChange(versioning, changeId)
    const state = this.#state(name)
    if (versioningChangeWins(state.bucket, versioning, changeId)) {
      state.bucket = { ...state.bucket, versioning, versioningChangeId: changeId }
    }
    return copyBucket(state.bucket)
  }

  async setBucketCors(name: string, cors: CorsConfiguration | undefined, changeId: string): Promise<Bucket> {
    parseVersionId(changeId)
    const state = this.#state(name)
    const last = state.bucket.corsChangeId
    if (last === undefined || changeId > last) {
      const { cors: _replaced, ...rest } = state.bucket
      state.bucket = {
        ...rest,
        ...(cors !== undefined ? { cors: structuredClone(cors) } : {}),
        corsChangeId: changeId,
      }
    }
    return copyBucket(state.bucket)
  }

  #state(bucket: string): BucketState {
    const state = this.#buckets.get(bucket)
    if (state === undefined) throw new DataError('NoSuchBucket', `no bucket ${bucket}`)
    return state
  }
}

/**
 * A key range's bounds as the LMDB index reads them: as UTF-8, where an unpaired surrogate becomes
 * U+FFFD. Keys are well-formed, so `compareKeys` then orders a key and a bound as their bytes do.
 */
function inRange(range: KeyRange | undefined): {
  start?: string
  includes: (key: string) => boolean
} {
  const start = range?.start === undefined ? undefined : asUtf8(range.start)
  const end = range?.end === undefined ? undefined : asUtf8(range.end)
  return {
    ...(start === undefined ? {} : { start }),
    includes: (key) =>
      (start === undefined || compareKeys(key, start) >= 0) &&
      (end === undefined || compareKeys(key, end) < 0),
  }
}

function asUtf8(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8')
}

function purgeId(key: string, versionId: string): string {
  return `${key}\u0000${versionId}`
}

/** Index of the first key at or after `start` in `sorted`. */
function seek(sorted: string[], start: ScanStart): number {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const mid = (low + high) >>> 1
    const order = compareKeys(sorted[mid]!, start.key)
    if (order < 0 || (order === 0 && !start.inclusive)) low = mid + 1
    else high = mid
  }
  return low
}

function insertSorted(sorted: string[], key: string): void {
  const at = seek(sorted, { key, inclusive: true })
  if (sorted[at] !== key) sorted.splice(at, 0, key)
}

function removeSorted(sorted: string[], key: string): void {
  const at = seek(sorted, { key, inclusive: true })
  if (sorted[at] === key) sorted.splice(at, 1)
}

/** A copy of a bucket record that shares nothing with the one the index holds. */
function copyBucket(bucket: Bucket): Bucket {
  return bucket.cors === undefined ? { ...bucket } : { ...bucket, cors: structuredClone(bucket.cors) }
}
