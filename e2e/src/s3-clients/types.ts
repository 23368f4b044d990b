/** What every S3 client of the matrix can do, whatever it is underneath (a library or a command). */
import type { S3Credentials } from '../cluster.js'

export interface ClientSetup {
  /** The node's S3 endpoint, `http://127.0.0.1:<port>`. */
  readonly s3Url: string
  readonly credentials: S3Credentials
  readonly region: string
  /** A fresh folder of this client's own: HOME and config files live here, nothing from the machine. */
  readonly home: string
  /** Part size for multipart uploads (and the single-PUT cutoff where a client has one). */
  readonly partSize: number
}

export interface ListOutcome {
  /** Full keys, in the order the client reported them. */
  readonly keys: readonly string[]
  /** Full common prefixes (ending with the delimiter). */
  readonly prefixes: readonly string[]
  /** How many list requests the client sent, where it can tell. */
  readonly pages: number
}

export interface HeadOutcome {
  readonly size: number
  readonly etag: string
}

export interface S3TestClient {
  readonly name: string
  /** The tool or library and its version, for the report. */
  readonly version: string
  /**
   * `closed`: any `bytes=a-b`; `open-ended`: only `bytes=a-` (s3cmd, which asks for a range only to resume
   * a partial download).
   */
  readonly ranges: 'closed' | 'open-ended'
  /** How the listing is paged, for the report. */
  readonly paging: string
  createBucket(bucket: string): Promise<void>
  listBuckets(): Promise<string[]>
  /** One PUT request (no multipart). */
  putObject(bucket: string, key: string, file: string, size: number): Promise<void>
  /** The client's own multipart path, with parts of `partSize`. */
  putMultipart(bucket: string, key: string, file: string, size: number): Promise<void>
  /** Many small files under a prefix, the client's own way (a loop, or a recursive upload). */
  putTree(bucket: string, prefix: string, dir: string, relativePaths: readonly string[]): Promise<void>
  getObject(bucket: string, key: string, dest: string): Promise<void>
  /** Bytes `start..end` (inclusive); `end` undefined: to the end of the object. */
  getRange(
    bucket: string,
    key: string,
    start: number,
    end: number | undefined,
    scratch: string,
  ): Promise<Buffer>
  /** One listing of `prefix` with delimiter `/`, paged by `pageSize` where the client allows it. */
  list(bucket: string, prefix: string, pageSize: number): Promise<ListOutcome>
  copyObject(bucket: string, sourceKey: string, destKey: string): Promise<void>
  /** `undefined` when the key does not exist. */
  headObject(bucket: string, key: string): Promise<HeadOutcome | undefined>
  deleteObject(bucket: string, key: string): Promise<void>
  /** Deletes every object in the bucket, the client's own way (DeleteObjects where it uses it). */
  deleteAll(bucket: string): Promise<void>
  deleteBucket(bucket: string): Promise<void>
  /**
   * Makes `prefix` in the bucket a copy of the local folder `dir`, moving the objects it replaces or
   * deletes to `backupPrefix` first, server-side (`rclone sync --backup-dir`). Only clients that have it.
   */
  syncWithBackup?(bucket: string, dir: string, prefix: string, backupPrefix: string): Promise<void>
  /** Deletes every object of the bucket and the bucket, in one command (`rclone purge`). */
  purge?(bucket: string): Promise<void>
  /** What the client does with object versions; every part it cannot do is a named gap. */
  readonly versions: VersionSupport
  close(): Promise<void>
}

/** Why a client cannot do a part of the version round trip: the scenario reports it and the oracle stands in. */
export interface Gap {
  readonly gap: string
}

export function isGap(part: unknown): part is Gap {
  return typeof part === 'object' && part !== null && 'gap' in part
}

/** One entry of a version listing, as the client reported it. */
export interface ListedVersion {
  readonly key: string
  /** `undefined` where the client does not show version ids (rclone names old versions by time). */
  readonly versionId: string | undefined
  /** Where the client tells versions apart by time instead of id (rclone's `-vYYYY-MM-DD-HHMMSS-mmm`). */
  readonly lastModified?: Date
  readonly isLatest: boolean
  readonly deleteMarker: boolean
  /** Bytes; 0 for a delete marker. */
  readonly size: number
}

/**
 * Object versions, the client's own way: each part is the operation or a `Gap` saying why the client has
 * none (s3cmd has no version commands at all; rclone addresses versions by time, not id).
 */
export interface VersionSupport {
  /** PutBucketVersioning `Enabled`, then the status the client reads back. */
  readonly enable: ((bucket: string) => Promise<string>) | Gap
  /** Whether `list` reports version ids (rclone tells old versions apart by their LastModified instead). */
  readonly showsVersionIds: true | Gap
  /** ListObjectVersions under `prefix`: versions and delete markers, as the client shows them. */
  readonly list: ((bucket: string, prefix: string) => Promise<ListedVersion[]>) | Gap
  /** Whether `list` shows delete markers (rclone hides them: a deleted key shows only its old versions). */
  readonly listsDeleteMarkers: true | Gap
  /** GET `?versionId=` of an entry of the client's own listing, into `dest`. */
  readonly get: ((bucket: string, version: ListedVersion, dest: string) => Promise<void>) | Gap
  /** DELETE `?versionId=` of an entry of the client's own listing (a version or a delete marker). */
  readonly remove: ((bucket: string, version: ListedVersion) => Promise<void>) | Gap
  /** DeleteObjects naming every entry with its version id. */
  readonly removeMany: ((bucket: string, versions: readonly ListedVersion[]) => Promise<void>) | Gap
  /** The key as it was at a moment (`rclone --s3-version-at`); only clients that have it. */
  getAt?(bucket: string, key: string, at: Date, dest: string): Promise<void>
  /** Deletes every non-current version and current delete marker (`rclone backend cleanup-hidden`). */
  cleanupHidden?(bucket: string): Promise<void>
}

export interface ClientSpec {
  readonly name: string
  /** Builds the client (resolving its tool first: a missing tool throws a clear error). */
  create(setup: ClientSetup): Promise<S3TestClient>
}
