/**
 * The S3 client matrix: one real node, and for each client (two modes of the AWS SDK for JS, minio-js,
 * s3cmd, the aws CLI, rclone, boto3) the same run: create a bucket, put 1 KiB and 10 MiB objects with
 * single PUTs and a 64 MiB one as the client's multipart upload, get them back byte-identical, read byte
 * ranges, list a prefix with a delimiter across pages, copy (also the 64 MiB object: the aws CLI copies it
 * in parts with UploadPartCopy), delete, delete the bucket (rclone also syncs a
 * folder with `--backup-dir` and purges a bucket). Then versions, on a second bucket with versioning
 * Enabled by the client: two versions of a key, listed (ListObjectVersions) with their ids, the older one
 * read by id and deleted for good (then NoSuchVersion), a plain delete's marker listed and deleted by id
 * (the object is back), and every version and marker deleted for good (DeleteObjects with version ids)
 * before the bucket goes. A part a client cannot do is a named gap in its wrapper (`versions` in
 * `src/s3-clients/types.ts`): the step reports it and the oracle does that part. Keys hold spaces,
 * non-ASCII letters and `&+-é"`. An SDK client of the test's own (the oracle) checks what the node holds
 * after each step, independently of the client under test.
 */
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type NodeProcess, startNode } from '../src/cluster.js'
import {
  CLIENTS,
  type ClientSetup,
  type Digests,
  describeSdkError,
  digestOfFile,
  type Gap,
  isGap,
  isNotFound,
  KiB,
  type ListedVersion,
  listVersions,
  MiB,
  readFileRange,
  type S3TestClient,
  sdkClient,
  tool,
  writeDeterministicFile,
} from '../src/s3-clients/index.js'

const REGION = 'us-east-1'
const PART_SIZE = 16 * MiB
const SIZES = { small: 1 * KiB, medium: 10 * MiB, large: 64 * MiB } as const
type Kind = keyof typeof SIZES
const KEYS: Record<Kind | 'copy' | 'largeCopy', string> = {
  small: 'objects/small 1 KiB &+-é" ünï.bin',
  medium: 'objects/medium 10 MiB &+-é" ünï.bin',
  large: 'objects/large 64 MiB multipart &+-é" 日本.bin',
  copy: 'copies/copy of small &+-é" ünï.bin',
  largeCopy: 'copies/copy of large 64 MiB &+-é" 日本.bin',
}
/** Listed with prefix `list/` and delimiter `/`: five keys and three common prefixes. */
const LIST_PREFIX = 'list/'
const TREE = [
  'a 1.txt',
  'b &+-é".txt',
  'c ünïcødé.txt',
  'd.txt',
  'e.txt',
  'dir one/x.txt',
  'dir one/y.txt',
  'dir 二/z.txt',
  'dir &+"/w.txt',
]
/** s3cmd has no page-size option: 1000 more keys make the server's 1000-entry pages split the listing. */
const FILLERS = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(4, '0')} fill.txt`)
const PAGE_SIZE = 2
/** The key of the version steps, at the top of its bucket: rclone 1.60 addresses old versions by path only there. */
const VERSIONED_KEY = 'versioned &+-é" ü.txt'
/** Sizes of the first, second and third version of `VERSIONED_KEY`. */
const VERSION_SIZES = [48 * KiB, 24 * KiB, 8 * KiB] as const

const here = dirname(fileURLToPath(import.meta.url))
const REPORT = join(here, '../test-results/s3-clients-report.json')

function bucketOf(client: string): string {
  return `e2e-${client
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')}`.slice(0, 63)
}

