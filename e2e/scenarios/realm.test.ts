/**
 * The README's "two terminals" journey as real processes: node 1 `aruna start` (a new realm), `aruna
 * invite` on it, node 2 `aruna join <invite>`; `aruna status --json` on either node lists both nodes,
 * live; an access key from `aruna keys create` on node 1 works against node 2's S3 endpoint with the AWS
 * SDK and the aws CLI (a bucket without a group header, an object back byte-identical); the used invite
 * is refused a second time and leaves no realm behind; after `aruna login` on node 1, a crate imported
 * there with `aruna meta import` is printed by `aruna meta get` on node 2, and a zip exported and imported
 * on node 2 reads on node 1; `aruna node remove` takes node 2 out of node 1's
 * list. Every wait is a bounded poll. On a failure the processes' output, every CLI run and the data
 * directories are kept under test-results/realm/.
 */
import { createHash, randomBytes } from 'node:crypto'
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest'
import {
  type CliOptions,
  type CliRun,
  describeRun,
  joinNode,
  type NodeProcess,
  runCli,
  type S3Credentials,
  startNode,
  waitUntil,
} from '../src/cluster.js'
import { awsCli } from '../src/s3-clients/aws-cli.js'
import { describeSdkError, sdkClient } from '../src/s3-clients/aws-sdk.js'
import { digestOfFile, KiB, MiB, writeDeterministicFile } from '../src/s3-clients/data.js'

const REGION = 'us-east-1'
/** How long node 2 may take to be listed live on both nodes, the key to reach it, the removal to show. */
const SETTLE_MS = 30_000

const here = dirname(fileURLToPath(import.meta.url))
const RESULTS = join(here, '../test-results/realm')
const REPORT = join(here, '../test-results/realm-report.json')

interface NodeEntry {
  id: string
  kind: string
  live: boolean
  addresses: string[]
  addedAt: string
}
interface Status {
  health: { status: string; nodeId: string; realmId: string; kind: string; peers: number }
  nodes?: NodeEntry[]
}

const processes: NodeProcess[] = []
const transcript: CliRun[] = []
const timings: Record<string, number> = {}
let failed = false
let root: string
let node1: NodeProcess | undefined
let node2: NodeProcess | undefined
let invite: string | undefined
let key: (S3Credentials & { userId: string }) | undefined
const sdkClients: S3Client[] = []

/** Runs the CLI (bounded) and keeps the run for the failure log. */
async function cli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const run = await runCli(args, options)
  transcript.push(run)
  return run
}

async function cliJson<T>(args: readonly string[], options: CliOptions = {}): Promise<T> {
  const run = await cli(args, options)
  expect(run.code, describeRun(run)).toBe(0)
  try {
    return JSON.parse(run.stdout) as T
  } catch {
    throw new Error(`${describeRun(run)}\n  (stdout is not JSON)`)
  }
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`an earlier step failed: no ${what}`)
  return value
}

async function timed<T>(step: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now()
  try {
    return await fn()
  } finally {
    timings[step] = Date.now() - t0
  }
}

const status = (node: NodeProcess) => cliJson<Status>(['status', '--data-dir', node.dataDir, '--json'])

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  )

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'aruna-e2e-realm-'))
  await rm(RESULTS, { recursive: true, force: true })
})

beforeEach(() => {
  onTestFailed(() => {
    failed = true
  })
})

afterAll(async () => {
  for (const client of sdkClients) client.destroy()
  // Newest first; on a failure keep every data directory for a look.
  for (const node of [...processes].reverse()) await node.stop(10_000, { keepDataDir: failed })
  if (failed) {
    await mkdir(RESULTS, { recursive: true })
    for (const node of processes) {
      await writeFile(join(RESULTS, `${node.name}.log`), node.output())
      const tail = node.output().trimEnd().split('\n').slice(-25).join('\n')
      console.error(`--- ${node.name} (data directory kept: ${node.dataDir}), last lines:\n${tail}`)
    }
    await writeFile(join(RESULTS, 'cli.log'), transcript.map((run) => `${describeRun(run)}\n`).join('\n'))
    console.error(`realm scenario failed: logs in ${RESULTS}, scratch folder kept: ${root}`)
  } else await rm(root, { recursive: true, force: true })
  await mkdir(dirname(REPORT), { recursive: true })
  await writeFile(REPORT, `${JSON.stringify({ failed, timings, cliRuns: transcript.length }, null, 2)}\n`)
  console.log(
    `realm scenario step times (${REPORT}):\n${Object.entries(timings)
      .map(([step, ms]) => `  ${step.padEnd(48)} ${String(ms).padStart(6)} ms`)
      .join('\n')}`,
  )
})

