/**
 * Gives memory back once a node has gone quiet.
 *
 * V8 has a memory reducer of its own: some seconds after a full collection it checks the allocation
 * rate and, when that is low, collects with "reduce memory" (shrinking the young generation and
 * compacting the old one). But it measures the rate only at collections, and an idle node makes none:
 * it keeps the rate of its start-up, judges "high allocation" on every later check and never reduces
 * (`--trace-memory-reducer` on a node idle since start: "high alloc" every 8 s for as long as it runs).
 * Such a node holds the young generation and the garbage of its start-up for good: 155-162 MiB RSS,
 * of which a reducing collection frees about 25 MiB. After load V8's reducer usually does act; the
 * collection after work here is the backstop for when it does not.
 *
 * So the node does it itself: every second it samples its event-loop utilisation and RSS, and once it
 * has been quiet for 5 s after work (or after its RSS grew), it runs V8's "last resort" collection
 * once. 5 s, not less: the next burst starts with a young generation that has to grow again, and in
 * the S3 bench (where a node idles 2-3 s while the baselines run) 2 s made some workloads slower.
 * That collection stops the event loop for some tens of milliseconds, so it runs only on a quiet
 * node, at most once per `minIntervalMs`, and not again until there was work since.
 *
 * The decision is a pure function of the samples (`IdleMemoryPolicy`); `startIdleMemoryReducer` is the
 * thin driver with the timer, the measurements and the collection.
 */
import { performance } from 'node:perf_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

export interface IdleMemorySettings {
  /** Event-loop utilisation (0-1) at or below which a second counts as quiet. */
  readonly quietUtilization: number
  /** Quiet seconds in a row before collecting. */
  readonly quietSamples: number
  /** RSS growth (bytes) since the last collection that counts as work even on a quiet loop. */
  readonly rssGrowthBytes: number
  /** Least time between two collections (ms). */
  readonly minIntervalMs: number
}

export const IDLE_MEMORY_DEFAULTS: IdleMemorySettings = Object.freeze({
  quietUtilization: 0.02,
  quietSamples: 5,
  rssGrowthBytes: 16 * 1024 * 1024,
  minIntervalMs: 10_000,
})

/** One sample: the loop's utilisation since the last sample, the RSS now, and the time. */
export interface IdleMemorySample {
  readonly utilization: number
  readonly rssBytes: number
  readonly nowMs: number
}

/**
 * When to collect. Work (a busy second, or RSS grown since the last collection) makes memory worth
 * reducing; a run of quiet seconds after it makes this the moment.
 */
export class IdleMemoryPolicy {
  readonly #settings: IdleMemorySettings
  #dirty: boolean
  #quiet = 0
  #lastCollectMs: number
  #rssAfterCollect: number

  /** `startedMs`/`rssBytes`: the start. A fresh process counts as having worked (its start-up). */
  constructor(startedMs: number, rssBytes: number, settings: IdleMemorySettings = IDLE_MEMORY_DEFAULTS) {
    this.#settings = settings
    this.#dirty = true
    this.#lastCollectMs = startedMs - settings.minIntervalMs
    this.#rssAfterCollect = rssBytes
  }

  /** Takes one sample; true when the caller should collect now. */
  sample(s: IdleMemorySample): boolean {
    const quiet = s.utilization <= this.#settings.quietUtilization
    if (!quiet) this.#dirty = true
    if (s.rssBytes >= this.#rssAfterCollect + this.#settings.rssGrowthBytes) this.#dirty = true
    this.#quiet = quiet ? this.#quiet + 1 : 0
    return (
      this.#dirty &&
      this.#quiet >= this.#settings.quietSamples &&
      s.nowMs - this.#lastCollectMs >= this.#settings.minIntervalMs
    )
  }

  /** The caller collected: the RSS after it is the new base. */
  collected(nowMs: number, rssBytes: number): void {
    this.#dirty = false
    this.#quiet = 0
    this.#lastCollectMs = nowMs
    this.#rssAfterCollect = rssBytes
  }
}

/** A reducing collection: V8's `gc({ flavor: 'last-resort' })`, which also shrinks the young generation. */
export type Collect = () => void

let collector: Collect | undefined | null = null

/**
 * V8's collection function without exposing `gc` to every module: the flag takes effect for contexts
 * created after it, so a fresh `vm` context gets the function and the node's own global does not. `undefined`
 * when this V8 does not allow it.
 */
export function reducingCollector(): Collect | undefined {
  if (collector !== null) return collector
  collector = undefined
  try {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as unknown
    if (typeof gc === 'function') {
      const fn = gc as (options: object) => unknown
      collector = () => void fn({ type: 'major', execution: 'sync', flavor: 'last-resort' })
    }
  } catch {
    collector = undefined
  }
  return collector
}

export interface IdleMemoryReducer {
  /** Collections run so far. */
  readonly collections: number
  /** Collects now, whatever the samples say (end of start-up). */
  collectNow(): void
  stop(): void
}

export interface IdleMemoryOptions {
  readonly settings?: IdleMemorySettings
  readonly sampleMs?: number
  /** Replaces V8's collection (tests). */
  readonly collect?: Collect
  /** Told each collection: the RSS before and after, and how long it took. */
  readonly onCollected?: (info: { rssBefore: number; rssAfter: number; ms: number }) => void
}

/** Samples the process every `sampleMs` (default 1 s, the timer does not hold the process open). */
export function startIdleMemoryReducer(options: IdleMemoryOptions = {}): IdleMemoryReducer {
  const collect = options.collect ?? reducingCollector()
  const policy = new IdleMemoryPolicy(performance.now(), process.memoryUsage.rss(), options.settings)
  let collections = 0
  let last = performance.eventLoopUtilization()
  const run = () => {
    if (collect === undefined) return
    const rssBefore = process.memoryUsage.rss()
    const t0 = performance.now()
    try {
      collect()
    } catch {
      // Giving memory back is an optimisation: it must never take the node down.
      return
    }
    const ms = performance.now() - t0
    const rssAfter = process.memoryUsage.rss()
    collections++
    policy.collected(performance.now(), rssAfter)
    // The collection itself kept the loop busy: it must not count as the next second's work.
    last = performance.eventLoopUtilization()
    options.onCollected?.({ rssBefore, rssAfter, ms })
  }
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization()
    const { utilization } = performance.eventLoopUtilization(now, last)
    last = now
    if (policy.sample({ utilization, rssBytes: process.memoryUsage.rss(), nowMs: performance.now() })) run()
  }, options.sampleMs ?? 1000)
  timer.unref()
  return {
    get collections() {
      return collections
    },
    collectNow: run,
    stop: () => clearInterval(timer),
  }
}
