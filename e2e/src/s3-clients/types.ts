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
  close(): Promise<void>
}

export interface ClientSpec {
  readonly name: string
  /** Builds the client (resolving its tool first: a missing tool throws a clear error). */
  create(setup: ClientSetup): Promise<S3TestClient>
}
