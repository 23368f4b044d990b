/**
 * The upkeep that keeps every chunk on its holders: a repair sweep and a scrub, both per node, over
 * the chunks this node stores.
 *
 * - **Repair sweep** (every `repairIntervalMs`, and soon after a node joins, leaves or goes down past
 *   the grace period): for each local chunk, asks its holders (rendezvous over the live nodes) which
 *   have it. A holder that lacks it gets a copy from the best-ranked node that has one, so only one node
 *   sends it. A node that holds a chunk it should no longer hold (placement moved) drops its copy, but
 *   only once every holder has confirmed having theirs. The sweep is the repair queue: a copy that failed
 *   during a write is found here, whatever happened in between.
 * - **Scrub** (every `scrubIntervalMs`, throttled to `scrubBytesPerSecond`): reads every local chunk
 *   and checks its hash. A corrupt copy is taken out of service by the store; when this node is one of
 *   the chunk's holders it fetches a good copy from another node.
 */
import { isDataError } from '@aruna/data'
import type { Logger } from '../logger.js'
import type { RealmBlobStore } from './realm-blob-store.js'
import type { RealmNodes } from './realm-nodes.js'

/** Chunks asked about per question to a node. */
const BATCH = 256
/** A long sweep or scrub logs its progress at most this often. */
const PROGRESS_MS = 5000

/** Keeps a stream of work under `bytesPerSecond`: `take(n)` waits until `n` more bytes are due. */
export class Throttle {
  readonly #bytesPerSecond: number
  #started = Date.now()
  #bytes = 0

  constructor(bytesPerSecond: number) {
    this.#bytesPerSecond = bytesPerSecond
  }

