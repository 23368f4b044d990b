/**
 * The aws CLI (`aws s3` and `aws s3api`) with config and credentials files of its own, `--endpoint-url`,
 * path-style addressing, no instance metadata, no pager, no retries. `aws s3 cp` switches to multipart
 * above `multipart_threshold` (8 MB), so the single-PUT 10 MiB object goes through `s3api put-object`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
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
const THRESHOLD = 8 * 1024 * 1024

interface ListPage {
  Contents?: { Key: string }[]
  CommonPrefixes?: { Prefix: string }[]
  NextContinuationToken?: string
  IsTruncated?: boolean
}

interface VersionEntry {
  Key: string
  VersionId: string
  IsLatest: boolean
  LastModified: string
  Size?: number
}

class AwsCliTestClient implements S3TestClient {
  readonly name = 'aws CLI'
  readonly ranges = 'closed' as const
  readonly paging =
    's3api list-objects-v2 --max-keys N --no-paginate following NextContinuationToken; aws s3 ls --page-size N'
  readonly version: string
  readonly #env: NodeJS.ProcessEnv

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
      AWS_CONFIG_FILE: join(setup.home, 'aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(setup.home, 'aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
    }
  }

  async init(): Promise<void> {
    const mb = this.setup.partSize / (1024 * 1024)
    await writeFile(
      this.#env.AWS_CONFIG_FILE as string,
      [
        '[default]',
        `region = ${this.setup.region}`,
        'output = json',
        'cli_pager =',
        'retry_mode = standard',
        'max_attempts = 1',
        's3 =',
        '  addressing_style = path',
        `  multipart_threshold = ${THRESHOLD / (1024 * 1024)}MB`,
        `  multipart_chunksize = ${mb}MB`,
        '',
      ].join('\n'),
    )
    await writeFile(
      this.#env.AWS_SHARED_CREDENTIALS_FILE as string,
      [
        '[default]',
        `aws_access_key_id = ${this.setup.credentials.accessKeyId}`,
        `aws_secret_access_key = ${this.setup.credentials.secretAccessKey}`,
        '',
      ].join('\n'),
    )
  }

  #args(args: readonly string[]): string[] {
    return [...args, '--endpoint-url', this.setup.s3Url]
  }

  #run(args: readonly string[], timeoutMs = SMALL_MS) {
    return runOk(this.tool.path, this.#args(args), { env: this.#env, timeoutMs })
  }

  async #json<T>(args: readonly string[], timeoutMs = SMALL_MS): Promise<T> {
    const out = (await this.#run(args, timeoutMs)).stdout.toString('utf8').trim()
    return (out === '' ? {} : JSON.parse(out)) as T
  }

  async createBucket(bucket: string): Promise<void> {
    await this.#run(['s3', 'mb', `s3://${bucket}`])
  }

  async listBuckets(): Promise<string[]> {
    const out = await this.#json<{ Buckets?: { Name: string }[] }>(['s3api', 'list-buckets'])
    return (out.Buckets ?? []).map((b) => b.Name)
  }

  async putObject(bucket: string, key: string, file: string, size: number): Promise<void> {
    if (size < THRESHOLD) await this.#run(['s3', 'cp', '--no-progress', file, `s3://${bucket}/${key}`])
    else await this.#run(['s3api', 'put-object', '--bucket', bucket, '--key', key, '--body', file], LARGE_MS)
  }

  async putMultipart(bucket: string, key: string, file: string, size: number): Promise<void> {
    if (size <= THRESHOLD) throw new Error(`${size} bytes would not be a multipart upload with aws s3 cp`)
    await this.#run(['s3', 'cp', '--no-progress', file, `s3://${bucket}/${key}`], LARGE_MS)
  }

  async putTree(bucket: string, prefix: string, dir: string): Promise<void> {
    await this.#run(['s3', 'cp', '--no-progress', '--recursive', dir, `s3://${bucket}/${prefix}`], LARGE_MS)
  }

  async getObject(bucket: string, key: string, dest: string): Promise<void> {
    await this.#run(['s3', 'cp', '--no-progress', `s3://${bucket}/${key}`, dest], LARGE_MS)
  }

  async getRange(
    bucket: string,
    key: string,
    start: number,
    end: number | undefined,
    scratch: string,
  ): Promise<Buffer> {
    const dest = join(scratch, 'range.bin')
    await mkdir(scratch, { recursive: true })
    const out = await this.#json<{ ContentRange?: string }>([
      's3api',
      'get-object',
      '--bucket',
      bucket,
      '--key',
      key,
      '--range',
      `bytes=${start}-${end ?? ''}`,
      dest,
    ])
    if (!out.ContentRange?.startsWith(`bytes ${start}-`))
      throw new Error(`aws s3api get-object: ContentRange ${out.ContentRange} does not start at ${start}`)
    return readFile(dest)
  }

  async list(bucket: string, prefix: string, pageSize: number): Promise<ListOutcome> {
    const keys: string[] = []
    const prefixes: string[] = []
    let pages = 0
    let token: string | undefined
    do {
      const page = await this.#json<ListPage>([
        's3api',
        'list-objects-v2',
        '--bucket',
        bucket,
        '--prefix',
        prefix,
        '--delimiter',
        '/',
        '--max-keys',
        String(pageSize),
        '--no-paginate',
        ...(token ? ['--continuation-token', token] : []),
      ])
      pages++
      for (const o of page.Contents ?? []) keys.push(o.Key)
      for (const p of page.CommonPrefixes ?? []) prefixes.push(p.Prefix)
      token = page.IsTruncated ? page.NextContinuationToken : undefined
      if (page.IsTruncated && !token) throw new Error('list-objects-v2: truncated page without a token')
    } while (token)

    // The high-level listing must agree (its own paging, delimiter `/`).
    const ls = (
      await this.#run(['s3', 'ls', '--page-size', String(pageSize), `s3://${bucket}/${prefix}`])
    ).stdout
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
    const lsPrefixes: string[] = []
    const lsKeys: string[] = []
    for (const line of ls) {
      const pre = /^\s+PRE (.*)$/.exec(line)
      if (pre) lsPrefixes.push(`${prefix}${pre[1]}`)
      else {
        const obj = /^\S+ \S+\s+\d+ (.*)$/.exec(line)
        if (!obj) throw new Error(`aws s3 ls: unexpected line ${JSON.stringify(line)}`)
        lsKeys.push(`${prefix}${obj[1]}`)
      }
    }
    const same = (a: readonly string[], b: readonly string[]) =>
      JSON.stringify([...a].sort()) === JSON.stringify([...b].sort())
    if (!same(lsKeys, keys) || !same(lsPrefixes, prefixes))
      throw new Error(
        `aws s3 ls disagrees with s3api list-objects-v2:\n  s3 ls: ${JSON.stringify({ lsKeys, lsPrefixes })}\n  s3api: ${JSON.stringify({ keys, prefixes })}`,
      )
    return { keys, prefixes, pages }
  }

  async copyObject(bucket: string, sourceKey: string, destKey: string): Promise<void> {
    await this.#run(['s3', 'cp', '--no-progress', `s3://${bucket}/${sourceKey}`, `s3://${bucket}/${destKey}`])
  }

  async headObject(bucket: string, key: string): Promise<HeadOutcome | undefined> {
    const result = await run(
      this.tool.path,
      this.#args(['s3api', 'head-object', '--bucket', bucket, '--key', key]),
      {
        env: this.#env,
        timeoutMs: SMALL_MS,
      },
    )
    if (result.code !== 0) {
      if (/\(404\)|Not Found/.test(result.stderr)) return undefined
      throw new Error(`${result.command} exited with ${result.code}: ${result.stderr}`)
    }
    const out = JSON.parse(result.stdout.toString('utf8')) as { ContentLength: number; ETag: string }
    return { size: out.ContentLength, etag: out.ETag }
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.#run(['s3', 'rm', `s3://${bucket}/${key}`])
  }

  async deleteAll(bucket: string): Promise<void> {
    await this.#run(['s3', 'rm', '--recursive', `s3://${bucket}`], LARGE_MS)
  }

  async deleteBucket(bucket: string): Promise<void> {
    await this.#run(['s3api', 'delete-bucket', '--bucket', bucket])
  }

  readonly versions: VersionSupport = {
    enable: async (bucket) => {
      await this.#run([
        's3api',
        'put-bucket-versioning',
        '--bucket',
        bucket,
        '--versioning-configuration',
        'Status=Enabled',
      ])
      return (
        (await this.#json<{ Status?: string }>(['s3api', 'get-bucket-versioning', '--bucket', bucket]))
          .Status ?? ''
      )
    },
    list: async (bucket, prefix) => {
      // The CLI follows the pages itself and merges them.
      const out = await this.#json<{ Versions?: VersionEntry[]; DeleteMarkers?: VersionEntry[] }>([
        's3api',
        'list-object-versions',
        '--bucket',
        bucket,
        '--prefix',
        prefix,
      ])
      const entry = (v: VersionEntry, deleteMarker: boolean): ListedVersion => ({
        key: v.Key,
        versionId: v.VersionId,
        lastModified: new Date(v.LastModified),
        isLatest: v.IsLatest,
        deleteMarker,
        size: deleteMarker ? 0 : (v.Size ?? -1),
      })
      return [
        ...(out.Versions ?? []).map((v) => entry(v, false)),
        ...(out.DeleteMarkers ?? []).map((m) => entry(m, true)),
      ]
    },
    showsVersionIds: true,
    listsDeleteMarkers: true,
    get: async (bucket, version, dest) => {
      const out = await this.#json<{ VersionId?: string }>([
        's3api',
        'get-object',
        '--bucket',
        bucket,
        '--key',
        version.key,
        '--version-id',
        version.versionId ?? '',
        dest,
      ])
      if (out.VersionId !== version.versionId)
        throw new Error(`aws s3api get-object --version-id ${version.versionId} answered ${out.VersionId}`)
    },
    remove: async (bucket, version) => {
      await this.#run([
        's3api',
        'delete-object',
        '--bucket',
        bucket,
        '--key',
        version.key,
        '--version-id',
        version.versionId ?? '',
      ])
    },
    removeMany: async (bucket, versions) => {
      // A JSON file, not the shorthand syntax: keys hold `"`, `,` and `=`-like characters.
      const file = join(this.setup.home, 'delete-versions.json')
      const objects = versions.map((v) => ({ Key: v.key, VersionId: v.versionId }))
      await writeFile(file, JSON.stringify({ Objects: objects, Quiet: false }))
      const out = await this.#json<{ Deleted?: unknown[]; Errors?: unknown[] }>([
        's3api',
        'delete-objects',
        '--bucket',
        bucket,
        '--delete',
        `file://${file}`,
      ])
      if (out.Errors?.length || out.Deleted?.length !== versions.length)
        throw new Error(`aws s3api delete-objects answered ${JSON.stringify(out)}`)
    },
  }

  async close(): Promise<void> {}
}

export const awsCli: ClientSpec = {
  name: 'aws CLI',
  async create(setup: ClientSetup) {
    const client = new AwsCliTestClient(await tool('aws'), setup)
    await client.init()
    return client
  },
}
