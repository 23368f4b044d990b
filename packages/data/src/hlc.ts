import { DataError } from './errors.js'

/**
 * A hybrid logical clock: version ids that follow wall-clock time but never go backwards, even when
 * the wall clock does, and that order events seen from other nodes after their causes.
 *
 * A version id is `<wall ms, 12 hex>-<counter, 8 hex>-<node id>`. The fixed-width lower-case hex
 * fields make plain string order equal to (time, counter, node id) order, so ids sort
 * lexicographically in time order and ties between nodes break by node id.
 */
export interface HlcTimestamp {
  /** Milliseconds since the epoch. */
  wallTime: number
  /** Events within the same millisecond. */
  counter: number
  nodeId: string
}

export const MAX_WALL_TIME = 2 ** 48 - 1
export const MAX_COUNTER = 2 ** 32 - 1
const NODE_ID = /^[A-Za-z0-9._~-]{1,128}$/
const VERSION_ID = /^([0-9a-f]{12})-([0-9a-f]{8})-([A-Za-z0-9._~-]{1,128})$/

export function formatVersionId(ts: HlcTimestamp): string {
  checkNodeId(ts.nodeId)
  if (!Number.isSafeInteger(ts.wallTime) || ts.wallTime < 0 || ts.wallTime > MAX_WALL_TIME) {
    throw new DataError('InvalidVersionId', `wall time out of range: ${ts.wallTime}`)
  }
  if (!Number.isSafeInteger(ts.counter) || ts.counter < 0 || ts.counter > MAX_COUNTER) {
    throw new DataError('InvalidVersionId', `counter out of range: ${ts.counter}`)
  }
  return `${ts.wallTime.toString(16).padStart(12, '0')}-${ts.counter.toString(16).padStart(8, '0')}-${ts.nodeId}`
}

/** Reads a version id; `InvalidVersionId` if it is not one. */
export function parseVersionId(versionId: string): HlcTimestamp {
  const match = VERSION_ID.exec(versionId)
  if (match === null) {
    throw new DataError('InvalidVersionId', `not a version id: ${JSON.stringify(versionId).slice(0, 80)}`)
  }
  return {
    wallTime: Number.parseInt(match[1]!, 16),
    counter: Number.parseInt(match[2]!, 16),
    nodeId: match[3]!,
  }
}

/** The logical part of a clock's state: the greatest (wall time, counter) it has issued or seen. */
export interface HlcState {
  wallTime: number
  counter: number
}

/** The state after a local event at physical time `now`. Pure. */
export function tick(state: HlcState, now: number): HlcState {
  if (now > state.wallTime) return { wallTime: Math.min(now, MAX_WALL_TIME), counter: 0 }
  return increment(state)
}

/** The state after receiving `remote` at physical time `now`: after both `state` and `remote`. Pure. */
export function receive(state: HlcState, remote: HlcState, now: number): HlcState {
  const wallTime = Math.max(state.wallTime, remote.wallTime, now)
  if (wallTime === now && now > state.wallTime && now > remote.wallTime) return { wallTime, counter: 0 }
  const counter =
    state.wallTime === remote.wallTime
      ? Math.max(state.counter, remote.counter)
      : wallTime === state.wallTime
        ? state.counter
        : remote.counter
  return increment({ wallTime, counter })
}

function increment(state: HlcState): HlcState {
  // A full counter borrows the next millisecond: ids stay monotonic at the cost of a 1 ms lead.
  if (state.counter >= MAX_COUNTER) return { wallTime: state.wallTime + 1, counter: 0 }
  return { wallTime: state.wallTime, counter: state.counter + 1 }
}

function checkNodeId(nodeId: string): void {
  if (!NODE_ID.test(nodeId)) {
    throw new DataError('InvalidArgument', `a node id is 1 to 128 of A-Z a-z 0-9 . _ ~ -, got ${nodeId}`)
  }
}

export interface HybridLogicalClockInit {
  /** Physical time in ms; default `Date.now`. */
  now?: () => number
  /** The last version id this node issued before a restart, so ids keep growing across restarts. */
  after?: string
}

/** One node's clock: `next()` for a local write, `observe()` for a version id seen from elsewhere. */
export class HybridLogicalClock {
  readonly nodeId: string
  readonly #now: () => number
  #state: HlcState = { wallTime: 0, counter: 0 }

  constructor(nodeId: string, init: HybridLogicalClockInit = {}) {
    checkNodeId(nodeId)
    this.nodeId = nodeId
    this.#now = init.now ?? Date.now
    if (init.after !== undefined) {
      const { wallTime, counter } = parseVersionId(init.after)
      this.#state = { wallTime, counter }
    }
  }

  /** A new version id, greater than every id this clock has issued or observed. */
  next(): string {
    this.#state = tick(this.#state, this.#now())
    return formatVersionId({ ...this.#state, nodeId: this.nodeId })
  }

  /** Takes a version id seen from another node into account, so later ids sort after it. */
  observe(versionId: string): void {
    const { wallTime, counter } = parseVersionId(versionId)
    this.#state = receive(this.#state, { wallTime, counter }, this.#now())
  }
}