  /** Starts counting afresh (a new run). */
  reset(): void {
    this.#started = Date.now()
    this.#bytes = 0
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    this.#bytes += bytes
    const due = (this.#bytes / this.#bytesPerSecond) * 1000 - (Date.now() - this.#started)
    if (due <= 5 || signal?.aborted === true) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, due)
      signal?.addEventListener('abort', () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
}
/** Wait after a membership change before sweeping, so a burst of changes makes one sweep. */
const SETTLE_MS = 500

export interface DataUpkeepInit {
  readonly store: RealmBlobStore
  readonly nodes: RealmNodes
  readonly logger: Logger
  /** Milliseconds between repair sweeps. */
  readonly repairIntervalMs: number
  /** Milliseconds between scrubs; 0: no scheduled scrub. */
  readonly scrubIntervalMs: number
  /** The most a scrub reads per second. */
  readonly scrubBytesPerSecond: number
  /** The most the repair sweep sends per second (copies to holders). */
  readonly repairBytesPerSecond: number
}

/** What the upkeep found and did (metrics, `aruna status`, REST). */
export interface DataHealth {
  /** Chunks stored on this node at the last sweep. */
  chunks: number
  /** Of those, chunks whose holders had not all confirmed a copy at the last sweep. */
  underReplicated: number
  /** Copies sent to holders by sweeps, and local copies dropped after placement moved, since start. */
  copiesMade: number
  copiesDropped: number
  /** Corrupt local copies found (by scrub or reads) and replaced with good ones, since start. */
  corruptFound: number
  corruptRepaired: number
  sweeps: number
  scrubs: number
  lastSweepAt?: string
  lastScrubAt?: string
}

export class DataUpkeep {
  readonly #init: DataUpkeepInit
  readonly health: DataHealth = {
    chunks: 0,
    underReplicated: 0,
    copiesMade: 0,
    copiesDropped: 0,
    corruptFound: 0,
    corruptRepaired: 0,
    sweeps: 0,
    scrubs: 0,
  }
  readonly #stopping = new AbortController()
  readonly #timers: Array<ReturnType<typeof setTimeout>> = []
  #sweep: Promise<void> | undefined
  #sweepAgain = false
  #scrub: Promise<void> | undefined
  #settle: ReturnType<typeof setTimeout> | undefined
  #unsubscribe: (() => void) | undefined
  readonly #copyThrottle: Throttle
  readonly #scrubThrottle: Throttle

  constructor(init: DataUpkeepInit) {
    this.#init = init
    this.#copyThrottle = new Throttle(init.repairBytesPerSecond)
    this.#scrubThrottle = new Throttle(init.scrubBytesPerSecond)
  }

  start(): void {
    const sweepTimer = setInterval(() => void this.sweep(), this.#init.repairIntervalMs)
    sweepTimer.unref()
    this.#timers.push(sweepTimer)
    if (this.#init.scrubIntervalMs > 0) {
      const scrubTimer = setInterval(() => void this.scrub(), this.#init.scrubIntervalMs)
      scrubTimer.unref()
      this.#timers.push(scrubTimer)
    }
    this.#unsubscribe = this.#init.nodes.onChange(() => {
      clearTimeout(this.#settle)
      this.#settle = setTimeout(() => void this.sweep(), SETTLE_MS)
      this.#settle.unref()
    })
  }

  async stop(): Promise<void> {
    this.#stopping.abort()
    for (const timer of this.#timers.splice(0)) clearInterval(timer)
    clearTimeout(this.#settle)
    this.#unsubscribe?.()
    await Promise.allSettled([this.#sweep, this.#scrub])
  }

  /** One repair sweep; a call during a sweep runs another one after it. Never rejects. */
  sweep(): Promise<void> {
    if (this.#sweep !== undefined) {
      this.#sweepAgain = true
      return this.#sweep
    }
    const run = async (): Promise<void> => {
      do {
        this.#sweepAgain = false
        try {
          await this.#sweepOnce()
        } catch (err) {
          if (!this.#stopping.signal.aborted) this.#init.logger.warn({ err }, 'a repair sweep failed')
        }
      } while (this.#sweepAgain && !this.#stopping.signal.aborted)
    }
    this.#sweep = run().finally(() => {
      this.#sweep = undefined
    })
    return this.#sweep
  }

  async #sweepOnce(): Promise<void> {
    const { store } = this.#init
    const signal = this.#stopping.signal
    let chunks = 0
    let under = 0
    let batch: string[] = []
    const started = Date.now()
    const copiesBefore = this.health.copiesMade
    const dropsBefore = this.health.copiesDropped
    this.#copyThrottle.reset()
    let logged = started
    const flush = async (): Promise<void> => {
      const result = await this.#repairBatch(batch)
      under += result.under
      batch = []
      if (Date.now() - logged >= PROGRESS_MS) {
        logged = Date.now()
        this.#init.logger.info(
          { chunks, underReplicated: under, copies: this.health.copiesMade - copiesBefore },
          `repair sweep: ${chunks} chunks looked at so far`,
        )
      }
      // Leave room for requests between batches.
      await new Promise((resolve) => setImmediate(resolve))
    }
    for await (const cid of store.local.list({ signal })) {
      chunks++
      batch.push(cid)
      if (batch.length >= BATCH) await flush()
    }
    if (batch.length > 0) await flush()
    this.health.chunks = chunks
    this.health.underReplicated = under
    this.health.sweeps++
    this.health.lastSweepAt = new Date().toISOString()
    const copies = this.health.copiesMade - copiesBefore
    const drops = this.health.copiesDropped - dropsBefore
    if (copies > 0 || drops > 0 || under > 0)
      this.#init.logger.info(
        { chunks, underReplicated: under, copies, drops, durationMs: Date.now() - started },
        `repair sweep: ${copies} copies made, ${drops} dropped, ${under} of ${chunks} chunks below their holders`,
      )
  }

  async #repairBatch(cids: readonly string[]): Promise<{ under: number }> {
    const { store, nodes } = this.#init
    const self = nodes.self
    const holdersOf = new Map(cids.map((cid) => [cid, store.holders(cid)]))
    // Ask each node only about the chunks it should hold.
    const questions = new Map<string, string[]>()
    for (const [cid, holders] of holdersOf)
      for (const holder of holders) {
        if (holder === self) continue
        const list = questions.get(holder) ?? []
        list.push(cid)
        questions.set(holder, list)
      }
    const held = new Map<string, Map<string, boolean>>()
    await Promise.all(
      [...questions].map(async ([peer, asked]) => {
        const answers = (await store.askHave([peer], asked)).get(peer)
        if (answers === undefined) return
        held.set(peer, new Map(asked.map((cid, i) => [cid, answers[i] === true])))
      }),
    )
    let under = 0
    for (const [cid, holders] of holdersOf) {
      if (this.#stopping.signal.aborted) break
      const missing: string[] = []
      let unknown = 0
      const having: string[] = []
      for (const holder of holders) {
        if (holder === self) {
          having.push(self)
          continue
        }
        const answer = held.get(holder)?.get(cid)
        if (answer === undefined) unknown++
        else if (answer) having.push(holder)
        else missing.push(holder)
      }
      if (missing.length + unknown > 0) under++
      // The best-ranked node with a copy sends it; this node when no holder has one.
      const sender = having[0] ?? self
      if (missing.length > 0 && sender === self) await this.#copy(cid, missing)
      if (!holders.includes(self) && missing.length === 0 && unknown === 0 && holders.length > 0) {
        await store.local.delete(cid)
        this.health.copiesDropped++
      }
    }
    return { under }
  }

  async #copy(cid: string, to: readonly string[]): Promise<void> {
    const { store, logger } = this.#init
    let bytes: Uint8Array
    try {
      bytes = await store.local.get(cid)
    } catch (err) {
      if (isDataError(err, 'CorruptChunk')) this.health.corruptFound++
      if (!isDataError(err, 'NoSuchChunk') && !isDataError(err, 'CorruptChunk')) throw err
      return
    }
    for (const peer of to) {
      await this.#copyThrottle.take(bytes.length, this.#stopping.signal)
      try {
        await store.copyTo(peer, cid, bytes)
        this.health.copiesMade++
      } catch (err) {
        logger.debug({ cid, peer, err }, 'copying a chunk to a holder failed')
      }
    }
  }

  /** One scrub over every local chunk; a call during a scrub joins it. Never rejects. */
  scrub(): Promise<void> {
    this.#scrub ??= this.#scrubOnce()
      .catch((err) => {
        if (!this.#stopping.signal.aborted) this.#init.logger.warn({ err }, 'a scrub failed')
      })
      .finally(() => {
        this.#scrub = undefined
      })
    return this.#scrub
  }

  async #scrubOnce(): Promise<void> {
    const { store, logger } = this.#init
    const signal = this.#stopping.signal
    const started = Date.now()
    let bytes = 0
    let checked = 0
    let logged = started
    const corruptBefore = this.health.corruptFound
    this.#scrubThrottle.reset()
    for await (const cid of store.local.list({ signal })) {
      try {
        const read = (await store.local.get(cid, { signal })).length
        bytes += read
        await this.#scrubThrottle.take(read, signal)
      } catch (err) {
        if (isDataError(err, 'CorruptChunk')) await this.#replaceCorrupt(cid)
        else if (!isDataError(err, 'NoSuchChunk')) throw err
      }
      checked++
      if (Date.now() - logged >= PROGRESS_MS) {
        logged = Date.now()
        logger.info({ checked, bytes }, `scrub: ${checked} chunks checked so far`)
      }
    }
    this.health.scrubs++
    this.health.lastScrubAt = new Date().toISOString()
    const corrupt = this.health.corruptFound - corruptBefore
    logger.info(
      { checked, bytes, corrupt, durationMs: Date.now() - started },
      `scrub checked ${checked} chunks, ${corrupt} corrupt`,
    )
  }

  /** A corrupt local copy was taken out of service: a holder fetches a good copy in its place. */
  async #replaceCorrupt(cid: string): Promise<void> {
    const { store, nodes, logger } = this.#init
    this.health.corruptFound++
    logger.warn({ cid }, 'scrub found a corrupt chunk copy; it is out of service')
    if (!store.holders(cid).includes(nodes.self)) return
    try {
      await store.local.putVerified(cid, await store.fetch(cid))
      this.health.corruptRepaired++
    } catch (err) {
      logger.warn(
        { cid, err },
        'no good copy of a corrupt chunk could be fetched; the repair sweep tries again',
      )
    }
  }
}
