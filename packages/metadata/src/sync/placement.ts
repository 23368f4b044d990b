/**
 * Which nodes hold a metadata document: weighted rendezvous hashing (highest random weight) of the
 * document id over the realm's live nodes, as DESIGN.md §5 places data. Every node computes the same
 * holders from the same member list without asking anyone, and a node joining or leaving moves only
 * the documents it gains or loses.
 */
import { createHash } from 'node:crypto'
import { isReplicationFactor, REPLICATION_FACTOR_RULE, type ReplicationFactor } from '@aruna/orga'
import { MetadataError } from '../errors.js'

/**
 * How many nodes hold a document: a count, or every node of the realm (the default for metadata).
 * Orga's replication factor, checked by orga's `isReplicationFactor`.
 */
export type MetadataFactor = ReplicationFactor

/** A realm node that may hold documents. `weight` (default 1) scales its share: 2 holds about twice as many. */
export interface PlacementNode {
  readonly id: string
  readonly weight?: number
}

/**
 * The `factor` nodes among `nodes` that hold `key`, best first (all of them for `'all'`, and all of them
 * when there are no more than `factor`). Pure: the same inputs give the same holders in any order of
 * `nodes`. Duplicate ids count once.
 * @throws `InvalidInput` for a factor that is not a replication factor (an integer from 1 to 1000, or
 *   `'all'`), or a weight that is not a positive finite number.
 */
export function rendezvousHolders(
  key: string,
  nodes: readonly PlacementNode[],
  factor: MetadataFactor,
): string[] {
  checkFactor(factor)
  const scored = new Map<string, number>()
  for (const node of nodes) {
    const weight = node.weight ?? 1
    if (!(typeof weight === 'number' && Number.isFinite(weight) && weight > 0)) {
      throw new MetadataError('InvalidInput', `the weight of node ${node.id} must be a positive number`)
    }
    if (!scored.has(node.id)) scored.set(node.id, score(key, node.id, weight))
  }
  const ranked = [...scored].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).map(([id]) => id)
  return factor === 'all' ? ranked : ranked.slice(0, factor)
}

/** `-weight / ln(u)` with `u` in (0, 1) from SHA-256 of node and key: the weighted HRW score. */
function score(key: string, nodeId: string, weight: number): number {
  const digest = createHash('sha256').update(nodeId).update('\0').update(key).digest()
  // 52 bits of the hash, shifted into (0, 1): never 0 (ln would be -Infinity) nor 1.
  const high = digest.readUInt32BE(0) >>> 12
  const low = digest.readUInt32BE(4)
  const unit = (high * 2 ** 32 + low + 0.5) / 2 ** 52
  return -weight / Math.log(unit)
}

function checkFactor(factor: unknown): asserts factor is MetadataFactor {
  if (!isReplicationFactor(factor)) throw new MetadataError('InvalidInput', REPLICATION_FACTOR_RULE)
}

export interface MetadataPlacementInit {
  /** This node's id (its network peer id). */
  readonly self: string
  /** The realm's live nodes, this one included or not (it is always counted). Read on every decision. */
  readonly nodes: () => readonly PlacementNode[]
  /** The replication factor of a document (by its automerge document id). Default: `'all'`. */
  readonly factorOf?: (documentId: string) => MetadataFactor
}

/**
 * The placement of one node's view of the realm: who holds a document now. Decisions are cached per
 * document until `invalidate()` (call it when the live nodes or the factors change).
 */
export class MetadataPlacement {
  readonly #self: string
  readonly #nodes: () => readonly PlacementNode[]
  readonly #factorOf: (documentId: string) => MetadataFactor
  #cache = new Map<string, ReadonlySet<string>>()

  constructor(init: MetadataPlacementInit) {
    this.#self = init.self
    this.#nodes = init.nodes
    this.#factorOf = init.factorOf ?? (() => 'all')
  }

  get self(): string {
    return this.#self
  }

  /** The nodes that hold `documentId`, best first. */
  holders(documentId: string): string[] {
    return [...this.#holderSet(documentId)]
  }

  /** Whether `node` holds `documentId`. */
  holds(node: string, documentId: string): boolean {
    return this.#holderSet(documentId).has(node)
  }

  /** Whether `node` is one of the realm's live nodes (or this node). */
  isMember(node: string): boolean {
    return node === this.#self || this.#nodes().some((candidate) => candidate.id === node)
  }

  /** Forgets every cached decision. */
  invalidate(): void {
    this.#cache = new Map()
  }

  #holderSet(documentId: string): ReadonlySet<string> {
    let holders = this.#cache.get(documentId)
    if (holders === undefined) {
      const nodes = this.#nodes()
      const all = nodes.some((node) => node.id === this.#self) ? nodes : [...nodes, { id: this.#self }]
      holders = new Set(rendezvousHolders(documentId, all, this.#factorOf(documentId)))
      if (this.#cache.size >= 100_000) this.#cache = new Map()
      this.#cache.set(documentId, holders)
    }
    return holders
  }
}