/** UTF-8 byte order, as S3 lists. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

function expectedListing(paths: readonly string[]): { keys: string[]; prefixes: string[] } {
  const keys = new Set<string>()
  const prefixes = new Set<string>()
  for (const path of paths) {
    const slash = path.indexOf('/')
    if (slash < 0) keys.add(`${LIST_PREFIX}${path}`)
    else prefixes.add(`${LIST_PREFIX}${path.slice(0, slash + 1)}`)
  }
  return { keys: [...keys].sort(byteOrder), prefixes: [...prefixes].sort(byteOrder) }
}

/** The ETag S3 gives a multipart upload: MD5 of the parts' MD5s, `-N`. */
async function multipartEtag(file: string, size: number, partSize: number): Promise<string> {
  const handle = await open(file, 'r')
  try {
    const md5s: Buffer[] = []
    const buffer = Buffer.alloc(partSize)
    for (let offset = 0; offset < size; offset += partSize) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(partSize, size - offset), offset)
      md5s.push(createHash('md5').update(buffer.subarray(0, bytesRead)).digest())
    }
    return `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${md5s.length}"`
  } finally {
    await handle.close()
  }
}

interface StepRecord {
  client: string
  version: string
  step: string
  ok: boolean
  ms: number
  error?: string
  /** Parts the client cannot do (the oracle did them instead), with the reason. */
  gaps?: string[]
}
const report: StepRecord[] = []

let node: NodeProcess
let oracle: S3Client
let setupBase: Omit<ClientSetup, 'home'>
let root: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'aruna-e2e-s3-clients-'))
  node = await startNode({ name: 's3-clients' })
  if (!node.credentials) throw new Error('the node printed no development login')
  setupBase = { s3Url: node.s3Url, credentials: node.credentials, region: REGION, partSize: PART_SIZE }
  oracle = sdkClient(setupBase, 'WHEN_REQUIRED')
})

afterAll(async () => {
  oracle?.destroy()
  await node?.stop()
  await rm(root, { recursive: true, force: true })
  await mkdir(dirname(REPORT), { recursive: true })
  await writeFile(REPORT, `${JSON.stringify(report, null, 2)}\n`)
  const rows = report.map(
    (r) =>
      `${r.ok ? 'ok  ' : 'FAIL'} ${r.client.padEnd(34)} ${r.step.padEnd(44)} ${String(r.ms).padStart(7)} ms${
        r.gaps?.length ? `  (gaps: ${r.gaps.join('; ')})` : ''
      }`,
  )
  console.log(`S3 client matrix (${REPORT}):\n${rows.join('\n')}`)
})

async function oracleHead(bucket: string, key: string) {
  try {
    return await oracle.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
  } catch (err) {
    if (isNotFound(err)) return undefined
    throw err
  }
}

async function oracleList(bucket: string, prefix: string, delimiter?: string) {
  const keys: string[] = []
  const prefixes: string[] = []
  let token: string | undefined
  do {
    const page = await oracle.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        Delimiter: delimiter,
        ContinuationToken: token,
      }),
    )
    for (const o of page.Contents ?? []) keys.push(o.Key ?? '')
    for (const p of page.CommonPrefixes ?? []) prefixes.push(p.Prefix ?? '')
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
  return { keys, prefixes }
}

/** Every version and delete marker of one key, as the node holds them: the current one first. */
async function oracleVersions(bucket: string, key: string): Promise<ListedVersion[]> {
  // ListObjectVersions gives versions and delete markers apart: the current entry first.
  const all = (await listVersions(oracle, bucket, key)).filter((v) => v.key === key)
  return [...all.filter((v) => v.isLatest), ...all.filter((v) => !v.isLatest)]
}

/** GET `?versionId=` by the oracle: the bytes' sha256, or the error answer as `<status> <code>`. */
async function oracleGetVersion(bucket: string, key: string, versionId: string | undefined): Promise<string> {
  try {
    const out = await oracle.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }))
    const bytes = await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()
    return createHash('sha256').update(bytes).digest('hex')
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } }
    return `${e.$metadata?.httpStatusCode} ${e.name}`
  }
}

async function oracleDeleteVersions(bucket: string, versions: readonly ListedVersion[]): Promise<void> {
  if (versions.length === 0) return
  const out = await oracle.send(
    new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: { Objects: versions.map((v) => ({ Key: v.key, VersionId: v.versionId })) },
    }),
  )
  expect(out.Errors ?? []).toEqual([])
}

/** What a listing says about a version, comparable between the client and the oracle. */
function versionView(v: ListedVersion, byId: boolean) {
  // A client without ids (rclone) tells an old version by its LastModified and the current one by its name.
  const id = byId ? v.versionId : v.isLatest ? 'current' : v.lastModified?.toISOString()
  return { key: v.key, id, isLatest: v.isLatest, deleteMarker: v.deleteMarker, size: v.size }
}

