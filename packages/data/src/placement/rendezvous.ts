/**
 * Weighted rendezvous hashing (highest random weight): every node scores every key, a key's holders
 * are its best-scoring nodes. Every node computes the same ranking from the same member list without
 * asking anyone, and a node joining or leaving moves only the keys it enters or leaves the top of.
 *
 * The score is the one metadata's placement uses (`-weight / ln(u)`, `u` from SHA-256 of node id,
 * NUL, key), so a key ranks the same nodes in the same order for data and for metadata.
 */
import { hash } from 'node:crypto'
import { DataError } from '../errors.js'

/** `-weight / ln(u)` with `u` in (0, 1) from SHA-256 of node and key. Only weight ratios matter. */
export function rendezvousScore(key: string, nodeId: string, weight: number): number {
  // One call over the joined UTF-8 string: the same bytes as hashing the three parts in turn, at a
  // fraction of the cost of a Hash object (every small PUT ranks its chunk's and its key's nodes).
  const digest = hash('sha256', `${nodeId}\0${key}`, 'buffer')
  // 52 bits of the hash, shifted into (0, 1): never 0 (ln would be -Infinity) nor 1.
  const high = digest.readUInt32BE(0) >>> 12
  const low = digest.readUInt32BE(4)
  const unit = (high * 2 ** 32 + low + 0.5) / 2 ** 52
  return -weight / Math.log(unit)
}

/** A node as ranking sees it: its id and its weight (its declared capacity, in any one unit). */
export interface RankedNode {
  readonly id: string
  readonly weight: number
}

/**
 * The ids of `nodes` ranked for `key`, best first; ties (practically never) by id. Pure: the order
 * of `nodes` does not matter. `InvalidArgument` for a weight that is not a positive finite number.
 */
export function rankNodes(key: string, nodes: Iterable<RankedNode>): string[] {
  // One node ranks first whatever its score (a node on its own places every chunk and key).
  if (Array.isArray(nodes) && nodes.length === 1) {
    const only = nodes[0] as RankedNode
    checkWeight(only)
    return [only.id]
  }
  const scored: [string, number][] = []
  for (const node of nodes) {
    checkWeight(node)
    scored.push([node.id, rendezvousScore(key, node.id, node.weight)])
  }
  scored.sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
  return scored.map(([id]) => id)
}

export function checkWeight(node: RankedNode): void {
  const weight = node.weight
  if (!(typeof weight === 'number' && Number.isFinite(weight) && weight > 0)) {
    throw new DataError('InvalidArgument', `the weight of node ${node.id} must be a positive finite number`)
  }
}
