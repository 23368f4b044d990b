/**
 * s3cmd with a config file of its own (`-c`): path style (host_bucket without `%(bucket)s`), plain HTTP,
 * SigV4, 16 MiB multipart chunks. s3cmd lists with ListObjects v1 and has no page-size option (it follows
 * `NextMarker` over the server's 1000-key pages), and it asks for a byte range only when resuming a partial
 * download (`get --continue`: `Range: bytes=<local size>-`).
 */
import { mkdir, readFile, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runOk, type Tool, tool } from './tools.js'
import type {
  ClientSetup,
  ClientSpec,
  HeadOutcome,
  ListOutcome,
  S3TestClient,
  VersionSupport,
} from './types.js'

/**
 * s3cmd 2.3.0 has no version commands: no PutBucketVersioning, no ListObjectVersions, no `--version-id`
 * on get or del (in its source `versionId` is only a subresource name its signer knows). It writes new
 * versions and makes delete markers with its ordinary put and del; the oracle does the rest.
 */
const NO_VERSIONS = 's3cmd 2.3.0 has no version commands (versioning, version listing, --version-id)'

const SMALL_MS = 60_000
const LARGE_MS = 180_000

class S3cmdTestClient implements S3TestClient {
  readonly name = 's3cmd'
  readonly ranges = 'open-ended' as const
  readonly paging =
    'ListObjects v1, no page-size option: NextMarker over 1000-key pages (the prefix holds 1000+ keys)'
  readonly version: string
  readonly #env: NodeJS.ProcessEnv
  readonly #config: string

  constructor(
    private readonly tool: Tool,
    private readonly setup: ClientSetup,
  ) {
    this.version = tool.version.split('\n')[0] ?? tool.version
    this.#config = join(setup.home, 's3cmd.cfg')
    this.#env = { PATH: process.env.PATH, HOME: setup.home, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' }
  }

  async init(): Promise<void> {
    const host = new URL(this.setup.s3Url).host
    await writeFile(
      this.#config,
      [
        '[default]',
        `access_key = ${this.setup.credentials.accessKeyId}`,
        `secret_key = ${this.setup.credentials.secretAccessKey}`,
        `host_base = ${host}`,
        `host_bucket = ${host}`,
        'use_https = False',
        'signature_v2 = False',
        `bucket_location = ${this.setup.region}`,
        'check_ssl_certificate = False',
        `multipart_chunk_size_mb = ${this.setup.partSize / (1024 * 1024)}`,
        'enable_multipart = True',
        'progress_meter = False',
        'socket_timeout = 60',
        'max_retries = 1',
        '',
      ].join('\n'),
    )
  }

