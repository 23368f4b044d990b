/**
 * rclone with a config file of its own (`RCLONE_CONFIG`): an `s3` remote, provider Other, path style, the
 * node's endpoint. `--s3-upload-cutoff`/`--s3-chunk-size` set the multipart switch and part size,
 * `--s3-list-chunk` the listing page size (requests are counted from `--dump headers`).
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { run, runOk, type Tool, tool } from './tools.js'
import type {
  ClientSetup,
  ClientSpec,
  HeadOutcome,
  ListedVersion,
  ListOutcome,
  S3TestClient,
  VersionSupport,
} from './types.js'

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

/** rclone's name for an old version: `-vYYYY-MM-DD-HHMMSS-mmm` (its LastModified, UTC) before the extension. */
const VERSION_SUFFIX = /-v(\d{4})-(\d{2})-(\d{2})-(\d{2})(\d{2})(\d{2})-(\d{3})(\.[^./]*)?$/

function versionName(key: string, lastModified: Date): string {
  const slash = key.lastIndexOf('/')
  const dot = key.lastIndexOf('.')
  const [base, ext] = dot > slash + 1 ? [key.slice(0, dot), key.slice(dot)] : [key, '']
  const stamp = lastModified
    .toISOString()
    .replace(/^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)Z$/, '$1-$2-$3-$4$5$6-$7')
  return `${base}-v${stamp}${ext}`
}

function parseVersionName(name: string): { key: string; lastModified: Date } | undefined {
  const m = VERSION_SUFFIX.exec(name)
  if (!m) return undefined
  const [, y, mo, d, h, mi, sec, ms, ext = ''] = m
  return {
    key: `${name.slice(0, m.index)}${ext}`,
    lastModified: new Date(`${y}-${mo}-${d}T${h}:${mi}:${sec}.${ms}Z`),
  }
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

  /**
   * rclone names an old version by its LastModified (`key-v2026-12-06-220304-525.txt`, listed with
   * `--s3-versions`) and never shows a version id; it sends the id itself when it reads or deletes such a
   * name. rclone 1.60 finds a `-v` name given as a path only at the top of a bucket (its lookup compares a
   * bucket-relative name with a root-relative one), so the scenario's versioned key has no folder.
   */
  readonly versions: VersionSupport = {
    enable: async (bucket) => {
      await this.#run(['backend', 'versioning', this.#remote(bucket), 'Enabled'])
      return (await this.#run(['backend', 'versioning', this.#remote(bucket)])).stdout.toString('utf8').trim()
    },
    list: async (bucket, prefix) => {
      const out = await this.#run(['lsjson', '--s3-versions', '--files-only', '-R', this.#remote(bucket)])
      const entries = JSON.parse(out.stdout.toString('utf8')) as LsEntry[]
      const found: ListedVersion[] = []
      for (const e of entries) {
        const old = parseVersionName(e.Path)
        const key = old?.key ?? e.Path
        if (!key.startsWith(prefix)) continue
        found.push({
          key,
          versionId: undefined,
          ...(old ? { lastModified: old.lastModified } : {}),
          isLatest: old === undefined,
          deleteMarker: false,
          size: e.Size,
        })
      }
      return found
    },
    showsVersionIds: {
      gap: 'rclone shows no version ids: an old version is `key-vYYYY-MM-DD-HHMMSS-mmm` (its LastModified)',
    },
    listsDeleteMarkers: {
      gap: 'rclone lists no delete markers: with --s3-versions a deleted key shows only its old versions (-v names)',
    },
    get: async (bucket, version, dest) => {
      await this.#run(['copyto', '--s3-versions', this.#remote(bucket, this.#nameOf(version)), dest])
    },
    remove: async (bucket, version) => {
      await this.#run(['deletefile', '--s3-versions', this.#remote(bucket, this.#nameOf(version))])
    },
    removeMany: {
      gap: 'rclone never sends DeleteObjects: it deletes version by version (backend cleanup-hidden, purge)',
    },
    getAt: async (bucket, key, at, dest) => {
      await this.#run(['copyto', '--s3-version-at', at.toISOString(), this.#remote(bucket, key), dest])
    },
    cleanupHidden: async (bucket) => {
      await this.#run(['backend', 'cleanup-hidden', this.#remote(bucket)], LARGE_MS)
    },
  }

  /** The name rclone gives a listed version: the key itself when current, else its `-v` name. */
  #nameOf(version: ListedVersion): string {
    if (version.isLatest) return version.key
    if (!version.lastModified)
      throw new Error(`rclone cannot name an old version of ${version.key} without its time`)
    return versionName(version.key, version.lastModified)
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
