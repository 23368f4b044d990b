/**
 * `@aws-sdk/client-s3` (v3) in its default checksum mode (CRC32 on every upload: streamed bodies go out
 * as `aws-chunked` with a trailer) or with `requestChecksumCalculation: 'WHEN_REQUIRED'`; multipart
 * through `@aws-sdk/lib-storage`.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
  type S3ClientConfig,
  S3ServiceException,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import type {
  ClientSetup,
  ClientSpec,
  HeadOutcome,
  ListedVersion,
  ListOutcome,
  S3TestClient,
  VersionSupport,
} from './types.js'

const require = createRequire(import.meta.url)
const SDK_VERSION: string = require('@aws-sdk/client-s3/package.json').version

export type ChecksumMode = 'WHEN_SUPPORTED' | 'WHEN_REQUIRED'

/** An SDK client for the node: path style, no retries (a failure shows as it happened), bounded waits. */
export function sdkClient(
  setup: Pick<ClientSetup, 's3Url' | 'credentials' | 'region'>,
  mode: ChecksumMode = 'WHEN_SUPPORTED',
  extra: Partial<S3ClientConfig> = {},
): S3Client {
  return new S3Client({
    endpoint: setup.s3Url,
    region: setup.region,
    forcePathStyle: true,
    credentials: setup.credentials,
    requestChecksumCalculation: mode,
    responseChecksumValidation: mode,
    maxAttempts: 1,
    ...extra,
  })
}

/** A readable description of an SDK failure: status, S3 code, message, request id. */
export function describeSdkError(err: unknown): string {
  if (err instanceof S3ServiceException) {
    const m = err.$metadata
    return `${err.name} (HTTP ${m.httpStatusCode}, request id ${m.requestId ?? '?'}): ${err.message}`
  }
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

/** Wraps an SDK call so a failure names the operation and its input. */
async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw new Error(`${what} failed: ${describeSdkError(err)}`, { cause: err })
  }
}

export function isNotFound(err: unknown): boolean {
  const cause = err instanceof Error && err.cause !== undefined ? err.cause : err
  return (
    cause instanceof S3ServiceException &&
    (cause.$metadata.httpStatusCode === 404 || cause.name === 'NotFound' || cause.name === 'NoSuchKey')
  )
}

/** How the request's payload was signed and framed, as the node received it. */
export interface PayloadFraming {
  readonly contentSha256: string
  readonly contentEncoding: string
  /** `x-amz-trailer`: the checksum sent after an aws-chunked body. */
  readonly trailer: string
  /** The `x-amz-checksum-*` headers sent with the request. */
  readonly checksumHeaders: readonly string[]
}

/** Records the signed headers of every request that carries a body (PutObject, UploadPart). */
export function recordPayloadFraming(client: S3Client, into: PayloadFraming[]): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { method?: string; headers?: Record<string, string> }
      const headers = request.headers ?? {}
      const get = (name: string) => Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? ''
      if (request.method === 'PUT' && get('x-amz-content-sha256'))
        into.push({
          contentSha256: get('x-amz-content-sha256'),
          contentEncoding: get('content-encoding'),
          trailer: get('x-amz-trailer'),
          checksumHeaders: Object.keys(headers)
            .map((k) => k.toLowerCase())
            .filter((k) => k.startsWith('x-amz-checksum-')),
        })
      return next(args)
    },
    { step: 'deserialize', priority: 'low', name: 'recordPayloadFraming' },
  )
}

const HEX64 = /^[0-9a-f]{64}$/

/**
 * What each mode must send. A streamed body (PutObject of a file stream) in the default mode goes
 * `aws-chunked` with a checksum trailer; a buffered one (lib-storage's parts) carries a checksum header.
 * WHEN_REQUIRED sends neither a checksum nor aws-chunked framing.
 */
export function checkFraming(
  mode: ChecksumMode,
  body: 'stream' | 'buffer',
  framing: PayloadFraming | undefined,
  what: string,
): void {
  if (!framing) throw new Error(`${what}: no request was recorded`)
  const chunked =
    framing.contentSha256.startsWith('STREAMING-') && framing.contentEncoding.includes('aws-chunked')
  const plain =
    !chunked && (framing.contentSha256 === 'UNSIGNED-PAYLOAD' || HEX64.test(framing.contentSha256))
  let ok: boolean
  if (mode === 'WHEN_REQUIRED') ok = plain && framing.checksumHeaders.length === 0 && framing.trailer === ''
  else if (body === 'stream')
    ok =
      chunked && framing.contentSha256.endsWith('-TRAILER') && framing.trailer.startsWith('x-amz-checksum-')
  else
    ok =
      (plain && framing.checksumHeaders.length > 0) ||
      (chunked && framing.trailer.startsWith('x-amz-checksum-'))
  if (!ok) throw new Error(`${what} (${body} body, mode ${mode}) was sent as ${JSON.stringify(framing)}`)
}