function byView(a: ReturnType<typeof versionView>, b: ReturnType<typeof versionView>): number {
  return byteOrder(JSON.stringify(a), JSON.stringify(b))
}

it('finds every client tool on this machine (a missing one fails the run)', async () => {
  const results = await Promise.allSettled([tool('s3cmd'), tool('aws'), tool('rclone'), tool('python3')])
  const missing = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []))
  expect(missing, missing.join('\n')).toEqual([])
  for (const r of results)
    if (r.status === 'fulfilled') console.log(`${r.value.name}: ${r.value.path} — ${r.value.version}`)
})

/** `E2E_S3_CLIENTS=rclone,boto3` runs only the clients whose names contain one of the words. */
const only = (process.env.E2E_S3_CLIENTS ?? '')
  .split(',')
  .map((w) => w.trim().toLowerCase())
  .filter(Boolean)
const selected =
  only.length === 0 ? CLIENTS : CLIENTS.filter((c) => only.some((w) => c.name.toLowerCase().includes(w)))

for (const spec of selected) {
  describe(spec.name, () => {
    const bucket = bucketOf(spec.name)
    let client: S3TestClient
    let dir: string
    let files: Record<Kind, string>
    let digests: Record<Kind, Digests>
    let treeDir: string
    let treePaths: string[]
    const versionedBucket = `${bucket}-versions`.slice(0, 63)
    let versionFiles: string[]
    let versionDigests: Digests[]
    /** The gaps met by the running step. */
    let gaps: string[] = []

    /** Runs one step of the matrix and records its outcome, time and capability gaps. */
    function step(name: string, timeoutMs: number, fn: () => Promise<void>): void {
      it(
        name,
        async () => {
          const t0 = Date.now()
          gaps = []
          const record = () => ({
            client: spec.name,
            version: client?.version ?? '?',
            step: name,
            ms: Date.now() - t0,
            ...(gaps.length > 0 ? { gaps } : {}),
          })
          try {
            await fn()
            report.push({ ...record(), ok: true })
          } catch (err) {
            report.push({ ...record(), ok: false, error: err instanceof Error ? err.message : String(err) })
            throw err
          }
        },
        timeoutMs,
      )
    }

    /** The client's operation for a part, or `undefined` (recorded as a gap) when it has none. */
    function part<F>(what: string, operation: F | Gap): F | undefined {
      if (!isGap(operation)) return operation
      gaps.push(`${what}: ${operation.gap}`)
      return undefined
    }

    beforeAll(async () => {
      dir = await mkdtemp(join(root, `${bucket}-`))
      const home = join(dir, 'home')
      await mkdir(home)
      client = await spec.create({ ...setupBase, home })
      files = {
        small: join(dir, 'small.bin'),
        medium: join(dir, 'medium.bin'),
        large: join(dir, 'large.bin'),
      }
      const made = await Promise.all(
        (Object.keys(SIZES) as Kind[]).map((kind) =>
          writeDeterministicFile(files[kind], `${spec.name}:${kind}`, SIZES[kind]),
        ),
      )
      digests = { small: made[0]!, medium: made[1]!, large: made[2]! }
      versionFiles = VERSION_SIZES.map((_, i) => join(dir, `version-${i + 1}.bin`))
      versionDigests = await Promise.all(
        VERSION_SIZES.map((size, i) =>
          writeDeterministicFile(versionFiles[i]!, `${spec.name}:version ${i + 1}`, size),
        ),
      )
      treeDir = join(dir, 'tree')
      treePaths = client.name === 's3cmd' ? [...TREE, ...FILLERS] : [...TREE]
      for (const path of treePaths) {
        await mkdir(dirname(join(treeDir, path)), { recursive: true })
        await writeFile(join(treeDir, path), `${spec.name} ${path}\n`)
      }
    }, 60_000)

    afterAll(async () => {
      await client?.close()
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    step('creates its bucket', 60_000, async () => {
      await client.createBucket(bucket)
      expect(await client.listBuckets()).toContain(bucket)
    })

    step('puts 1 KiB and 10 MiB objects with single PUTs', 120_000, async () => {
      for (const kind of ['small', 'medium'] as const) {
        await client.putObject(bucket, KEYS[kind], files[kind], SIZES[kind])
        const head = await oracleHead(bucket, KEYS[kind])
        expect(head?.ContentLength, `size of ${KEYS[kind]}`).toBe(SIZES[kind])
        expect(head?.ETag, `ETag of ${KEYS[kind]} (MD5 of a single PUT)`).toBe(`"${digests[kind].md5}"`)
        expect((await client.headObject(bucket, KEYS[kind]))?.size).toBe(SIZES[kind])
      }
    })

    step('puts a 64 MiB object as a multipart upload (16 MiB parts)', 180_000, async () => {
      await client.putMultipart(bucket, KEYS.large, files.large, SIZES.large)
      const head = await oracleHead(bucket, KEYS.large)
      expect(head?.ContentLength).toBe(SIZES.large)
      expect(head?.ETag, 'ETag of a 4-part upload').toBe(
        await multipartEtag(files.large, SIZES.large, PART_SIZE),
      )
      expect((await client.headObject(bucket, KEYS.large))?.size).toBe(SIZES.large)
    })

    step('gets the three objects back byte-identical (sha256)', 180_000, async () => {
      for (const kind of Object.keys(SIZES) as Kind[]) {
        const dest = join(dir, `got-${kind}.bin`)
        await client.getObject(bucket, KEYS[kind], dest)
        const got = await digestOfFile(dest)
        expect({ key: KEYS[kind], size: got.size, sha256: got.sha256 }).toEqual({
          key: KEYS[kind],
          size: digests[kind].size,
          sha256: digests[kind].sha256,
        })
        await rm(dest)
      }
    })

    step('reads byte ranges (across a 4 MiB chunk boundary, and to the end)', 60_000, async () => {
      const scratch = join(dir, 'range')
      if (client.ranges === 'closed') {
        const [start, end] = [4 * MiB - 100, 4 * MiB + 99]
        const got = await client.getRange(bucket, KEYS.medium, start, end, scratch)
        expect(got.equals(await readFileRange(files.medium, start, end)), `bytes ${start}-${end}`).toBe(true)
      }
      const start = SIZES.medium - 5000
      const tail = await client.getRange(bucket, KEYS.medium, start, undefined, scratch)
      expect(tail.length).toBe(5000)
      expect(tail.equals(await readFileRange(files.medium, start, SIZES.medium - 1)), `bytes ${start}-`).toBe(
        true,
      )
    })

    step('lists a prefix with a delimiter across pages', 240_000, async () => {
      await client.putTree(bucket, LIST_PREFIX, treeDir, treePaths)
      const expected = expectedListing(treePaths)
      // What the node holds, seen by the oracle (1000-key pages), in UTF-8 byte order.
      const seen = await oracleList(bucket, LIST_PREFIX, '/')
      expect(seen).toEqual(expected)
      const listed = await client.list(bucket, LIST_PREFIX, PAGE_SIZE)
      expect({
        keys: [...listed.keys].sort(byteOrder),
        prefixes: [...listed.prefixes].sort(byteOrder),
      }).toEqual(expected)
      const entries = expected.keys.length + expected.prefixes.length
      const pageSize = client.name === 's3cmd' ? 1000 : PAGE_SIZE
      expect(listed.pages, `list requests (${client.paging})`).toBe(Math.ceil(entries / pageSize))
    })

    step('copies an object (keys with special characters on both sides)', 60_000, async () => {
      await client.copyObject(bucket, KEYS.small, KEYS.copy)
      const dest = join(dir, 'got-copy.bin')
      await client.getObject(bucket, KEYS.copy, dest)
      expect((await digestOfFile(dest)).sha256).toBe(digests.small.sha256)
      expect((await oracleHead(bucket, KEYS.copy))?.ETag).toBe(`"${digests.small.md5}"`)
    })

    step(
      'copies the 64 MiB object server-side (the aws CLI in 16 MiB parts: UploadPartCopy)',
      180_000,
      async () => {
        const before = node.output().length
        await client.copyObject(bucket, KEYS.large, KEYS.largeCopy)
        const head = await oracleHead(bucket, KEYS.largeCopy)
        expect(head?.ContentLength).toBe(SIZES.large)
        // Parts of the same size as the upload's have the same MD5s: the same multipart ETag either way.
        expect(head?.ETag).toBe(await multipartEtag(files.large, SIZES.large, PART_SIZE))
        const got = await oracle.send(new GetObjectCommand({ Bucket: bucket, Key: KEYS.largeCopy }))
        const hash = createHash('sha256')
        for await (const piece of got.Body as AsyncIterable<Uint8Array>) hash.update(piece)
        expect(hash.digest('hex')).toBe(digests.large.sha256)
        if (client.name === 'aws CLI') {
          const copies = node
            .output()
            .slice(before)
            .split('\n')
            .filter((line) => line.includes('"operation":"UploadPartCopy"') && line.includes('"status":200'))
          expect(copies.length, 'UploadPartCopy requests answered 200').toBe(SIZES.large / PART_SIZE)
        }
      },
    )

    step('deletes an object', 60_000, async () => {
      await client.deleteObject(bucket, KEYS.small)
      expect(await client.headObject(bucket, KEYS.small)).toBeUndefined()
      expect(await oracleHead(bucket, KEYS.small)).toBeUndefined()
      expect(await oracleHead(bucket, KEYS.copy), 'the copy stays').toBeDefined()
    })

    if (spec.name === 'rclone') {
      step(
        'syncs a folder with --backup-dir (server-side moves of replaced and deleted objects)',
        120_000,
        async () => {
          const source = join(dir, 'sync')
          await mkdir(source, { recursive: true })
          const files: Record<string, string> = {
            'keep é.txt': 'kept\n',
            'change &+.txt': 'old\n',
            'gone "x".txt': 'gone\n',
          }
          for (const [name, body] of Object.entries(files)) await writeFile(join(source, name), body)
          await client.syncWithBackup!(bucket, source, 'sync/', 'backup/')
          expect((await oracleList(bucket, 'sync/')).keys).toEqual(
            Object.keys(files)
              .map((n) => `sync/${n}`)
              .sort(byteOrder),
          )
          await writeFile(join(source, 'change &+.txt'), 'new content\n')
          await rm(join(source, 'gone "x".txt'))
          await writeFile(join(source, 'added.txt'), 'added\n')
          await client.syncWithBackup!(bucket, source, 'sync/', 'backup/')
          expect((await oracleList(bucket, 'sync/')).keys).toEqual(
            ['sync/added.txt', 'sync/change &+.txt', 'sync/keep é.txt'].sort(byteOrder),
          )
          expect((await oracleList(bucket, 'backup/')).keys).toEqual([
            'backup/change &+.txt',
            'backup/gone "x".txt',
          ])
          const text = async (key: string) =>
            (await oracle.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString()
          expect(await text('backup/change &+.txt')).toBe('old\n')
          expect(await text('backup/gone "x".txt')).toBe('gone\n')
          expect(await text('sync/change &+.txt')).toBe('new content\n')
        },
      )

      step('purges a bucket with objects (every object and the bucket, one command)', 120_000, async () => {
        const doomed = `${bucket}-purge`.slice(0, 63)
        await oracle.send(new CreateBucketCommand({ Bucket: doomed }))
        for (const key of ['a.txt', 'dir one/b &+.txt', 'dir one/deeper/c é.txt', 'z.txt'])
          await oracle.send(new PutObjectCommand({ Bucket: doomed, Key: key, Body: key }))
        await client.purge!(doomed)
        await expect(oracle.send(new HeadBucketCommand({ Bucket: doomed }))).rejects.toMatchObject({
          $metadata: { httpStatusCode: 404 },
        })
      })
    }

    /** The older version as the client listed it (the oracle's entry where the client cannot list). */
    let older: ListedVersion | undefined
    /** The two versions as the node held them after the writes, newest first. */
    let written: ListedVersion[] = []

    step('versions: enables versioning on a bucket of its own (PutBucketVersioning)', 60_000, async () => {
      await client.createBucket(versionedBucket)
      const enable = part('PutBucketVersioning (the oracle enables it)', client.versions.enable)
      if (enable) expect(await enable(versionedBucket), 'the status the client reads back').toBe('Enabled')
      else
        await oracle.send(
          new PutBucketVersioningCommand({
            Bucket: versionedBucket,
            VersioningConfiguration: { Status: 'Enabled' },
          }),
        )
      const status = await oracle.send(new GetBucketVersioningCommand({ Bucket: versionedBucket }))
      expect(status.Status).toBe('Enabled')
    })

    step(
      'versions: writes two versions of a key and lists both with their ids (ListObjectVersions)',
      60_000,
      async () => {
        for (const i of [0, 1])
          await client.putObject(versionedBucket, VERSIONED_KEY, versionFiles[i]!, VERSION_SIZES[i]!)
        written = await oracleVersions(versionedBucket, VERSIONED_KEY)
        expect(
          written.map((v) => ({ isLatest: v.isLatest, deleteMarker: v.deleteMarker, size: v.size })),
        ).toEqual([
          { isLatest: true, deleteMarker: false, size: VERSION_SIZES[1] },
          { isLatest: false, deleteMarker: false, size: VERSION_SIZES[0] },
        ])
        expect(new Set(written.map((v) => v.versionId)).size, 'two distinct version ids').toBe(2)
        expect(
          written.filter((v) => !v.versionId || v.versionId === 'null'),
          'no null version',
        ).toEqual([])
        const list = part('ListObjectVersions', client.versions.list)
        if (list) {
          const byId =
            part('version ids (compared by LastModified instead)', client.versions.showsVersionIds) === true
          const seen = await list(versionedBucket, VERSIONED_KEY)
          expect(seen.map((v) => versionView(v, byId)).sort(byView)).toEqual(
            written.map((v) => versionView(v, byId)).sort(byView),
          )
          older = seen.find((v) => !v.isLatest && !v.deleteMarker)
        } else older = written[1]
        const current = join(dir, 'current.bin')
        await client.getObject(versionedBucket, VERSIONED_KEY, current)
        expect((await digestOfFile(current)).sha256, 'a plain GET reads the newest').toBe(
          versionDigests[1]!.sha256,
        )
      },
    )

    step('versions: reads the older version by its id byte-identical', 60_000, async () => {
      if (!older) throw new Error('the older version was not listed')
      const dest = join(dir, 'older.bin')
      const get = part('GET ?versionId=', client.versions.get)
      if (get) {
        await get(versionedBucket, older, dest)
        expect((await digestOfFile(dest)).sha256).toBe(versionDigests[0]!.sha256)
      }
      if (client.versions.getAt) {
        // As the bucket was when the older version was written: that version, not the newer one.
        const at = written[1]?.lastModified
        if (!at) throw new Error('the node listed no LastModified')
        await client.versions.getAt(versionedBucket, VERSIONED_KEY, at, dest)
        expect((await digestOfFile(dest)).sha256, `the key as of ${at.toISOString()}`).toBe(
          versionDigests[0]!.sha256,
        )
      }
    })

    step('versions: deletes the older version for good (DELETE ?versionId=)', 60_000, async () => {
      const [newer, old] = written
      if (!older || !newer || !old) throw new Error('the versions were not listed')
      const remove = part('DELETE ?versionId= (the oracle deletes it)', client.versions.remove)
      if (remove) await remove(versionedBucket, older)
      else
        await oracle.send(
          new DeleteObjectCommand({ Bucket: versionedBucket, Key: VERSIONED_KEY, VersionId: old.versionId }),
        )
      expect((await oracleVersions(versionedBucket, VERSIONED_KEY)).map((v) => v.versionId)).toEqual([
        newer.versionId,
      ])
      expect(await oracleGetVersion(versionedBucket, VERSIONED_KEY, old.versionId)).toBe('404 NoSuchVersion')
      expect(await oracleGetVersion(versionedBucket, VERSIONED_KEY, newer.versionId)).toBe(
        versionDigests[1]!.sha256,
      )
    })

    step(
      'versions: a plain delete leaves a delete marker; deleting the marker restores the object',
      60_000,
      async () => {
        const newer = written[0]
        if (!newer) throw new Error('the versions were not listed')
        await client.deleteObject(versionedBucket, VERSIONED_KEY)
        const held = await oracleVersions(versionedBucket, VERSIONED_KEY)
        const marker = held.find((v) => v.deleteMarker)
        expect(
          held.map((v) => ({ id: v.versionId, isLatest: v.isLatest, deleteMarker: v.deleteMarker })),
        ).toEqual([
          { id: marker?.versionId, isLatest: true, deleteMarker: true },
          { id: newer.versionId, isLatest: false, deleteMarker: false },
        ])
        expect(await oracleHead(versionedBucket, VERSIONED_KEY), 'the key reads as gone').toBeUndefined()
        expect(await client.headObject(versionedBucket, VERSIONED_KEY)).toBeUndefined()
        const list = part('ListObjectVersions', client.versions.list)
        let listed: ListedVersion | undefined
        if (list) {
          const seen = await list(versionedBucket, VERSIONED_KEY)
          if (part('lists delete markers', client.versions.listsDeleteMarkers) === true) {
            listed = seen.find((v) => v.deleteMarker)
            expect(listed && { id: listed.versionId, isLatest: listed.isLatest }).toEqual({
              id: marker?.versionId,
              isLatest: true,
            })
          } else
            expect(
              seen.map((v) => v.isLatest),
              'no current version, only the hidden one',
            ).toEqual([false])
        }
        const remove = listed && part('DELETE ?versionId= of the marker', client.versions.remove)
        if (listed && remove) await remove(versionedBucket, listed)
        else {
          if (!listed) gaps.push('deletes the marker: the client cannot name it (the oracle deletes it)')
          await oracle.send(
            new DeleteObjectCommand({
              Bucket: versionedBucket,
              Key: VERSIONED_KEY,
              VersionId: marker?.versionId,
            }),
          )
        }
        expect((await oracleVersions(versionedBucket, VERSIONED_KEY)).map((v) => v.versionId)).toEqual([
          newer.versionId,
        ])
        const dest = join(dir, 'restored.bin')
        await client.getObject(versionedBucket, VERSIONED_KEY, dest)
        expect((await digestOfFile(dest)).sha256, 'the newer version is current again').toBe(
          versionDigests[1]!.sha256,
        )
      },
    )

    step('versions: deletes every version and delete marker for good, then the bucket', 60_000, async () => {
      // A third version and a delete marker on top: two old versions and a current marker are left.
      await client.putObject(versionedBucket, VERSIONED_KEY, versionFiles[2]!, VERSION_SIZES[2]!)
      await client.deleteObject(versionedBucket, VERSIONED_KEY)
      const held = await listVersions(oracle, versionedBucket, '')
      expect(held.map((v) => v.deleteMarker).sort()).toEqual([false, false, true])
      const list = part('ListObjectVersions', client.versions.list)
      const removeMany = part('DeleteObjects with version ids', client.versions.removeMany)
      if (list && removeMany) await removeMany(versionedBucket, await list(versionedBucket, ''))
      else if (client.versions.cleanupHidden) await client.versions.cleanupHidden(versionedBucket)
      else {
        gaps.push('deletes the versions: the oracle does it')
        await oracleDeleteVersions(versionedBucket, held)
      }
      expect(await listVersions(oracle, versionedBucket, ''), 'no version and no marker left').toEqual([])
      await client.deleteBucket(versionedBucket)
      await expect(oracle.send(new HeadBucketCommand({ Bucket: versionedBucket }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      })
    })

    step('deletes every object, then the bucket', 180_000, async () => {
      await client.deleteAll(bucket)
      expect(await oracleList(bucket, '')).toEqual({ keys: [], prefixes: [] })
      await client.deleteBucket(bucket)
      const buckets = await oracle.send(new ListBucketsCommand({}))
      expect((buckets.Buckets ?? []).map((b) => b.Name)).not.toContain(bucket)
      await expect(oracle.send(new HeadBucketCommand({ Bucket: bucket }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      })
    })
  })
}

/** Details of the node's S3 API that the clients above showed they depend on, checked one by one. */
describe('S3 API details real clients rely on', () => {
  it('decodes XML character references in request bodies (Go clients such as rclone write `"` as &#34;)', async () => {
    const bucket = 'e2e-xml-char-refs'
    const key = 'numeric refs &+-é".bin'
    await oracle.send(new CreateBucketCommand({ Bucket: bucket }))
    const { UploadId } = await oracle.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))
    const part = await oracle.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(1024, 7),
      }),
    )
    // The same CompleteMultipartUpload document, with `"` written as the character reference `&#34;`
    // (what Go's encoding/xml, and so rclone, sends): XML 1.0 makes both the same text.
    const complete = new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: [{ ETag: part.ETag, PartNumber: 1 }] },
    })
    let sent = ''
    complete.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body?: unknown; headers: Record<string, string> }
        if (typeof request.body === 'string') {
          sent = request.body.replaceAll('&quot;', '&#34;')
          request.body = sent
          request.headers['content-length'] = String(Buffer.byteLength(sent))
        }
        return next(args)
      },
      { step: 'build', priority: 'low', name: 'numericCharacterReferences' },
    )
    try {
      const out = await oracle.send(complete).catch((err: unknown) => {
        throw new Error(`CompleteMultipartUpload with body ${sent} failed: ${describeSdkError(err)}`)
      })
      expect(sent).toContain('&#34;')
      expect(out.ETag).toMatch(/-1"$/)
    } finally {
      await oracle.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => {})
      await oracle.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {})
    }
  })

  it('deletes the key a DeleteObjects document names with character references (`"` as &#34;)', async () => {
    const bucket = 'e2e-xml-char-refs-delete'
    const key = 'quoted "name" &+-é.txt'
    await oracle.send(new CreateBucketCommand({ Bucket: bucket }))
    await oracle.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'delete me' }))
    const del = new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: key }] } })
    let sent = ''
    del.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body?: unknown; headers: Record<string, string> }
        if (typeof request.body === 'string') {
          sent = request.body.replaceAll('&quot;', '&#34;')
          request.body = sent
          // The body changed: replace the SDK's checksum with a Content-MD5 of the new one.
          for (const name of Object.keys(request.headers))
            if (/^(x-amz-checksum-|x-amz-sdk-checksum-|content-md5$)/i.test(name))
              delete request.headers[name]
          request.headers['content-md5'] = createHash('md5').update(sent).digest('base64')
          request.headers['content-length'] = String(Buffer.byteLength(sent))
        }
        return next(args)
      },
      { step: 'build', priority: 'low', name: 'numericCharacterReferences' },
    )
    try {
      const out = await oracle.send(del).catch((err: unknown) => {
        throw new Error(`DeleteObjects with body ${sent} failed: ${describeSdkError(err)}`)
      })
      expect(sent).toContain('&#34;')
      expect({ deleted: out.Deleted?.map((d) => d.Key), errors: out.Errors ?? [] }).toEqual({
        deleted: [key],
        errors: [],
      })
      expect(await oracleHead(bucket, key), 'the object named in the document is gone').toBeUndefined()
    } finally {
      await oracle.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => {})
      await oracle.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {})
    }
  })

  it('answers CreateBucket of a bucket the caller already owns with 200 or BucketAlreadyOwnedByYou', async () => {
    const bucket = 'e2e-created-twice'
    await oracle.send(new CreateBucketCommand({ Bucket: bucket }))
    try {
      const again = await oracle.send(new CreateBucketCommand({ Bucket: bucket })).then(
        () => 'ok',
        (err: { name?: string; $metadata?: { httpStatusCode?: number } }) =>
          `${err.$metadata?.httpStatusCode} ${err.name}`,
      )
      expect(['ok', '409 BucketAlreadyOwnedByYou']).toContain(again)
    } finally {
      await oracle.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {})
    }
  })
})

it('left no server faults in the node log (every failure above was an S3 error answer, not a 5xx)', () => {
  const faults = node
    .output()
    .split('\n')
    .filter((line) => /"level":(50|60)/.test(line))
  expect(faults, faults.join('\n')).toEqual([])
})
