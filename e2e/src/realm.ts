/**
 * A realm of real `aruna` processes for the journey and chaos scenarios: node 1 `aruna start` (a new
 * realm, development login on), every other node `aruna join <invite>` with an invite from node 1's
 * `aruna invite`; each node reads a configuration file of its own (data settings such as a short grace
 * period). Also: `/health` of a node, the chunk files on a node's disk, CIDs of small objects, and a
 * recorder that keeps logs on a failure and writes the scenario's counts to the report.
 */
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chunksOnDisk as storedChunks } from '@aruna/data'
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3'
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
} from './cluster.js'
import { recordScenarios, type ScenarioReport } from './report.js'
import { sdkClient } from './s3-clients/aws-sdk.js'

const here = dirname(fileURLToPath(import.meta.url))
export const RESULTS_DIR = join(here, '../test-results')

/** `/health` as the node answers it (the `data` object once data runs). */
export interface Health {
  status: string
  nodeId: string
  realmId: string
  peers: number
  data?: {
    replicationFactor: number
    nodesLive: number
    nodesDown: number
    chunks: number
    underReplicated: number
    corruptFound: number
    corruptRepaired: number
    lastSweepAt?: string
    lastScrubAt?: string
  }
}

export async function health(node: NodeProcess, timeoutMs = 3000): Promise<Health> {
  const res = await fetch(`${node.restUrl}/health`, { signal: AbortSignal.timeout(timeoutMs) })
  if (res.status !== 200) throw new Error(`${node.name} /health answered ${res.status}`)
  return (await res.json()) as Health
}

export interface RealmOptions {
  /** Prefix of node names and temp folders. */
  readonly name: string
  readonly nodes: number
  /** Configuration file contents for every node (node 1 also gets `dev.login: true`). */
  readonly config?: Record<string, unknown>
  /** Extra environment of every node process. */
  readonly env?: NodeJS.ProcessEnv
  /** Where processes go, for the recorder's logs. */
  readonly recorder?: ScenarioRecorder
  /** How long all nodes may take to see each other live. */
  readonly settleMs?: number
}

export interface Realm {
  readonly root: string
  /** The current process of node i (replaced by restart). */
  readonly nodes: NodeProcess[]
  /** The development user's S3 key (node 1's start line): the realm's administrator. */
  readonly admin: S3Credentials
  /** Starts node i again on its data directory (after a kill or stop) and returns the new process. */
  restart(i: number): Promise<NodeProcess>
  /** Waits until each of `which` (default every node) reports `count` live data nodes and as many peers. */
  waitLive(count: number, which?: readonly number[], timeoutMs?: number): Promise<number>
  stop(options?: { keepDataDirs?: boolean }): Promise<void>
}

export async function startRealm(options: RealmOptions): Promise<Realm> {
  const root = await mkdtemp(join(tmpdir(), `aruna-e2e-${options.name}-`))
  const configs: string[] = []
  const dataDirs: string[] = []
  for (let i = 0; i < options.nodes; i++) {
    const file = join(root, `node-${i + 1}.json`)
    const config = { ...(options.config ?? {}), ...(i === 0 ? { dev: { login: true } } : {}) }
    await writeFile(file, `${JSON.stringify(config, null, 2)}\n`)
    configs.push(file)
    dataDirs.push(join(root, `node-${i + 1}`))
  }
  const env = options.env ?? {}
  const nodes: NodeProcess[] = []
  const track = (node: NodeProcess) => {
    options.recorder?.processes.push(node)
    return node
  }
  const first = track(
    await startNode({
      name: `${options.name}-1`,
      dataDir: dataDirs[0],
      args: ['--config', configs[0] as string],
      env,
    }),
  )
  nodes.push(first)
  const admin = first.credentials
  if (admin === undefined) throw new Error('node 1 printed no development login')
  for (let i = 1; i < options.nodes; i++) {
    const run = await runCli(['invite', '--data-dir', first.dataDir, '--json'])
    options.recorder?.transcript.push(run)
    if (run.code !== 0) throw new Error(describeRun(run))
    const { invite } = JSON.parse(run.stdout) as { invite: string }
    nodes.push(
      track(
        await joinNode({
          invite,
          name: `${options.name}-${i + 1}`,
          dataDir: dataDirs[i],
          args: ['--config', configs[i] as string],
          env,
        }),
      ),
    )
  }

  const waitLive = async (
    count: number,
    which?: readonly number[],
    timeoutMs = options.settleMs ?? 30_000,
  ) => {
    const indexes = which ?? nodes.map((_, i) => i)
    let last: Record<string, unknown> = {}
    const { ms } = await waitUntil(
      `nodes ${indexes.map((i) => i + 1).join(', ')} see ${count} live data nodes`,
      async () => {
        const all = await Promise.all(indexes.map((i) => health(nodes[i] as NodeProcess)))
        last = Object.fromEntries(all.map((h, k) => [`node ${(indexes[k] as number) + 1}`, h]))
        return all.every((h) => h.data?.nodesLive === count && h.peers === count - 1) ? true : undefined
      },
      { timeoutMs, intervalMs: 200, describe: () => JSON.stringify(last) },
    )
    return ms
  }
  await waitLive(options.nodes)

  return {
    root,
    nodes,
    admin,
    waitLive,
    async restart(i) {
      const node = track(
        await startNode({
          name: `${options.name}-${i + 1}`,
          dataDir: dataDirs[i],
          args: ['--config', configs[i] as string],
          env,
          devLogin: i === 0,
        }),
      )
      nodes[i] = node
      return node
    },
    async stop(stopOptions = {}) {
      for (const node of [...nodes].reverse()) await node.stop(10_000, { keepDataDir: true })
      if (!stopOptions.keepDataDirs) await rm(root, { recursive: true, force: true })
    },
  }
}