/** Every version and delete marker under `prefix`, following the key and version id markers. */
export async function listVersions(s3: S3Client, bucket: string, prefix: string): Promise<ListedVersion[]> {
  const found: ListedVersion[] = []
  await call(`ListObjectVersions ${bucket} prefix ${prefix}`, async () => {
    let markers: { KeyMarker?: string; VersionIdMarker?: string } = {}
    for (;;) {
      const page = await s3.send(
        new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, ...markers }),
      )
      for (const v of page.Versions ?? [])
        found.push({
          key: v.Key ?? '',
          versionId: v.VersionId,
          lastModified: v.LastModified,
          isLatest: v.IsLatest === true,
          deleteMarker: false,
          size: v.Size ?? -1,
        })
      for (const m of page.DeleteMarkers ?? [])
        found.push({
          key: m.Key ?? '',
          versionId: m.VersionId,
          lastModified: m.LastModified,
          isLatest: m.IsLatest === true,
          deleteMarker: true,
          size: 0,
        })
      if (!page.IsTruncated) break
      if (!page.NextKeyMarker) throw new Error('ListObjectVersions: truncated page without NextKeyMarker')
      markers = { KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker }
    }
  })
  return found
}

class SdkTestClient implements S3TestClient {
  readonly ranges = 'closed' as const
  readonly paging = 'paginateListObjectsV2 with pageSize (MaxKeys)'
  readonly version = `@aws-sdk/client-s3 ${SDK_VERSION}`
  readonly #s3: S3Client
  /** The payload framing of every PUT with a body, in order. */
  readonly framings: PayloadFraming[] = []

