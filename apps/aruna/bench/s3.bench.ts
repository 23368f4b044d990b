// The S3 API as users see it, against baselines in the same run (issue 18, item 1). Three servers, each in
// its own process: an Aruna node (`aruna start`, built dist), the ceiling (a bare Node HTTP server that
// streams each PUT to a fsynced file and each GET back: bench/s3/ceiling-server.mjs), and s3rver (the
// most used Node S3 server). Workloads in the manner of MinIO's warp: random data, one prefix per
// worker, keep-alive connections, bounded runs. The client is light (node:http over presigned URLs,
// signed before the clock starts), and its CPU share is reported so it can be seen not to be the
// bottleneck. Writes BENCHMARKS.md and bench-s3.json at the repository root, and prints the report.
//
// BENCH_S3_SCALE (default 1) multiplies the operation counts.
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { quantile } from '../../../scripts/bench-timing.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const ROOT = join(here, '../../..')
const SCALE = Number(process.env.BENCH_S3_SCALE ?? 1)
const KiB = 1024
const MiB = 1024 * KiB

interface Server {
  readonly name: string
  readonly base: string
  readonly bucket: string
  readonly credentials?: { accessKeyId: string; secretAccessKey: string }
  readonly process: ChildProcess
  readonly startMs: number
}

/** Starts a child process and waits (bounded) for `ready` to find what it needs in its output lines. */
async function launch<T>(
  name: string,
  args: string[],
  ready: (line: string, state: Partial<T>) => boolean,
  timeoutMs = 60_000,
): Promise<{ child: ChildProcess; state: Partial<T>; ms: number }> {
  const started = performance.now()
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const state: Partial<T> = {}
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${name} did not start in time:\n${output.slice(-2000)}`))
    }, timeoutMs)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      for (const line of chunk.toString().split('\n'))
        if (line.trim() !== '' && ready(line, state)) {
          clearTimeout(timer)
          resolve({ child, state, ms: performance.now() - started })
        }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited (${code}):\n${output.slice(-2000)}`))
    })
  })
}

function json(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>
  } catch {
    return undefined
  }
}

const work = await mkdtemp(join(tmpdir(), 'aruna-bench-s3-'))

async function startAruna(): Promise<Server> {
  const { child, state, ms } = await launch<{ s3: string; key: string; secret: string }>(
    'aruna',
    [
      join(here, '../bin/aruna.js'),
      'start',
      '--data-dir',
      join(work, 'aruna'),
      '--port',
      '0',
      '--s3-port',
      '0',
      '--log-format',
      'json',
      '--log-level',
      'info',
    ],
    (line, s) => {
      const entry = json(line)
      if (typeof entry?.accessKeyId === 'string') {
        s.key = entry.accessKeyId
        s.secret = String(entry.secretAccessKey)
      }
      if (typeof entry?.s3 === 'string') s.s3 = entry.s3
      return s.key !== undefined && s.s3 !== undefined
    },
  )
  return {
    name: 'aruna',
    base: state.s3 as string,
    bucket: 'bench',
    credentials: { accessKeyId: state.key as string, secretAccessKey: state.secret as string },
    process: child,
    startMs: ms,
  }
}

async function startPlain(name: string, script: string, bucket: string, credentials?: Server['credentials']) {
  const { child, state, ms } = await launch<{ port: number }>(
    name,
    [join(here, 's3', script), join(work, name)],
    (line, s) => {
      const port = json(line)?.port
      if (typeof port === 'number') s.port = port
      return s.port !== undefined
    },
  )
  return {
    name,
    base: `http://127.0.0.1:${state.port}`,
    bucket,
    ...(credentials === undefined ? {} : { credentials }),
    process: child,
    startMs: ms,
  } satisfies Server
}

// ---------------------------------------------------------------------------------------------------------
// Presigned URLs (SigV4 query auth, UNSIGNED-PAYLOAD), made before the clock starts.

const encode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
const signingKeys = new Map<string, Buffer>()

