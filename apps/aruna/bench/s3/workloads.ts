// Workloads in the manner of MinIO's warp: random data, one prefix per worker, keep-alive connections,
// bounded runs, each workload cut into slices that run on the servers in turn (so that they share the
// machine's other load alike). A server with several entry points (a realm's nodes) takes request i
// through entry i (PUT) or i + 1 (GET), so a GET enters at another node than its object's PUT did.
import { randomBytes } from 'node:crypto'
import { Agent } from 'node:http'
import { quantile } from '../../../../scripts/bench-timing.mjs'
import { presign, type Sample, send } from './client.ts'
import { type Server, serverCpuMs } from './processes.ts'

export const KiB = 1024
export const MiB = 1024 * KiB
/**
 * Operations of the unmeasured warm-up before a workload of up to 1 MiB objects, at most. Three fresh
 * nodes took 2000–4000 small PUTs to settle at their steady CPU per PUT (4.9 ms for the first 1000, 2.9
 * after 4000); one pass of the workload is what the bench can spend.
 */
const WARMUP_OPS = 1000

export interface Result {
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
  /** The server's processes' CPU time (user + system) per operation, from /proc (Linux). */
  serverCpuMsPerOp: number
  /** The other servers' CPU time while this one ran its slices, per operation of this one (background work). */
  othersCpuMsPerOp: number
}

/** What one server did in one slice of a workload (operations `from` to `to`). */
interface Slice {
  samples: Sample[]
  ms: number
  clientCpuMs: number
  serverCpuMs: number
  othersCpuMs: number
}

export interface Workload {
  readonly op: 'PUT' | 'GET'
  readonly size: number
  readonly concurrency: number
  readonly ops: number
  /** Put in front of every key, so that workloads of one size can keep their objects apart. */
  readonly keyPrefix?: string
}

export function workloadName(op: 'PUT' | 'GET', size: number, concurrency: number): string {
  return `${op} ${size >= MiB ? `${size / MiB} MiB` : `${size / KiB} KiB`} c=${concurrency}`
}

/** The key of a workload's operation i (a PUT's key is read back by the GET of the same shape). */
export function workloadKey(w: Workload, i: number): string {
  return `${w.keyPrefix ?? ''}w${i % w.concurrency}/${w.size}-${i}`
}

async function runSlice(
  server: Server,
  others: Server[],
  w: Workload,
  from: number,
  to: number,
  agent: Agent,
): Promise<Slice> {
  const { op, size, concurrency } = w
  const body = op === 'PUT' ? Array.from({ length: Math.min(to - from, 64) }, () => randomBytes(size)) : []
  const entryOf = (i: number) => (op === 'PUT' ? i : i + 1)
  const urls = Array.from({ length: to - from }, (_v, k) =>
    presign(server, op, workloadKey(w, from + k), entryOf(from + k)),
  )
  const samples: Sample[] = []
  let next = 0
  const cpu = process.cpuUsage()
  const serverCpu = await serverCpuMs(server)
  const othersCpu = await othersCpuMs(others)
  const start = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++
        if (i >= urls.length) return
        // Random data per object (a fresh 8 bytes in front, so nothing deduplicates).
        const payload =
          op === 'PUT'
            ? Buffer.concat([randomBytes(8), (body[i % body.length] as Buffer).subarray(8)])
            : undefined
        samples.push(await send(agent, op, urls[i] as string, payload))
      }
    }),
  )
  const ms = performance.now() - start
  const used = process.cpuUsage(cpu)
  const serverCpuUsed = (await serverCpuMs(server)) - serverCpu
  const othersCpuUsed = (await othersCpuMs(others)) - othersCpu
  return {
    samples,
    ms,
    clientCpuMs: (used.user + used.system) / 1000,
    serverCpuMs: serverCpuUsed,
    othersCpuMs: othersCpuUsed,
  }
}

async function othersCpuMs(others: Server[]): Promise<number> {
  const each = await Promise.all(others.map(serverCpuMs))
  return each.reduce((sum, ms) => sum + ms, 0)
}

