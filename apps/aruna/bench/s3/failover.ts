// Time from a node's crash to reads (and writes) served again: on a running realm, a GET loop through one
// surviving node and a PUT loop through another, then SIGKILL of a third node (a holder of every chunk at
// RF=3 on three nodes) while the loops go on. Reports per loop the longest stretch without a good answer
// after the kill and when the last failed or slow one ended.
import { randomBytes } from 'node:crypto'
import { Agent } from 'node:http'
import { quantile } from '../../../../scripts/bench-timing.mjs'
import { exchange, presign } from './client.ts'
import type { Realm } from './realm.ts'

/** An answer slower than this counts as a failed one. */
export const SLOW_MS = 500
/** A request is given up after this long (and counted failed). */
const TIMEOUT_MS = 5000
const BEFORE_KILL_MS = 2000
/** The loops run at least this long after the kill, and until this long has passed with only good answers. */
const MIN_AFTER_MS = 6000
const CALM_MS = 3000
const MAX_AFTER_MS = 30_000

interface Outcome {
  startMs: number
  endMs: number
  /** The HTTP status, 0 for no answer. */
  status: number
}

export interface LoopFigures {
  /** What the loop did and through which node. */
  readonly loop: string
  readonly before: { count: number; p50: number; p99: number }
  readonly after: { count: number; failed: number; slow: number }
  /** The longest time after the kill with no good answer (from the kill to the first, or between two). */
  readonly longestGapMs: number
  /** From the kill to the end of the last failed or slow request (0: none). */
  readonly recoveredMs: number
  /** Whether good answers came after the last failed or slow one before the loop ended. */
  readonly recovered: boolean
  /** An answer this slow or slower counted as a bad one. */
  readonly slowMs: number
}

export interface FailoverFigures {
  readonly victim: string
  readonly loops: LoopFigures[]
  readonly runMs: number
}

export async function measureFailover(realm: Realm, readKeys: readonly string[]): Promise<FailoverFigures> {
  const victim = realm.nodes[2]
  if (victim === undefined || readKeys.length === 0) throw new Error('failover needs 3 nodes and objects')
  const t0 = performance.now()
  let killAt = Number.POSITIVE_INFINITY
  /** Per loop, how long an answer may take before it counts as a bad one (set at the kill). */
  const slowMs = { get: SLOW_MS, put: SLOW_MS }
  let stopping = false
  const outcomes = { get: [] as Outcome[], put: [] as Outcome[] }
  const agent = new Agent({ keepAlive: true, maxSockets: 8 })
  /** Start times of the requests in flight, by request number. */
  const inFlight = new Map<number, number>()
  let n = 0
  const loop = async (kind: 'get' | 'put') => {
    while (!stopping) {
      const i = n++
      const url =
        kind === 'get'
          ? presign(realm, 'GET', readKeys[i % readKeys.length] as string, 0)
          : presign(realm, 'PUT', `failover/${i}`, 1)
      const startMs = performance.now() - t0
      inFlight.set(i, startMs)
      let status = 0
      try {
        status = (
          await exchange(
            agent,
            kind.toUpperCase(),
            url,
            kind === 'put' ? randomBytes(1024) : undefined,
            TIMEOUT_MS,
          )
        ).status
      } catch {
        status = 0
      }
      const endMs = performance.now() - t0
      inFlight.delete(i)
      outcomes[kind].push({ startMs, endMs, status })
    }
  }
  const loops = [loop('get'), loop('get'), loop('get'), loop('get'), loop('put'), loop('put')]
  const watch = (async () => {
    await new Promise((resolve) => setTimeout(resolve, BEFORE_KILL_MS))
    const exited = new Promise((resolve) => victim.process.once('exit', resolve))
    for (const kind of ['get', 'put'] as const) slowMs[kind] = slowAfter(outcomes[kind])
    killAt = performance.now() - t0
    victim.process.kill('SIGKILL')
    await exited
    // Bounded: the loops end once answers have been good for CALM_MS (and MIN_AFTER_MS passed), or at the cap.
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      const now = performance.now() - t0
      // A request in flight for longer than SLOW_MS is a bad answer already.
      const stuck = [...inFlight.values()].some(
        (startMs) => now - startMs >= Math.max(slowMs.get, slowMs.put),
      )
      const calm = (list: Outcome[], slow: number) => {
        const lastBad = Math.max(killAt, ...list.filter((o) => !good(o, slow)).map((o) => o.endMs))
        return now - lastBad >= CALM_MS && list.some((o) => good(o, slow) && o.endMs > lastBad)
      }
      const settled = !stuck && calm(outcomes.get, slowMs.get) && calm(outcomes.put, slowMs.put)
      if ((now - killAt >= MIN_AFTER_MS && settled) || now - killAt >= MAX_AFTER_MS) break
    }
    stopping = true
  })()
  await Promise.all([watch, ...loops])
  agent.destroy()
  return {
    victim: victim.name,
    runMs: performance.now() - t0,
    loops: [
      figures(`GET 1 KiB c=4 through ${realm.nodes[0]?.name}`, outcomes.get, killAt, slowMs.get),
      figures(`PUT 1 KiB c=2 through ${realm.nodes[1]?.name}`, outcomes.put, killAt, slowMs.put),
    ],
  }
}

const good = (o: Outcome, slowMs: number) => o.status === 200 && o.endMs - o.startMs < slowMs

/** A slow answer: SLOW_MS, or twice the loop's p99 before the kill when that is longer. */
function slowAfter(before: Outcome[]): number {
  const ms = before.map((o) => o.endMs - o.startMs).sort((a, b) => a - b)
  return Math.max(SLOW_MS, 2 * (quantile(ms, 0.99) ?? 0))
}

function figures(loop: string, outcomes: Outcome[], killAt: number, slowMs: number): LoopFigures {
  const before = outcomes.filter((o) => o.endMs < killAt)
  const after = outcomes.filter((o) => o.endMs >= killAt)
  const ms = before.map((o) => o.endMs - o.startMs).sort((a, b) => a - b)
  const goodEnds = after
    .filter((o) => good(o, slowMs))
    .map((o) => o.endMs)
    .sort((a, b) => a - b)
  let longestGapMs = 0
  let previous = killAt
  for (const end of goodEnds) {
    longestGapMs = Math.max(longestGapMs, end - previous)
    previous = end
  }
  const bad = after.filter((o) => !good(o, slowMs))
  const lastBad = Math.max(killAt, ...bad.map((o) => o.endMs))
  // Failures after the last good answer (none came back before the loop ended) are a gap too.
  longestGapMs = Math.max(longestGapMs, lastBad - previous)
  return {
    loop,
    before: {
      count: before.length,
      p50: quantile(ms, 0.5) ?? Number.NaN,
      p99: quantile(ms, 0.99) ?? Number.NaN,
    },
    after: {
      count: after.length,
      failed: bad.filter((o) => o.status !== 200).length,
      slow: bad.filter((o) => o.status === 200).length,
    },
    longestGapMs,
    recoveredMs: lastBad - killAt,
    recovered: goodEnds.some((end) => end > lastBad),
    slowMs,
  }
}
