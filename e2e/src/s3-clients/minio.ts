/** The `minio` JS client: path style, `partSize` for multipart, `listObjectsV2Query` for paged listing. */
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { Client, CopyDestinationOptions, CopySourceOptions, S3Error } from 'minio'
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
const MINIO_VERSION: string = require('minio/package.json').version

function describe(err: unknown): string {
  if (err instanceof S3Error) {
    const e = err as S3Error & { code?: string; amzRequestid?: string }
    return `${e.code ?? err.name}: ${err.message} (request id ${e.amzRequestid ?? '?'})`
  }
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw new Error(`minio ${what} failed: ${describe(err)}`, { cause: err })
  }
}

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(parts)
}

class MinioTestClient implements S3TestClient {
  readonly name = 'minio-js'
  readonly version = `minio ${MINIO_VERSION}`
  readonly ranges = 'closed' as const
  readonly paging = 'listObjectsV2Query with maxKeys, following NextContinuationToken'
  readonly #mc: Client

  constructor(private readonly setup: ClientSetup) {
    const url = new URL(setup.s3Url)
    this.#mc = new Client({
      endPoint: url.hostname,
      port: Number(url.port),
      useSSL: false,
      pathStyle: true,
      region: setup.region,
      accessKey: setup.credentials.accessKeyId,
      secretKey: setup.credentials.secretAccessKey,
      partSize: setup.partSize,
    })
  }

  createBucket(bucket: string): Promise<void> {
    return call(`makeBucket ${bucket}`, () => this.#mc.makeBucket(bucket, this.setup.region))
  }

  async listBuckets(): Promise<string[]> {
    return (await call('listBuckets', () => this.#mc.listBuckets())).map((b) => b.name)
  }

  async putObject(bucket: string, key: string, file: string, size: number): Promise<void> {
    if (size > this.setup.partSize) throw new Error(`${size} bytes would not be one PUT with minio`)
    await call(`fPutObject ${bucket}/${key}`, () => this.#mc.fPutObject(bucket, key, file))
  }

  async putMultipart(bucket: string, key: string, file: string, size: number): Promise<void> {
    if (size <= this.setup.partSize)
      throw new Error(`${size} bytes would not be a multipart upload with minio`)
    await call(`fPutObject (multipart) ${bucket}/${key}`, () => this.#mc.fPutObject(bucket, key, file))
  }

  async putTree(bucket: string, prefix: string, dir: string, paths: readonly string[]): Promise<void> {
    for (const path of paths)
      await call(`fPutObject ${bucket}/${prefix}${path}`, () =>
        this.#mc.fPutObject(bucket, `${prefix}${path}`, join(dir, path)),
      )
  }

  async getObject(bucket: string, key: string, dest: string): Promise<void> {
    await call(`fGetObject ${bucket}/${key}`, () => this.#mc.fGetObject(bucket, key, dest))
  }

  getRange(bucket: string, key: string, start: number, end: number | undefined): Promise<Buffer> {
    return call(`getPartialObject ${bucket}/${key} ${start}-${end ?? ''}`, async () =>
      collect(
        await this.#mc.getPartialObject(bucket, key, start, end === undefined ? undefined : end - start + 1),
      ),
    )
  }

  async list(bucket: string, prefix: string, pageSize: number): Promise<ListOutcome> {
    const keys: string[] = []
    const prefixes: string[] = []
    let pages = 0
    let token = ''
    for (;;) {
      const page = await call(`listObjectsV2Query ${bucket} prefix ${prefix} token ${token}`, () =>
        this.#mc.listObjectsV2Query(bucket, prefix, token, '/', pageSize, ''),
      )
      pages++
      for (const item of page.objects) {
        if (item.prefix !== undefined) prefixes.push(item.prefix)
        else keys.push(item.name)
      }
      if (!page.isTruncated) break
      if (!page.nextContinuationToken) throw new Error('listObjectsV2Query: truncated page without a token')
      token = page.nextContinuationToken
    }
    return { keys, prefixes, pages }
  }

  async copyObject(bucket: string, sourceKey: string, destKey: string): Promise<void> {
    await call(`copyObject ${bucket}/${sourceKey} → ${destKey}`, () =>
      this.#mc.copyObject(
        new CopySourceOptions({ Bucket: bucket, Object: sourceKey }),
        new CopyDestinationOptions({ Bucket: bucket, Object: destKey }),
      ),
    )
  }

  async headObject(bucket: string, key: string): Promise<HeadOutcome | undefined> {
    try {
      const stat = await this.#mc.statObject(bucket, key)
      return { size: stat.size, etag: `"${stat.etag}"` }
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'NotFound' || code === 'NoSuchKey') return undefined
      throw new Error(`minio statObject ${bucket}/${key} failed: ${describe(err)}`, { cause: err })
    }
  }

  deleteObject(bucket: string, key: string): Promise<void> {
    return call(`removeObject ${bucket}/${key}`, () => this.#mc.removeObject(bucket, key))
  }

  async deleteAll(bucket: string): Promise<void> {
    const names: string[] = []
    await call(`listObjectsV2 ${bucket}`, async () => {
      for await (const item of this.#mc.listObjectsV2(bucket, '', true)) if (item.name) names.push(item.name)
    })
    const results = await call(`removeObjects ${bucket} (${names.length} keys)`, () =>
      this.#mc.removeObjects(bucket, names),
    )
    const failed = results.filter((r) => r?.Error?.Code)
    if (failed.length > 0) throw new Error(`removeObjects reported errors: ${JSON.stringify(failed)}`)
  }

  deleteBucket(bucket: string): Promise<void> {
    return call(`removeBucket ${bucket}`, () => this.#mc.removeBucket(bucket))
  }

  readonly versions: VersionSupport = {
    enable: async (bucket) => {
      await call(`setBucketVersioning ${bucket} Enabled`, () =>
        this.#mc.setBucketVersioning(bucket, { Status: 'Enabled' }),
      )
      const config = await call(`getBucketVersioning ${bucket}`, () => this.#mc.getBucketVersioning(bucket))
      return String(config.Status ?? '')
    },
    list: async (bucket, prefix) => {
      const found: ListedVersion[] = []
      await call(`listObjects ${bucket} prefix ${prefix} IncludeVersion`, async () => {
        for await (const item of this.#mc.listObjects(bucket, prefix, true, { IncludeVersion: true })) {
          const v = item as typeof item & {
            versionId?: string
            isLatest?: boolean | string
            isDeleteMarker?: boolean
          }
          found.push({
            key: v.name ?? '',
            versionId: v.versionId,
            lastModified: v.lastModified,
            // The XML parser leaves IsLatest as the text of the element.
            isLatest: v.isLatest === true || v.isLatest === 'true',
            deleteMarker: v.isDeleteMarker === true,
            size: v.size ?? 0,
          })
        }
      })
      return found
    },
    showsVersionIds: true,
    listsDeleteMarkers: true,
    get: (bucket, version, dest) =>
      call(`fGetObject ${bucket}/${version.key} versionId ${version.versionId}`, () =>
        this.#mc.fGetObject(bucket, version.key, dest, { versionId: version.versionId }),
      ),
    remove: (bucket, version) =>
      call(`removeObject ${bucket}/${version.key} versionId ${version.versionId}`, () =>
        this.#mc.removeObject(bucket, version.key, { versionId: version.versionId }),
      ),
    removeMany: async (bucket, versions) => {
      const results = await call(`removeObjects ${bucket} (${versions.length} versions)`, () =>
        this.#mc.removeObjects(
          bucket,
          versions.map((v) => ({ name: v.key, versionId: v.versionId })),
        ),
      )
      const failed = results.filter((r) => r?.Error?.Code)
      if (failed.length > 0) throw new Error(`removeObjects reported errors: ${JSON.stringify(failed)}`)
    },
  }

  async close(): Promise<void> {}
}

export const minioJs: ClientSpec = {
  name: 'minio-js',
  create: async (setup) => new MinioTestClient(setup),
}