/**
 * Runs one workload against every server, after a warm-up on each (objects up to 1 MiB: as many
 * operations again, at most `WARMUP_OPS`, not measured), interleaved: the operations are cut into `rounds` slices
 * and each round runs a slice on each server in turn (the order reversed every other round), so that
 * the servers share whatever else the machine is doing at the time and their ratios stay meaningful
 * on a busy machine.
 */
export async function run(targets: Server[], w: Workload, maxRounds: number): Promise<Result[]> {
  const { concurrency, ops } = w
  const rounds = Math.max(1, Math.min(maxRounds, Math.floor(ops / concurrency)))
  const slices = new Map<string, Slice[]>(targets.map((server) => [server.name, []]))
  // One pool of keep-alive connections per server for the whole workload, as warp keeps its
  // connections: the warm-up opens them, the measured slices reuse them. (A new pool per slice had every
  // slice open its connections again while the first ones were already busy: a Node server accepts one
  // connection per turn of its event loop, so the last of 20 waited 20–60 ms, and those first requests
  // made the p99.)
  const agents = new Map<string, Agent>(
    targets.map((server) => [
      server.name,
      new Agent({ keepAlive: true, maxSockets: concurrency * server.bases.length }),
    ]),
  )
  const agentOf = (server: Server) => agents.get(server.name) as Agent
  try {
    return await runRounds(targets, w, rounds, slices, agentOf)
  } finally {
    for (const agent of agents.values()) agent.destroy()
  }
}

async function runRounds(
  targets: Server[],
  w: Workload,
  rounds: number,
  slices: Map<string, Slice[]>,
  agentOf: (server: Server) => Agent,
): Promise<Result[]> {
  const { op, size, concurrency, ops } = w
  // Unmeasured warm-up on every server first, so that none is measured while its code paths are still
  // being compiled (a realm's nodes start fresh, the single node beside them has run every workload
  // before). PUTs write keys of their own; GETs read the workload's first keys.
  const warmup = size <= MiB ? Math.min(WARMUP_OPS, ops) : 0
  if (warmup > 0)
    for (const server of targets)
      await runSlice(
        server,
        [],
        op === 'PUT' ? { ...w, keyPrefix: `${w.keyPrefix ?? ''}warmup/` } : w,
        0,
        warmup,
        agentOf(server),
      )
  for (let round = 0; round < rounds; round++) {
    const from = Math.round((ops * round) / rounds)
    const to = Math.round((ops * (round + 1)) / rounds)
    for (const server of round % 2 === 0 ? targets : [...targets].reverse())
      slices.get(server.name)?.push(
        await runSlice(
          server,
          targets.filter((t) => t !== server),
          w,
          from,
          to,
          agentOf(server),
        ),
      )
  }
  return targets.map((server) => {
    const done = slices.get(server.name) ?? []
    const seconds = done.reduce((sum, slice) => sum + slice.ms, 0) / 1000
    const all = done.flatMap((slice) => slice.samples)
    const ms = all.map((s) => s.ms).sort((a, b) => a - b)
    const ttfb = all.map((s) => s.ttfbMs).sort((a, b) => a - b)
    return {
      server: server.name,
      workload: workloadName(op, size, concurrency),
      ops,
      seconds,
      objPerS: ops / seconds,
      mibPerS: (ops * size) / MiB / seconds,
      p50: quantile(ms, 0.5),
      p90: quantile(ms, 0.9),
      p99: quantile(ms, 0.99),
      ...(op === 'GET' ? { ttfbP50: quantile(ttfb, 0.5) } : {}),
      clientCpu: done.reduce((sum, slice) => sum + slice.clientCpuMs, 0) / (seconds * 1000),
      serverCpuMsPerOp: done.reduce((sum, slice) => sum + slice.serverCpuMs, 0) / ops,
      othersCpuMsPerOp: done.reduce((sum, slice) => sum + slice.othersCpuMs, 0) / ops,
    }
  })
}