  constructor(
    readonly name: string,
    private readonly setup: ClientSetup,
    private readonly mode: ChecksumMode,
  ) {
    this.#s3 = sdkClient(setup, mode)
    recordPayloadFraming(this.#s3, this.framings)
  }

  async createBucket(bucket: string): Promise<void> {
    await call(`CreateBucket ${bucket}`, () => this.#s3.send(new CreateBucketCommand({ Bucket: bucket })))
  }

  async listBuckets(): Promise<string[]> {
    const out = await call('ListBuckets', () => this.#s3.send(new ListBucketsCommand({})))
    return (out.Buckets ?? []).map((b) => b.Name ?? '')
  }

  async putObject(bucket: string, key: string, file: string, size: number): Promise<void> {
    // A stream body: with the default checksum mode this goes out as aws-chunked with a CRC32 trailer.
    await call(`PutObject ${bucket}/${key}`, () =>
      this.#s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(file), ContentLength: size }),
      ),
    )
    checkFraming(this.mode, 'stream', this.framings.at(-1), `PutObject ${key}`)
  }

  async putMultipart(bucket: string, key: string, file: string): Promise<void> {
    const upload = new Upload({
      client: this.#s3,
      params: { Bucket: bucket, Key: key, Body: createReadStream(file) },
      partSize: this.setup.partSize,
      queueSize: 2,
      leavePartsOnError: false,
    })
    const first = this.framings.length
    await call(`lib-storage Upload ${bucket}/${key}`, () => upload.done())
    const parts = this.framings.slice(first)
    if (parts.length < 2) throw new Error(`lib-storage sent ${parts.length} part(s), not a multipart upload`)
    for (const framing of parts) checkFraming(this.mode, 'buffer', framing, `UploadPart of ${key}`)
  }

  async putTree(bucket: string, prefix: string, dir: string, paths: readonly string[]): Promise<void> {
    for (const path of paths) {
      const body = await readFile(join(dir, path))
      await call(`PutObject ${bucket}/${prefix}${path}`, () =>
        this.#s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${path}`, Body: body })),
      )
    }
  }

  async getObject(bucket: string, key: string, dest: string): Promise<void> {
    await call(`GetObject ${bucket}/${key}`, async () => {
      const out = await this.#s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      await pipeline(out.Body as Readable, createWriteStream(dest))
    })
  }

  async getRange(bucket: string, key: string, start: number, end: number | undefined): Promise<Buffer> {
    const range = `bytes=${start}-${end ?? ''}`
    return call(`GetObject ${bucket}/${key} Range ${range}`, async () => {
      const out = await this.#s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }))
      const expected = `bytes ${start}-`
      if (!out.ContentRange?.startsWith(expected))
        throw new Error(`Content-Range ${out.ContentRange} does not start with ${expected}`)
      return Buffer.from(
        await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      )
    })
  }

  async list(bucket: string, prefix: string, pageSize: number): Promise<ListOutcome> {
    const keys: string[] = []
    const prefixes: string[] = []
    let pages = 0
    await call(`ListObjectsV2 ${bucket} prefix ${prefix}`, async () => {
      for await (const page of paginateListObjectsV2(
        { client: this.#s3, pageSize },
        { Bucket: bucket, Prefix: prefix, Delimiter: '/' },
      )) {
        pages++
        for (const o of page.Contents ?? []) keys.push(o.Key ?? '')
        for (const p of page.CommonPrefixes ?? []) prefixes.push(p.Prefix ?? '')
      }
    })
    return { keys, prefixes, pages }
  }

  async copyObject(bucket: string, sourceKey: string, destKey: string): Promise<void> {
    // CopySource is `bucket/key` URL-encoded (the SDK does not encode it).
    const source = `${bucket}/${sourceKey.split('/').map(encodeURIComponent).join('/')}`
    await call(`CopyObject ${source} → ${destKey}`, () =>
      this.#s3.send(new CopyObjectCommand({ Bucket: bucket, Key: destKey, CopySource: source })),
    )
  }

  async headObject(bucket: string, key: string): Promise<HeadOutcome | undefined> {
    try {
      const out = await call(`HeadObject ${bucket}/${key}`, () =>
        this.#s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
      )
      return { size: out.ContentLength ?? -1, etag: out.ETag ?? '' }
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw err
    }
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    await call(`DeleteObject ${bucket}/${key}`, () =>
      this.#s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })),
    )
  }

  async deleteAll(bucket: string): Promise<void> {
    const all: string[] = []
    for await (const page of paginateListObjectsV2({ client: this.#s3 }, { Bucket: bucket }))
      for (const o of page.Contents ?? []) all.push(o.Key ?? '')
    for (let i = 0; i < all.length; i += 1000) {
      const batch = all.slice(i, i + 1000)
      const out = await call(`DeleteObjects ${bucket} (${batch.length} keys)`, () =>
        this.#s3.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })) } }),
        ),
      )
      if (out.Errors?.length) throw new Error(`DeleteObjects reported errors: ${JSON.stringify(out.Errors)}`)
    }
  }

  async deleteBucket(bucket: string): Promise<void> {
    await call(`DeleteBucket ${bucket}`, () => this.#s3.send(new DeleteBucketCommand({ Bucket: bucket })))
  }

  readonly versions: VersionSupport = {
    enable: async (bucket) => {
      await call(`PutBucketVersioning ${bucket} Enabled`, () =>
        this.#s3.send(
          new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
        ),
      )
      const out = await call(`GetBucketVersioning ${bucket}`, () =>
        this.#s3.send(new GetBucketVersioningCommand({ Bucket: bucket })),
      )
      return out.Status ?? ''
    },
    list: (bucket, prefix) => listVersions(this.#s3, bucket, prefix),
    showsVersionIds: true,
    listsDeleteMarkers: true,
    get: async (bucket, version, dest) => {
      await call(`GetObject ${bucket}/${version.key}?versionId=${version.versionId}`, async () => {
        const out = await this.#s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: version.key, VersionId: version.versionId }),
        )
        if (out.VersionId !== version.versionId)
          throw new Error(`GetObject answered x-amz-version-id ${out.VersionId}`)
        await pipeline(out.Body as Readable, createWriteStream(dest))
      })
    },
    remove: async (bucket, version) => {
      await call(`DeleteObject ${bucket}/${version.key}?versionId=${version.versionId}`, () =>
        this.#s3.send(
          new DeleteObjectCommand({ Bucket: bucket, Key: version.key, VersionId: version.versionId }),
        ),
      )
    },
    removeMany: async (bucket, versions) => {
      const out = await call(`DeleteObjects ${bucket} (${versions.length} versions)`, () =>
        this.#s3.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: versions.map((v) => ({ Key: v.key, VersionId: v.versionId })) },
          }),
        ),
      )
      if (out.Errors?.length) throw new Error(`DeleteObjects reported errors: ${JSON.stringify(out.Errors)}`)
      const deleted = (out.Deleted ?? []).map((d) => `${d.Key} ${d.VersionId}`).sort()
      const wanted = versions.map((v) => `${v.key} ${v.versionId}`).sort()
      if (JSON.stringify(deleted) !== JSON.stringify(wanted))
        throw new Error(
          `DeleteObjects deleted ${JSON.stringify(deleted)}, asked for ${JSON.stringify(wanted)}`,
        )
    },
  }

  async close(): Promise<void> {
    this.#s3.destroy()
  }
}

export const sdkDefaultChecksums: ClientSpec = {
  name: 'aws-sdk-js v3 (default checksums)',
  create: async (setup) => new SdkTestClient('aws-sdk-js v3 (default checksums)', setup, 'WHEN_SUPPORTED'),
}

export const sdkWhenRequired: ClientSpec = {
  name: 'aws-sdk-js v3 (WHEN_REQUIRED)',
  create: async (setup) => new SdkTestClient('aws-sdk-js v3 (WHEN_REQUIRED)', setup, 'WHEN_REQUIRED'),
}