  #run(args: readonly string[], timeoutMs = SMALL_MS) {
    return runOk(this.tool.path, ['-c', this.#config, ...args], { env: this.#env, timeoutMs })
  }

  async createBucket(bucket: string): Promise<void> {
    await this.#run(['mb', `s3://${bucket}`])
  }

  async listBuckets(): Promise<string[]> {
    const out = (await this.#run(['ls'])).stdout.toString('utf8')
    return [...out.matchAll(/s3:\/\/(\S+)$/gm)].map((m) => m[1] ?? '')
  }

  async putObject(bucket: string, key: string, file: string, size: number): Promise<void> {
    if (size > this.setup.partSize) throw new Error(`${size} bytes would be a multipart upload with s3cmd`)
    await this.#run(['put', file, `s3://${bucket}/${key}`], LARGE_MS)
  }

  async putMultipart(bucket: string, key: string, file: string): Promise<void> {
    await this.#run(
      [
        'put',
        `--multipart-chunk-size-mb=${this.setup.partSize / (1024 * 1024)}`,
        file,
        `s3://${bucket}/${key}`,
      ],
      LARGE_MS,
    )
  }

  async putTree(bucket: string, prefix: string, dir: string): Promise<void> {
    // `put --recursive dir/ s3://b/prefix/` uploads the folder's content under the prefix.
    await this.#run(['put', '--recursive', `${dir}/`, `s3://${bucket}/${prefix}`], LARGE_MS)
  }

  async getObject(bucket: string, key: string, dest: string): Promise<void> {
    await this.#run(['get', '--force', `s3://${bucket}/${key}`, dest], LARGE_MS)
  }

  async getRange(
    bucket: string,
    key: string,
    start: number,
    end: number | undefined,
    scratch: string,
  ): Promise<Buffer> {
    if (end !== undefined) throw new Error('s3cmd cannot ask for a closed byte range')
    // A partial local file of `start` bytes: `get --continue` asks for `bytes=<start>-` and appends.
    await mkdir(scratch, { recursive: true })
    const dest = join(scratch, 'partial.bin')
    await writeFile(dest, '')
    await truncate(dest, start)
    const result = await this.#run(['get', '--continue', '--debug', `s3://${bucket}/${key}`, dest], LARGE_MS)
    if (!result.stderr.includes(`Range: ${start} .. end`))
      throw new Error(`s3cmd did not ask for a range starting at ${start}:\n${result.stderr.slice(-3000)}`)
    return (await readFile(dest)).subarray(start)
  }

  async list(bucket: string, prefix: string): Promise<ListOutcome> {
    const result = await this.#run(['ls', '--debug', `s3://${bucket}/${prefix}`], LARGE_MS)
    const keys: string[] = []
    const prefixes: string[] = []
    for (const line of result.stdout.toString('utf8').split('\n')) {
      const dir = /^\s+DIR\s+s3:\/\/[^/]+\/(.*)$/.exec(line)
      if (dir) {
        prefixes.push(dir[1] ?? '')
        continue
      }
      const file = /^\S+ \S+\s+\d+\s+s3:\/\/[^/]+\/(.*)$/.exec(line)
      if (file) keys.push(file[1] ?? '')
    }
    const pages = (result.stderr.match(/Listing continues after/g) ?? []).length + 1
    return { keys, prefixes, pages }
  }

  async copyObject(bucket: string, sourceKey: string, destKey: string): Promise<void> {
    await this.#run(['cp', `s3://${bucket}/${sourceKey}`, `s3://${bucket}/${destKey}`])
  }

  async headObject(bucket: string, key: string): Promise<HeadOutcome | undefined> {
    // `info` would also ask for the ACL and policy (501 here): a listing of the key itself is the head.
    const out = (await this.#run(['ls', '--list-md5', `s3://${bucket}/${key}`])).stdout.toString('utf8')
    for (const line of out.split('\n')) {
      const m = /^\S+ \S+\s+(\d+)\s+(\S+)\s+s3:\/\/[^/]+\/(.*)$/.exec(line)
      if (m && m[3] === key) return { size: Number(m[1]), etag: `"${m[2]}"` }
    }
    return undefined
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.#run(['del', `s3://${bucket}/${key}`])
  }

  async deleteAll(bucket: string): Promise<void> {
    await this.#run(['del', '--recursive', '--force', `s3://${bucket}`], LARGE_MS)
  }

  async deleteBucket(bucket: string): Promise<void> {
    await this.#run(['rb', `s3://${bucket}`])
  }

  readonly versions: VersionSupport = {
    enable: { gap: NO_VERSIONS },
    showsVersionIds: { gap: NO_VERSIONS },
    list: { gap: NO_VERSIONS },
    listsDeleteMarkers: { gap: NO_VERSIONS },
    get: { gap: NO_VERSIONS },
    remove: { gap: NO_VERSIONS },
    removeMany: { gap: NO_VERSIONS },
  }

  async close(): Promise<void> {}
}

export const s3cmd: ClientSpec = {
  name: 's3cmd',
  async create(setup: ClientSetup) {
    const client = new S3cmdTestClient(await tool('s3cmd'), setup)
    await client.init()
    return client
  },
}