function presign(server: Server, method: string, key: string): string {
  const url = new URL(
    key === '' ? `${server.base}/${server.bucket}` : `${server.base}/${server.bucket}/${key}`,
  )
  const credentials = server.credentials
  if (credentials === undefined) return url.toString()
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const date = amzDate.slice(0, 8)
  const scope = `${date}/us-east-1/s3/aws4_request`
  const params: [string, string][] = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', '3600'],
    ['X-Amz-SignedHeaders', 'host'],
  ]
  const query = params
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .sort()
    .join('&')
  const path = url.pathname
    .split('/')
    .map((segment) => encode(decodeURIComponent(segment)))
    .join('/')
  const canonical = [method, path, query, `host:${url.host}\n`, 'host', 'UNSIGNED-PAYLOAD'].join('\n')
  const toSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n')
  let signing = signingKeys.get(`${credentials.secretAccessKey}/${date}`)
  if (signing === undefined) {
    const kDate = createHmac('sha256', `AWS4${credentials.secretAccessKey}`).update(date).digest()
    const kRegion = createHmac('sha256', kDate).update('us-east-1').digest()
    const kService = createHmac('sha256', kRegion).update('s3').digest()
    signing = createHmac('sha256', kService).update('aws4_request').digest()
    signingKeys.set(`${credentials.secretAccessKey}/${date}`, signing)
  }
  const signature = createHmac('sha256', signing).update(toSign).digest('hex')
  return `${url.origin}${path}?${query}&X-Amz-Signature=${signature}`
}

// ---------------------------------------------------------------------------------------------------------
// The client

interface Sample {
  ms: number
  ttfbMs: number
}

function send(agent: Agent, method: string, url: string, body?: Buffer): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const req = request(
      url,
      { method, agent, headers: body === undefined ? {} : { 'content-length': body.length } },
      (res) => {
        const ttfb = performance.now() - start
        res.on('data', () => {})
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300)
            reject(new Error(`${method} ${url.split('?')[0]}: ${res.statusCode}`))
          else resolve({ ms: performance.now() - start, ttfbMs: ttfb })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

interface Result {
  server: string
  workload: string
  ops: number
  seconds: number
  objPerS: number
  mibPerS: number
  p50: number
  p90: number
  p99: number
  ttfbP50?: number
  clientCpu: number
}

async function run(
  server: Server,
  op: 'PUT' | 'GET',
  size: number,
  concurrency: number,
  ops: number,
): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const body = op === 'PUT' ? Array.from({ length: Math.min(ops, 64) }, () => randomBytes(size)) : []
  const key = (i: number) => `w${i % concurrency}/${size}-${i}`
  const urls = Array.from({ length: ops }, (_v, i) => presign(server, op, key(i)))
  const samples: Sample[] = []
  let next = 0
  const cpu = process.cpuUsage()
  const start = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++
        if (i >= ops) return
        // Random data per object (a fresh 8 bytes in front, so nothing deduplicates).
        const payload =
          op === 'PUT'
            ? Buffer.concat([randomBytes(8), (body[i % body.length] as Buffer).subarray(8)])
            : undefined
        samples.push(await send(agent, op, urls[i] as string, payload))
      }
    }),
  )
  const seconds = (performance.now() - start) / 1000
  const used = process.cpuUsage(cpu)
  agent.destroy()
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b)
  const ttfb = samples.map((s) => s.ttfbMs).sort((a, b) => a - b)
  return {
    server: server.name,
    workload: `${op} ${size >= MiB ? `${size / MiB} MiB` : `${size / KiB} KiB`} c=${concurrency}`,
    ops,
    seconds,
    objPerS: ops / seconds,
    mibPerS: (ops * size) / MiB / seconds,
    p50: quantile(ms, 0.5),
    p90: quantile(ms, 0.9),
    p99: quantile(ms, 0.99),
    ...(op === 'GET' ? { ttfbP50: quantile(ttfb, 0.5) } : {}),
    clientCpu: (used.user + used.system) / 1000 / (seconds * 1000),
  }
}

function rssMiB(pid: number | undefined): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8')
    .then((text) => Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? 0) / 1024)
    .catch(() => 0)
}

// ---------------------------------------------------------------------------------------------------------