describe("a realm of two nodes (the README's two terminals)", () => {
  it('node 1 creates a realm on start and makes one-time invites', async () => {
    const n1 = await timed('node 1: start', () => startNode({ name: 'realm-node-1' }))
    node1 = n1
    processes.push(n1)
    expect(node1.nodeId, 'the start line names the node').toMatch(/^12D3KooW/)
    expect(node1.p2p.length, 'the start line lists p2p addresses').toBeGreaterThan(0)
    expect(await exists(join(node1.dataDir, 'realm.json')), 'realm.json in node 1').toBe(true)

    const json = await timed('invite --json', () =>
      cliJson<{ invite: string; id: string; expiresAt: string }>([
        'invite',
        '--data-dir',
        n1.dataDir,
        '--json',
      ]),
    )
    expect(json.invite).toMatch(/^aruna-invite-1\.\S+$/)
    expect(typeof json.id).toBe('string')
    expect(Date.parse(json.expiresAt)).toBeGreaterThan(Date.now())

    // The plain output's first line is the invite a person copies to the other terminal.
    const plain = await cli(['invite', '--data-dir', node1.dataDir])
    expect(plain.code, describeRun(plain)).toBe(0)
    const first = plain.stdout.split('\n')[0] ?? ''
    expect(first).toMatch(/^aruna-invite-1\.\S+$/)
    expect(first, 'a new invite each time').not.toBe(json.invite)
    invite = first
  })

  it('node 2 joins with the invite and runs as a member of the realm', async () => {
    const line = need(invite, 'invite')
    node2 = await timed('node 2: join until started', () => joinNode({ invite: line, name: 'realm-node-2' }))
    processes.push(node2)
    const out = node2.output()
    expect(out, 'progress lines on stderr').toMatch(/^aruna: /m)
    expect(node2.credentials, 'a joined node has no development login').toBeUndefined()
    expect(node2.nodeId).toMatch(/^12D3KooW/)
    expect(node2.nodeId).not.toBe(node1?.nodeId)
    expect(await exists(join(node2.dataDir, 'realm.json')), 'realm.json in node 2').toBe(true)
  })

  it('status --json on either node lists both nodes, both live', async () => {
    const n1 = need(node1, 'node 1')
    const n2 = need(node2, 'node 2')
    const ids = [need(n1.nodeId, 'node 1 id'), need(n2.nodeId, 'node 2 id')].sort()
    let last: Record<string, Status | undefined> = {}
    const allLive = (s: Status | undefined) =>
      JSON.stringify(
        (s?.nodes ?? [])
          .filter((n) => n.live)
          .map((n) => n.id)
          .sort(),
      ) === JSON.stringify(ids)
    const { ms } = await waitUntil(
      'both nodes listed live in status --json of both nodes',
      async () => {
        const [s1, s2] = await Promise.all([status(n1), status(n2)])
        last = { 'node 1': s1, 'node 2': s2 }
        return allLive(s1) && allLive(s2) ? { s1, s2 } : undefined
      },
      { timeoutMs: SETTLE_MS, intervalMs: 250, describe: () => `last: ${JSON.stringify(last, null, 2)}` },
    )
    timings['both nodes live on both (poll)'] = ms
    const [s1, s2] = [need(last['node 1'], 'status'), need(last['node 2'], 'status')]
    expect(s1.health).toMatchObject({ status: 'ok', nodeId: n1.nodeId })
    expect(s2.health).toMatchObject({ status: 'ok', nodeId: n2.nodeId, realmId: s1.health.realmId })
    expect(s1.nodes?.map((n) => n.id).sort()).toEqual(ids)
    expect(s2.nodes?.map((n) => n.id).sort()).toEqual(ids)
    for (const n of [...(s1.nodes ?? []), ...(s2.nodes ?? [])])
      expect(n.addresses.length, `${n.id} has addresses`).toBeGreaterThan(0)

    const list = await cliJson<{ nodes: NodeEntry[] }>(['node', 'list', '--data-dir', n1.dataDir, '--json'])
    expect(list.nodes.map((n) => n.id).sort()).toEqual(ids)
  })

  it("an access key made on node 1 works on node 2's S3 endpoint (AWS SDK)", async () => {
    const n1 = need(node1, 'node 1')
    const n2 = need(node2, 'node 2')
    key = await timed('keys create', () =>
      cliJson<S3Credentials & { userId: string }>([
        'keys',
        'create',
        '--data-dir',
        n1.dataDir,
        '--json',
        '--description',
        'e2e realm scenario',
      ]),
    )
    expect(key.accessKeyId).toMatch(/^AK/)
    expect(key.secretAccessKey.length).toBeGreaterThan(20)
    expect(typeof key.userId).toBe('string')
    const credentials = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }
    const s3 = sdkClient({ s3Url: n2.s3Url, credentials, region: REGION }, 'WHEN_REQUIRED')
    sdkClients.push(s3)

    // The key is an organisation record: it may take a moment to reach node 2. Only an unknown key is
    // waited for; any other answer ends the wait.
    let lastError = ''
    const { value: listed, ms } = await waitUntil(
      'the new access key is accepted on node 2',
      async () => {
        try {
          return {
            ok: true as const,
            names: ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name),
          }
        } catch (err) {
          lastError = describeSdkError(err)
          if (err instanceof S3ServiceException && err.name === 'InvalidAccessKeyId') return undefined
          return { ok: false as const, error: lastError }
        }
      },
      { timeoutMs: SETTLE_MS, describe: () => `last error: ${lastError}` },
    )
    timings['key accepted on node 2 (poll)'] = ms
    expect(listed, 'ListBuckets on node 2 with the key').toMatchObject({ ok: true })

    const bucket = 'realm-sdk'
    const body = randomBytes(300 * KiB)
    await timed('SDK: create bucket, put, get (node 2)', async () => {
      // No x-aruna-group header: the node puts the bucket in the caller's first group.
      await s3.send(new CreateBucketCommand({ Bucket: bucket }))
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'run-1/results.bin',
          Body: body,
          ContentLength: body.length,
        }),
      )
      expect(put.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`)
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'run-1/results.bin' }))
      const bytes = await need(got.Body, 'GetObject body').transformToByteArray()
      expect(bytes.length).toBe(body.length)
      expect(sha256(bytes), 'byte-identical').toBe(sha256(body))
    })
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'run-1/results.bin' }))
    expect(head.ContentLength).toBe(body.length)
    const names = ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name)
    expect(names).toContain(bucket)

    // The same key is accepted by node 1 as well (its own node).
    const s3n1 = sdkClient({ s3Url: n1.s3Url, credentials, region: REGION }, 'WHEN_REQUIRED')
    sdkClients.push(s3n1)
    await expect(s3n1.send(new ListBucketsCommand({})).then(() => 'ok', describeSdkError)).resolves.toBe('ok')
  })

  it("the same key works on node 2's S3 endpoint with the aws CLI", async () => {
    const n2 = need(node2, 'node 2')
    const k = need(key, 'access key')
    const home = join(root, 'aws-home')
    await mkdir(home, { recursive: true })
    const aws = await awsCli.create({
      s3Url: n2.s3Url,
      credentials: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey },
      region: REGION,
      home,
      partSize: 16 * MiB,
    })
    const bucket = 'realm-aws-cli'
    const file = join(root, 'upload.bin')
    const written = await writeDeterministicFile(file, 'realm aws cli', 200 * KiB + 7)
    await timed('aws CLI: mb, cp up, cp down (node 2)', async () => {
      await aws.createBucket(bucket)
      await aws.putObject(bucket, 'run-1/upload.bin', file, written.size)
      const back = join(root, 'download.bin')
      await aws.getObject(bucket, 'run-1/upload.bin', back)
      expect(await digestOfFile(back)).toEqual(written)
    })
    expect(await aws.listBuckets()).toEqual(expect.arrayContaining([bucket, 'realm-sdk']))
    // What the SDK put, read by the aws CLI.
    const sdkObject = join(root, 'sdk-object.bin')
    await aws.getObject('realm-sdk', 'run-1/results.bin', sdkObject)
    expect((await readFile(sdkObject)).length).toBe(300 * KiB)
    await aws.close()
  })

  it('after aruna login on node 1, a crate imported there is printed by aruna meta get on node 2, and a zip goes the other way', async () => {
    const n1 = need(node1, 'node 1')
    const n2 = need(node2, 'node 2')
    // A user's own login (the development login of node 1), not the operator credential.
    const env = { ARUNA_CREDENTIALS: join(root, 'user-credentials.json'), ARUNA_DATA_DIR: join(root, 'none') }
    const login = await cli(['login', '--url', n1.restUrl], { env })
    expect(login.code, describeRun(login)).toBe(0)

    const crate = join(
      here,
      '../../packages/metadata/test/fixtures/ro-crate/valid/minimal-isa-ro-crate/ro-crate-metadata.json',
    )
    const imported = await timed('meta import (node 1)', () =>
      cli(['meta', 'import', crate, '--group', 'default', '--url', n1.restUrl, '--json'], { env }),
    )
    expect(imported.code, describeRun(imported)).toBe(0)
    const id = (JSON.parse(imported.stdout) as { resourceId: string }).resourceId
    let got: CliRun | undefined
    const { ms } = await waitUntil(
      'node 2 prints the crate imported on node 1',
      async () => {
        got = await cli(['meta', 'get', id, '--url', n2.restUrl], { env })
        return got.code === 0 ? got : undefined
      },
      { timeoutMs: SETTLE_MS, describe: () => (got ? describeRun(got) : 'no run yet') },
    )
    timings['meta get on node 2 (poll)'] = ms
    const printed = JSON.parse(got?.stdout ?? '') as { '@graph': { '@id': string }[] }
    const original = JSON.parse(await readFile(crate, 'utf8')) as { '@graph': { '@id': string }[] }
    expect(printed['@graph'].map((e) => e['@id']).sort()).toEqual(
      original['@graph'].map((e) => e['@id']).sort(),
    )

    // A zip made on node 2 imports on node 2 and reads on node 1.
    const made = await cli(
      ['meta', 'create', 'Sea ice', '--group', 'default', '--url', n2.restUrl, '--json'],
      { env },
    )
    expect(made.code, describeRun(made)).toBe(0)
    const madeId = (JSON.parse(made.stdout) as { resourceId: string }).resourceId
    // A crate that imports again needs what RO-Crate asks of its root: a description and a license.
    for (const [property, value] of [
      ['description', 'Daily sea ice concentration'],
      ['license', '{"@id": "https://spdx.org/licenses/CC0-1.0"}'],
    ] as const) {
      const set = await cli(['meta', 'set', madeId, property, value, '--url', n2.restUrl], { env })
      expect(set.code, describeRun(set)).toBe(0)
    }
    const zip = join(root, 'sea-ice.zip')
    const exported = await cli(['meta', 'export', madeId, '--zip', '-o', zip, '--url', n2.restUrl], { env })
    expect(exported.code, describeRun(exported)).toBe(0)
    const again = await cli(
      ['meta', 'import', zip, '--group', 'default', '--id', 'sea-ice-copy', '--url', n2.restUrl],
      {
        env,
      },
    )
    expect(again.code, describeRun(again)).toBe(0)
    expect(again.stdout).toBe('imported sea-ice.zip as sea-ice-copy\n')
    let copy: CliRun | undefined
    await waitUntil(
      'node 1 prints the copy imported on node 2',
      async () => {
        copy = await cli(['meta', 'get', 'sea-ice-copy', '--url', n1.restUrl, '--json'], { env })
        return copy.code === 0 ? copy : undefined
      },
      { timeoutMs: SETTLE_MS, describe: () => (copy ? describeRun(copy) : 'no run yet') },
    )
    expect(JSON.parse(copy?.stdout ?? '{}')).toMatchObject({ resourceId: 'sea-ice-copy' })
  })

  it('refuses the same invite a second time, and the refused node keeps no realm', async () => {
    const line = need(invite, 'invite')
    const dataDir = join(root, 'refused-node')
    const run = await timed('join with the used invite (refused)', () =>
      cli(['join', line, '--data-dir', dataDir, '--port', '0', '--s3-port', '0', '--log-format', 'json'], {
        timeoutMs: 30_000,
      }),
    )
    expect(run.timedOut, describeRun(run)).toBe(false)
    expect(run.code, describeRun(run)).toBe(1)
    const lines = run.stderr.trim().split('\n')
    expect(
      lines.some((l) => /^aruna: .*already used/i.test(l)),
      describeRun(run),
    ).toBe(true)
    expect(run.stdout, 'no node was started').not.toContain('"rest"')
    expect(await exists(join(dataDir, 'realm.json')), 'realm.json in the refused node').toBe(false)
  })

  it("node remove takes node 2 out of node 1's list", async () => {
    const n1 = need(node1, 'node 1')
    const id = need(node2?.nodeId, 'node 2 id')
    const run = await timed('node remove', () => cli(['node', 'remove', id, '--data-dir', n1.dataDir]))
    expect(run.code, describeRun(run)).toBe(0)
    let last: Status | undefined
    const { ms } = await waitUntil(
      "node 2 gone from node 1's status --json",
      async () => {
        last = await status(n1)
        return last.nodes && !last.nodes.some((n) => n.id === id) ? last : undefined
      },
      { timeoutMs: SETTLE_MS, describe: () => `last: ${JSON.stringify(last, null, 2)}` },
    )
    timings['node 2 gone from node 1 (poll)'] = ms
    expect(last?.nodes?.map((n) => n.id)).toEqual([n1.nodeId])
  })
})
