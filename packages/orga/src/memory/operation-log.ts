/**
 * A replica's operation log: the state it has built, the operations it holds, and its listeners.
 * Local operations apply at once (they sort after everything the replica has seen); operations pulled
 * from other replicas trigger a replay of the whole log in the shared total order, which is what makes
 * replicas holding the same operations hold the same state. Operations the replayed state refuses (an
 * invite redeemed first elsewhere, say) are skipped, deterministically, on every replica.
 */

import { isOrgaError, OrgaError } from '../errors.js'
import type { OrgaChange, OrgaChangeListener } from '../types.js'
import { applyOp, type ChangeTarget } from './apply.js'
import { compareStamped, type OrgaOp, type StampedOp, stampKey } from './ops.js'
import { type Genesis, initialState, type OrgaState } from './state.js'

type Outcome = ChangeTarget[] | undefined

export class OperationLog {
  private current: OrgaState
  private readonly ops: StampedOp[] = []
  /** Per operation: what it changed, or `undefined` when the state refused it. */
  private outcomes = new Map<string, Outcome>()
  private readonly listeners = new Set<OrgaChangeListener>()
  private clock = 0
  private seq = 0

  constructor(
    readonly genesis: Genesis,
    readonly replica: string,
    private readonly onListenerError: (err: unknown, change: OrgaChange) => void,
  ) {
    this.current = initialState(genesis)
  }

  get state(): OrgaState {
    return this.current
  }

  /** Applies a local operation; throws (changing nothing) when the state refuses it. */
  commit(op: OrgaOp, at: number): void {
    const changes = applyOp(this.current, op, at)
    const stamped: StampedOp = { clock: ++this.clock, replica: this.replica, seq: ++this.seq, at, op }
    this.ops.push(stamped)
    this.outcomes.set(stampKey(stamped), changes)
    this.notify(changes, 'local')
  }

  /** Takes in the operations of other logs of the same realm that this one lacks. */
  pull(others: readonly OperationLog[]): void {
    const incoming = new Map<string, StampedOp>()
    for (const other of others) {
      if (JSON.stringify(other.genesis) !== JSON.stringify(this.genesis)) {
        throw new OrgaError('InvalidInput', 'cannot sync replicas of different realms')
      }
      for (const op of other.ops) {
        const key = stampKey(op)
        if (!this.outcomes.has(key)) incoming.set(key, op)
      }
    }
    if (incoming.size === 0) return
    for (const op of incoming.values()) {
      this.ops.push(op)
      this.clock = Math.max(this.clock, op.clock)
    }
    this.ops.sort(compareStamped)
    this.replay(new Set(incoming.keys()))
  }

  subscribe(listener: OrgaChangeListener): () => void {
    // A wrapper per subscription, so subscribing one function twice gives two independent subscriptions.
    const entry: OrgaChangeListener = (change) => listener(change)
    this.listeners.add(entry)
    return () => {
      this.listeners.delete(entry)
    }
  }

  private replay(fresh: ReadonlySet<string>): void {
    const previous = this.outcomes
    const state = initialState(this.genesis)
    const outcomes = new Map<string, Outcome>()
    for (const stamped of this.ops) {
      outcomes.set(stampKey(stamped), attempt(state, stamped))
    }
    this.current = state
    this.outcomes = outcomes
    // Announce what arrived, and local operations whose fate the merge turned around.
    const changes: ChangeTarget[] = []
    for (const stamped of this.ops) {
      const key = stampKey(stamped)
      const now = outcomes.get(key)
      const before = previous.get(key)
      if (fresh.has(key)) changes.push(...(now ?? []))
      else if ((before === undefined) !== (now === undefined)) changes.push(...(before ?? now ?? []))
    }
    const unique = new Map(
      changes.map((change) => [JSON.stringify([change.kind, change.id, change.userId]), change]),
    )
    this.notify([...unique.values()], 'remote')
  }

  private notify(changes: readonly ChangeTarget[], origin: OrgaChange['origin']): void {
    for (const target of changes) {
      const change: OrgaChange = { ...target, origin }
      for (const listener of [...this.listeners]) {
        try {
          listener(change)
        } catch (err) {
          this.onListenerError(err, change)
        }
      }
    }
  }
}

function attempt(state: OrgaState, stamped: StampedOp): Outcome {
  try {
    return applyOp(state, stamped.op, stamped.at)
  } catch (err) {
    if (isOrgaError(err)) return undefined
    throw err
  }
}
