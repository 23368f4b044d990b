/**
 * rclone with a config file of its own (`RCLONE_CONFIG`): an `s3` remote, provider Other, path style, the
 * node's endpoint. `--s3-upload-cutoff`/`--s3-chunk-size` set the multipart switch and part size,
 * `--s3-list-chunk` the listing page size (requests are counted from `--dump headers`).
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { run, runOk, type Tool, tool } from './tools.js'
import type { ClientSetup, ClientSpec, HeadOutcome, ListOutcome, S3TestClient } from './types.js'

const SMALL_MS = 60_000
const LARGE_MS = 180_000
const REMOTE = 'aruna'

interface LsEntry {
  Path: string
  Name: string
  Size: number
  IsDir: boolean
  Hashes?: { md5?: string }
}

class RcloneTestClient implements S3TestClient {
  readonly name = 'rclone'
  readonly ranges = 'closed' as const
  readonly paging = 'lsjson with --s3-list-chunk N (max-keys); requests counted from --dump headers'
  readonly version: string
  readonly #env: NodeJS.ProcessEnv
  readonly #flags: string[]

  constructor(
    private readonly tool: Tool,
    private readonly setup: ClientSetup,
  ) {
    this.version = tool.version.split('\n')[0] ?? tool.version
    this.#env = {
      PATH: process.env.PATH,
      HOME: setup.home,
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      RCLONE_CONFIG: join(setup.home, 'rclone.conf'),
      RCLONE_CACHE_DIR: join(setup.home, 'rclone-cache'),
    }
    const size = `${setup.partSize / (1024 * 1024)}M`
    this.#flags = [
      '--s3-upload-cutoff',
      size,
      '--s3-chunk-size',
      size,
      '--retries',
      '1',
      '--low-level-retries',
      '1',
      '--contimeout',
      '10s',
      '--timeout',
      '60s',
    ]
  }

  async init(): Promise<void> {
    await writeFile(
      this.#env.RCLONE_CONFIG as string,
      [
        `[${REMOTE}]`,
        'type = s3',
        'provider = Other',
        'env_auth = false',
        `access_key_id = ${this.setup.credentials.accessKeyId}`,
        `secret_access_key = ${this.setup.credentials.secretAccessKey}`,
        `endpoint = ${this.setup.s3Url}`,
        `region = ${this.setup.region}`,
        'force_path_style = true',
        '',
      ].join('\n'),
    )
  }

  #remote(bucket: string, key = ''): string {
    return `${REMOTE}:${bucket}${key ? `/${key}` : ''}`
  }

  #run(args: readonly string[], timeoutMs = SMALL_MS) {
    return runOk(this.tool.path, [...args, ...this.#flags], { env: this.#env, timeoutMs })
  }

  async createBucket(bucket: string): Promise<void> {
    await this.#run(['mkdir', this.#remote(bucket)])
  }

  async listBuckets(): Promise<string[]> {
    const out = (await this.#run(['lsf', `${REMOTE}:`])).stdout.toString('utf8')
    return out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/\/$/, ''))
  }

  async putObject(bucket: string, key: string, file: string, size: number): Promise<void> {
    if (size >= this.setup.partSize) throw new Error(`${size} bytes would be a multipart upload with rclone`)
    await this.#run(['copyto', file, this.#remote(bucket, key)], LARGE_MS)
  }

  async putMultipart(bucket: string, key: string, file: string, size: number): Promise<void> {
    if (size < this.setup.partSize)
      throw new Error(`${size} bytes would not be a multipart upload with rclone`)
    await this.#run(['copyto', file, this.#remote(bucket, key)], LARGE_MS)
  }

  async putTree(bucket: string, prefix: string, dir: string): Promise<void> {
    await this.#run(['copy', dir, this.#remote(bucket, prefix.replace(/\/$/, ''))], LARGE_MS)
  }

  async getObject(bucket: string, key: string, dest: string): Promise<void> {
    await this.#run(['copyto', this.#remote(bucket, key), dest], LARGE_MS)
  }

  async getRange(bucket: string, key: string, start: number, end: number | undefined): Promise<Buffer> {
    const count = end === undefined ? [] : ['--count', String(end - start + 1)]
    return (await this.#run(['cat', '--offset', String(start), ...count, this.#remote(bucket, key)])).stdout
  }

  async list(bucket: string, prefix: string, pageSize: number): Promise<ListOutcome> {
    const dir = prefix.replace(/\/$/, '')
    const result = await this.#run([
      'lsjson',
      '--s3-list-chunk',
      String(pageSize),
      '--dump',
      'headers',
      this.#remote(bucket, dir),
    ])
    const entries = JSON.parse(result.stdout.toString('utf8')) as LsEntry[]
    const keys = entries.filter((e) => !e.IsDir).map((e) => `${dir}/${e.Path}`)
    const prefixes = entries.filter((e) => e.IsDir).map((e) => `${dir}/${e.Path}/`)
    const pages = result.stderr
      .split('\n')
      .filter((l) => new RegExp(`GET /${bucket}/?\\?`).test(l) && /HTTP\/1\.1/.test(l)).length
    return { keys, prefixes, pages }
  }

  async copyObject(bucket: string, sourceKey: string, destKey: string): Promise<void> {
    // Both ends on the same remote: rclone copies server-side (CopyObject).
    await this.#run(['copyto', this.#remote(bucket, sourceKey), this.#remote(bucket, destKey)])
  }

  async headObject(bucket: string, key: string): Promise<HeadOutcome | undefined> {
    const result = await run(
      this.tool.path,
      ['lsjson', '--stat', '--hash', '--hash-type', 'md5', this.#remote(bucket, key), ...this.#flags],
      { env: this.#env, timeoutMs: SMALL_MS },
    )
    if (result.code !== 0) {
      if (/not found/i.test(result.stderr)) return undefined
      throw new Error(`${result.command} exited with ${result.code}: ${result.stderr}`)
    }
    // On a bucket-based remote every path "is" a directory: a missing object comes back as one.
    const entry = JSON.parse(result.stdout.toString('utf8')) as LsEntry | null
    if (!entry || entry.IsDir) return undefined
    return { size: entry.Size, etag: `"${entry.Hashes?.md5 ?? ''}"` }
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.#run(['deletefile', this.#remote(bucket, key)])
  }

  async deleteAll(bucket: string): Promise<void> {
    await this.#run(['delete', this.#remote(bucket)], LARGE_MS)
  }

  async deleteBucket(bucket: string): Promise<void> {
    await this.#run(['rmdir', this.#remote(bucket)])
  }

  async syncWithBackup(bucket: string, dir: string, prefix: string, backupPrefix: string): Promise<void> {
    // The backup folder is on the same remote: rclone moves replaced and deleted objects there
    // server-side (CopyObject, then DeleteObject) before it uploads the new versions.
    await this.#run(
      [
        'sync',
        dir,
        this.#remote(bucket, prefix.replace(/\/$/, '')),
        '--backup-dir',
        this.#remote(bucket, backupPrefix.replace(/\/$/, '')),
      ],
      LARGE_MS,
    )
  }

  async purge(bucket: string): Promise<void> {
    await this.#run(['purge', this.#remote(bucket)], LARGE_MS)
  }

  async close(): Promise<void> {}
}

export const rclone: ClientSpec = {
  name: 'rclone',
  async create(setup: ClientSetup) {
    const client = new RcloneTestClient(await tool('rclone'), setup)
    await client.init()
    return client
  },
}