const servers: Server[] = []
try {
  servers.push(await startAruna())
  servers.push(await startPlain('ceiling', 'ceiling-server.mjs', 'bench'))
  servers.push(
    await startPlain('s3rver', 's3rver-server.mjs', 'bench', {
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    }),
  )
  const aruna = servers[0] as Server
  const idleRss = await rssMiB(aruna.process.pid)
  // Aruna's bucket (the development user's default group); s3rver made its own, the ceiling needs none.
  await send(new Agent(), 'PUT', presign(aruna, 'PUT', ''))

  const plan: ['PUT' | 'GET', number, number, number][] = []
  for (const concurrency of [1, 8, 20]) {
    plan.push(['PUT', KiB, concurrency, Math.round((concurrency === 1 ? 200 : 1000) * SCALE)])
    plan.push(['GET', KiB, concurrency, Math.round((concurrency === 1 ? 200 : 1000) * SCALE)])
  }
  plan.push(['PUT', 64 * KiB, 8, Math.round(400 * SCALE)], ['GET', 64 * KiB, 8, Math.round(400 * SCALE)])
  plan.push(['PUT', MiB, 8, Math.round(100 * SCALE)], ['GET', MiB, 8, Math.round(100 * SCALE)])
  plan.push(['PUT', 10 * MiB, 8, Math.round(24 * SCALE)], ['GET', 10 * MiB, 8, Math.round(24 * SCALE)])
  plan.push(
    ['PUT', 64 * MiB, 1, Math.max(2, Math.round(3 * SCALE))],
    ['GET', 64 * MiB, 1, Math.max(2, Math.round(3 * SCALE))],
  )

  const results: Result[] = []
  for (const [op, size, concurrency, ops] of plan) {
    for (const server of servers) {
      console.error(`[s3 bench] ${server.name}: ${op} ${size} B × ${ops} at ${concurrency}`)
      results.push(await run(server, op, size, concurrency, ops))
    }
  }
  const endRss = await rssMiB(aruna.process.pid)

  const by = (server: string, workload: string) =>
    results.find((r) => r.server === server && r.workload === workload)
  const workloads = [...new Set(results.map((r) => r.workload))]
  const fmt = (n: number | undefined, digits = 1) => (n === undefined ? '—' : n.toFixed(digits))
  const rows = workloads.map((workload) => {
    const a = by('aruna', workload) as Result
    const c = by('ceiling', workload) as Result
    const s = by('s3rver', workload) as Result
    return `| ${workload} | ${fmt(a.objPerS, 0)} | ${fmt(a.mibPerS)} | ${fmt(a.p50)} / ${fmt(a.p90)} / ${fmt(a.p99)} | ${fmt(a.ttfbP50)} | ${fmt(c.objPerS, 0)} | ${fmt(s.objPerS, 0)} | ${fmt(a.objPerS / c.objPerS, 2)} | ${fmt(a.objPerS / s.objPerS, 2)} | ${fmt(Math.max(a.clientCpu, c.clientCpu, s.clientCpu) * 100, 0)}% |`
  })
  const report = `## The S3 API against a ceiling and s3rver (single node, 2-core machine)

Each server in its own process on loopback; the client (node:http, keep-alive, presigned URLs signed
before the clock starts) runs the same bounded workloads against each in turn: random data, one prefix
per worker. The ceiling is a bare Node HTTP server that streams each PUT to a file, fdatasyncs and
renames it, and streams GETs back (what any durable Node server must at least do); s3rver ${'3.7.1'}
writes files without fsync. Ratios are ops/s of Aruna over the baseline in the same run.

| workload | Aruna obj/s | Aruna MiB/s | Aruna p50 / p90 / p99 ms | GET TTFB p50 ms | ceiling obj/s | s3rver obj/s | × ceiling | × s3rver | client CPU (max) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

| node | value |
| --- | ---: |
| Aruna start (process spawn to S3 ready, new realm) | ${fmt(aruna.startMs / 1000, 2)} s |
| Aruna RSS idle / after the workloads | ${fmt(idleRss, 0)} / ${fmt(endRss, 0)} MiB |

Not measured yet (issue 18): three nodes with RF=3 (data replication is not in the node yet), the 64 MiB
object as a multipart upload, ListObjectsV2 at 10 k vs 1 M keys, time from a node kill to reads served
again, GC throughput.`
  console.log(report)
  await writeFile(
    join(ROOT, 'BENCHMARKS.md'),
    `# Benchmarks: the S3 API\n\nNode ${process.version}, ${new Date().toISOString()}\n\n${report}\n`,
  )
  await writeFile(
    join(ROOT, 'bench-s3.json'),
    `${JSON.stringify({ node: process.version, at: new Date().toISOString(), idleRss, endRss, startMs: aruna.startMs, results }, null, 2)}\n`,
  )
} finally {
  for (const server of servers) server.process.kill('SIGTERM')
  await new Promise((resolve) => setTimeout(resolve, 500))
  for (const server of servers) server.process.kill('SIGKILL')
  await rm(work, { recursive: true, force: true })
}
process.exit(0)
