/**
 * boto3 through `clients/boto3_client.py`, one process per operation: path style
 * (`Config(s3={'addressing_style': 'path'})`), no retries, credentials passed explicitly and HOME and the
 * AWS config files pointed into the client's own folder. Multipart through `upload_file` with a
 * `TransferConfig`, listing pages through the `list_objects_v2` paginator's `PageSize`.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runOk, type Tool, tool } from './tools.js'
import type {
  ClientSetup,
  ClientSpec,
  HeadOutcome,
  ListedVersion,
  ListOutcome,
  S3TestClient,
  VersionSupport,
} from './types.js'

const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../../clients/boto3_client.py')
const SMALL_MS = 60_000
const LARGE_MS = 180_000

class Boto3TestClient implements S3TestClient {
  readonly name = 'boto3'
  readonly ranges = 'closed' as const
  readonly paging = 'list_objects_v2 paginator with PaginationConfig PageSize'
  readonly version: string
  readonly #env: NodeJS.ProcessEnv

  constructor(
    private readonly tool: Tool,
    private readonly setup: ClientSetup,
  ) {
    const [, boto3, botocore] = tool.version.split(/\s+/)
    this.version = `boto3 ${boto3} (botocore ${botocore})`
    this.#env = {
      PATH: process.env.PATH,
      HOME: setup.home,
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      PYTHONIOENCODING: 'utf-8',
      AWS_CONFIG_FILE: join(setup.home, 'aws-config-none'),
      AWS_SHARED_CREDENTIALS_FILE: join(setup.home, 'aws-credentials-none'),
      AWS_EC2_METADATA_DISABLED: 'true',
    }
  }

  async #op<T>(op: string, args: Record<string, unknown>, timeoutMs = SMALL_MS): Promise<T> {
    const request = {
      endpoint: this.setup.s3Url,
      accessKeyId: this.setup.credentials.accessKeyId,
      secretAccessKey: this.setup.credentials.secretAccessKey,
      region: this.setup.region,
      partSize: this.setup.partSize,
      op,
      args,
    }
    const result = await runOk(this.tool.path, [SCRIPT], {
      env: this.#env,
      timeoutMs,
      input: JSON.stringify(request),
    }).catch((err: Error) => {
      throw new Error(`boto3 ${op} ${JSON.stringify(args)}: ${err.message}`, { cause: err })
    })
    return JSON.parse(result.stdout.toString('utf8')) as T
  }

  async createBucket(bucket: string): Promise<void> {
    await this.#op('create_bucket', { bucket })
  }

  async listBuckets(): Promise<string[]> {
    return (await this.#op<{ buckets: string[] }>('list_buckets', {})).buckets
  }

  async putObject(bucket: string, key: string, file: string): Promise<void> {
    await this.#op('put_object', { bucket, key, file }, LARGE_MS)
  }

  async putMultipart(bucket: string, key: string, file: string, size: number): Promise<void> {
    if (size <= this.setup.partSize)
      throw new Error(`${size} bytes would not be a multipart upload with boto3`)
    await this.#op('upload_file', { bucket, key, file }, LARGE_MS)
  }

  async putTree(bucket: string, prefix: string, dir: string, paths: readonly string[]): Promise<void> {
    await this.#op('put_tree', { bucket, prefix, dir, paths }, LARGE_MS)
  }

  async getObject(bucket: string, key: string, dest: string): Promise<void> {
    await this.#op('download_file', { bucket, key, dest }, LARGE_MS)
  }

  async getRange(
    bucket: string,
    key: string,
    start: number,
    end: number | undefined,
    scratch: string,
  ): Promise<Buffer> {
    await mkdir(scratch, { recursive: true })
    const dest = join(scratch, 'range.bin')
    const out = await this.#op<{ contentRange?: string; status: number }>('get_range', {
      bucket,
      key,
      start,
      end: end ?? null,
      dest,
    })
    if (out.status !== 206 || !out.contentRange?.startsWith(`bytes ${start}-`))
      throw new Error(`boto3 get_object Range: status ${out.status}, Content-Range ${out.contentRange}`)
    return readFile(dest)
  }

  list(bucket: string, prefix: string, pageSize: number): Promise<ListOutcome> {
    return this.#op<ListOutcome>('list', { bucket, prefix, pageSize })
  }

  async copyObject(bucket: string, source: string, dest: string): Promise<void> {
    await this.#op('copy', { bucket, source, dest })
  }

  async headObject(bucket: string, key: string): Promise<HeadOutcome | undefined> {
    const out = await this.#op<{ found: boolean; size: number; etag: string }>('head', { bucket, key })
    return out.found ? { size: out.size, etag: out.etag } : undefined
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.#op('delete', { bucket, key })
  }

  async deleteAll(bucket: string): Promise<void> {
    await this.#op('delete_all', { bucket }, LARGE_MS)
  }

  async deleteBucket(bucket: string): Promise<void> {
    await this.#op('delete_bucket', { bucket })
  }

  readonly versions: VersionSupport = {
    enable: async (bucket) => (await this.#op<{ status: string }>('enable_versioning', { bucket })).status,
    list: async (bucket, prefix) => {
      type Wire = Omit<ListedVersion, 'lastModified'> & { lastModified: string }
      const out = await this.#op<{ entries: Wire[] }>('list_versions', { bucket, prefix })
      return out.entries.map((v) => ({ ...v, lastModified: new Date(v.lastModified) }))
    },
    showsVersionIds: true,
    listsDeleteMarkers: true,
    get: async (bucket, version, dest) => {
      const out = await this.#op<{ versionId?: string }>('get_version', {
        bucket,
        key: version.key,
        versionId: version.versionId,
        dest,
      })
      if (out.versionId !== version.versionId)
        throw new Error(`boto3 get_object VersionId ${version.versionId} answered version ${out.versionId}`)
    },
    remove: async (bucket, version) => {
      await this.#op('delete_version', { bucket, key: version.key, versionId: version.versionId })
    },
    removeMany: async (bucket, versions) => {
      const out = await this.#op<{ deleted: { key: string; versionId?: string }[] }>('delete_versions', {
        bucket,
        versions: versions.map((v) => ({ key: v.key, versionId: v.versionId })),
      })
      if (out.deleted.length !== versions.length)
        throw new Error(`boto3 delete_objects deleted ${JSON.stringify(out.deleted)} of ${versions.length}`)
    },
  }

  async close(): Promise<void> {}
}

export const boto3: ClientSpec = {
  name: 'boto3',
  create: async (setup: ClientSetup) => new Boto3TestClient(await tool('python3'), setup),
}
