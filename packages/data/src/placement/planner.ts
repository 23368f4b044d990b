/**
 * The placement planner: a pure function from what the realm looks like (its nodes and who holds
 * what) to what should move (copy this key from A to B, drop it from C). It does no I/O and keeps no
 * state; a driver carries the actions out, records confirmed copies in the holder sets, and asks
 * again. Because a drop is planned only once every chosen holder of a key already holds it, running
 * the planner after each confirmation never lowers a key below its wanted holders.
 *
 * A key's chosen holders are its best `factor` nodes by weighted rendezvous hashing among the nodes
 * that may hold it: `live` nodes, and `full` nodes that already hold it (a full node keeps what it
 * has but takes nothing new). `draining` nodes take nothing new and hand everything off; `down`
 * nodes (gone past the grace period, as the caller decides) are neither sources, targets nor asked to
 * drop anything.
 */
import { DataError } from '../errors.js'
import { checkWeight, rankNodes } from './rendezvous.js'
import { isReplicationFactor, type ReplicationFactor } from './replication-factor.js'

export type PlacementNodeState = 'live' | 'full' | 'draining' | 'down'

export interface PlacementMember {
  /** The node's id (its peer id). */
  readonly id: string
  /** Its declared capacity, in any one unit for all nodes: a node of weight 2 gets about twice the keys. */
  readonly weight: number
  readonly state: PlacementNodeState
}

/** Something placed as a whole: a chunk (by chunk id) or a bucket's key index (by bucket id). */
export interface PlacementItem {
  readonly key: string
  readonly factor: ReplicationFactor
  /** The nodes that have confirmed holding it (unknown node ids are ignored, like down ones). */
  readonly holders: Iterable<string>
}

export interface PlacementState {
  readonly nodes: readonly PlacementMember[]
  readonly items: Iterable<PlacementItem>
}

export type PlacementAction =
  /** Copy `key` from `from` (a current holder) to `to` (a chosen holder that lacks it). */
  | { readonly kind: 'copy'; readonly key: string; readonly from: string; readonly to: string }
  /** Drop `key` from `from`: every chosen holder has confirmed holding it. */
  | { readonly kind: 'drop'; readonly key: string; readonly from: string }

export interface PlacementPlan {
  /** Copies first, then drops, in item order. Never two actions of one kind for one key and node. */
  readonly actions: PlacementAction[]
  /** Keys none of whose holders is reachable (all down or unknown): nothing can be copied. */
  readonly unavailable: string[]
}

/**
 * Plans the moves that bring every item to its chosen holders. Pure: the same state gives the same
 * plan, whatever the order of `nodes`.
 * @throws `InvalidArgument` for a duplicate node id, an unknown node state, a weight that is not a
 *   positive finite number, or an item whose factor is not a replication factor.
 */
export function planPlacement(state: PlacementState): PlacementPlan {
  const members = checkMembers(state.nodes)
  const reachable = state.nodes.filter((node) => node.state !== 'down')
  const copies: PlacementAction[] = []
  const drops: PlacementAction[] = []
  const unavailable: string[] = []
  for (const item of state.items) {
    if (!isReplicationFactor(item.factor))
      throw new DataError(
        'InvalidArgument',
        `item ${item.key}: bad replication factor ${String(item.factor)}`,
      )
    const holders = new Set(item.holders)
    const ranked = rankNodes(item.key, reachable)
    const targets = chooseTargets(ranked, members, holders, item.factor)
    const sources = ranked.filter((id) => holders.has(id))
    if (sources.length === 0) {
      unavailable.push(item.key)
      continue
    }
    const missing = targets.filter((id) => !holders.has(id))
    // Copy from the best-ranked holder: every node that plans picks the same one.
    for (const to of missing) copies.push({ kind: 'copy', key: item.key, from: sources[0]!, to })
    // Drop only once every chosen holder has confirmed; with no node to hold it, keep every copy.
    if (missing.length > 0 || targets.length === 0) continue
    const chosen = new Set(targets)
    for (const id of sources) if (!chosen.has(id)) drops.push({ kind: 'drop', key: item.key, from: id })
  }
  return { actions: [...copies, ...drops], unavailable }
}

/**
 * The chosen holders of a key, best first: its best `factor` nodes (all for `'all'`) among the live
 * nodes and the full nodes holding it. `ranked` is the key's ranking of the reachable nodes.
 */
function chooseTargets(
  ranked: readonly string[],
  members: ReadonlyMap<string, PlacementMember>,
  holders: ReadonlySet<string>,
  factor: ReplicationFactor,
): string[] {
  const eligible = ranked.filter((id) => {
    const state = members.get(id)?.state
    return state === 'live' || (state === 'full' && holders.has(id))
  })
  return factor === 'all' ? eligible : eligible.slice(0, factor)
}

/**
 * The chosen holders of one item under `nodes`, best first (what `planPlacement` moves it to).
 * Same checks as `planPlacement`.
 */
export function chosenHolders(nodes: readonly PlacementMember[], item: PlacementItem): string[] {
  const members = checkMembers(nodes)
  if (!isReplicationFactor(item.factor))
    throw new DataError('InvalidArgument', `item ${item.key}: bad replication factor ${String(item.factor)}`)
  const ranked = rankNodes(
    item.key,
    nodes.filter((node) => node.state !== 'down'),
  )
  return chooseTargets(ranked, members, new Set(item.holders), item.factor)
}

const STATES: ReadonlySet<string> = new Set(['live', 'full', 'draining', 'down'])

/** Member lists already checked, by identity: only frozen lists (and members), which cannot change since. */
const checkedLists = new WeakMap<readonly PlacementMember[], ReadonlyMap<string, PlacementMember>>()

function checkMembers(nodes: readonly PlacementMember[]): ReadonlyMap<string, PlacementMember> {
  const checked = checkedLists.get(nodes)
  if (checked !== undefined) return checked
  const members = new Map<string, PlacementMember>()
  for (const node of nodes) {
    if (typeof node.id !== 'string' || node.id.length === 0)
      throw new DataError('InvalidArgument', 'a node id must be a non-empty string')
    if (members.has(node.id)) throw new DataError('InvalidArgument', `node ${node.id} is listed twice`)
    if (!STATES.has(node.state))
      throw new DataError('InvalidArgument', `node ${node.id}: unknown state ${String(node.state)}`)
    checkWeight(node)
    members.set(node.id, node)
  }
  if (Object.isFrozen(nodes) && nodes.every((node) => Object.isFrozen(node))) checkedLists.set(nodes, members)
  return members
}