// ---------------------------------------------------------------------------------------------------
// Chunks on disk

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

/** The CIDv1 (raw, sha2-256, base32) of bytes: the id of an object's only chunk when it is under 4 MiB. */
/**
 * The administrator's AWS SDK client for every node of `realm` (in node order), once `bucket` is made
 * through the first and every node serves it (the key and the bucket reach each node by replication).
 */
export async function bucketOnEveryNode(realm: Realm, bucket: string, region: string): Promise<S3Client[]> {
  const s3 = realm.nodes.map((n) =>
    sdkClient({ s3Url: n.s3Url, credentials: realm.admin, region }, 'WHEN_REQUIRED'),
  )
  await (s3[0] as S3Client).send(new CreateBucketCommand({ Bucket: bucket }))
  await waitUntil(
    'the bucket and the key on every node',
    async () => {
      for (const c of s3) await c.send(new HeadBucketCommand({ Bucket: bucket }))
      return true
    },
    { timeoutMs: 30_000 },
  )
  return s3
}

export function rawCid(bytes: Uint8Array): string {
  const digest = createHash('sha256').update(bytes).digest()
  const cid = Buffer.concat([Buffer.from([0x01, 0x55, 0x12, 0x20]), digest])
  let out = 'b'
  let buffer = 0
  let bits = 0
  for (const byte of cid) {
    buffer = (buffer << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31]
  return out
}

/** Where a node keeps a chunk larger than `data.smallChunkBytes`: `{dataDir}/chunks/chunks/<cid.slice(-3,-1)>/<cid>`. */
export function chunkPath(dataDir: string, cid: string): string {
  return join(dataDir, 'chunks', 'chunks', cid.slice(-3, -1), cid)
}

/** Every chunk on a node's disk (small chunks in its index's environment, and chunk files) with its size. */
export async function chunksOnDisk(dataDir: string): Promise<Map<string, number>> {
  return storedChunks(join(dataDir, 'chunks'), { index: join(dataDir, 'index') })
}

// ---------------------------------------------------------------------------------------------------
// Recording

/** One scenario's figures while it runs. */
export interface ScenarioFigures {
  readonly counts: Record<string, number>
  readonly timings: Record<string, number>
  readonly notes: string[]
  /** Runs `fn` and records its time under `step`. */
  timed<T>(step: string, fn: () => Promise<T>): Promise<T>
}

/**
 * Keeps every process and CLI run of a scenario file; `run(name, fn)` records one scenario's figures
 * (also when it fails), `finish()` stops what is left, keeps the logs under `test-results/<file>/` when
 * anything failed, and merges the figures into the report.
 */
export class ScenarioRecorder {
  readonly processes: NodeProcess[] = []
  readonly transcript: CliRun[] = []
  readonly #reports: Record<string, ScenarioReport> = {}
  #failed = false

  constructor(readonly file: string) {}

  get resultsDir(): string {
    return join(RESULTS_DIR, this.file)
  }

  async cli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
    const run = await runCli(args, options)
    this.transcript.push(run)
    return run
  }

  async run(name: string, fn: (figures: ScenarioFigures) => Promise<void>): Promise<void> {
    const startedAt = new Date().toISOString()
    const t0 = Date.now()
    const figures: ScenarioFigures = {
      counts: {},
      timings: {},
      notes: [],
      async timed(step, f) {
        const s0 = Date.now()
        try {
          return await f()
        } finally {
          figures.timings[step] = Date.now() - s0
        }
      },
    }
    const record = (failure?: unknown) => {
      this.#reports[name] = {
        outcome: failure === undefined ? 'passed' : 'failed',
        ...(failure === undefined
          ? {}
          : { failure: failure instanceof Error ? failure.message : String(failure) }),
        startedAt,
        durationMs: Date.now() - t0,
        counts: figures.counts,
        timings: figures.timings,
        notes: figures.notes,
      }
    }
    try {
      await fn(figures)
      record()
    } catch (err) {
      this.#failed = true
      record(err)
      throw err
    } finally {
      console.log(
        `${name}: ${JSON.stringify({ counts: figures.counts, timings: figures.timings, notes: figures.notes }, null, 2)}`,
      )
    }
  }

  get failed(): boolean {
    return this.#failed
  }

  /** Marks the file failed (for failures outside `run`). */
  fail(): void {
    this.#failed = true
  }

  async finish(): Promise<void> {
    const stops = this.processes.map((p) => p.stop(10_000, { keepDataDir: true }).catch(() => undefined))
    await Promise.all(stops)
    if (this.#failed) {
      await rm(this.resultsDir, { recursive: true, force: true })
      await mkdir(this.resultsDir, { recursive: true })
      let n = 0
      for (const p of this.processes) {
        const file = join(this.resultsDir, `${String(++n).padStart(2, '0')}-${p.name}.log`)
        await writeFile(file, `data directory: ${p.dataDir}\n${p.output()}`)
      }
      await writeFile(
        join(this.resultsDir, 'cli.log'),
        this.transcript.map((run) => `${describeRun(run)}\n`).join('\n'),
      )
      console.error(`${this.file}: failed; node logs and CLI runs in ${this.resultsDir}`)
    } else await rm(this.resultsDir, { recursive: true, force: true }) // an earlier failure's logs
    await recordScenarios(this.file, this.#reports)
  }
}
