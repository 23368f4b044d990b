/**
 * Who takes part in data placement: the realm's node list (orga) and, for each node, whether it is
 * live. A node this one is connected to is live; one that is not stays live for placement until it has
 * been out of reach longer than the grace period (`downAfterMs`), so a restart or a short partition
 * moves no data, and is `down` after that: placement then picks other holders and the realm restores
 * the replication factor without it. Every node applies the same rule to the same list, so nodes agree
 * on a key's holders once they see the same connections for longer than the grace period.
 */
import type { PlacementMember } from '@aruna/data'
import type { Network } from '@aruna/network'
import type { Logger } from '../logger.js'

/** How often the node list is read again from the organisation store. */
const REFRESH_MS = 5000

/**
 * `members()` is computed again at most this long after it was last computed (sooner when a node
 * comes or goes, or a node out of reach reaches its grace period): every PutObject places its chunk.
 */
const MEMBERS_TTL_MS = 250

export interface RealmNodesInit {
  readonly network: Network
  /** The realm's node list (peer ids), this node included or not. */
  listNodes(): Promise<readonly string[]>
  /** The realm's replication factor for data (orga's realm default): a number of nodes, or every node. */
  dataFactor(): Promise<number | 'all'>
  /** How long a node may be out of reach before placement treats it as gone. */
  readonly downAfterMs: number
  readonly logger: Logger
  /** Clock in milliseconds (tests). */
  readonly now?: () => number
}

export class RealmNodes {
  readonly #init: RealmNodesInit
  readonly #now: () => number
  readonly #startedAt: number
  #listed: readonly string[] = []
  #factor: number | 'all' = 1
  /** When each node was last seen connected (or this tracker started, for nodes never seen). */
  readonly #lastSeen = new Map<string, number>()
  readonly #listeners = new Set<() => void>()
  readonly #cleanups: Array<() => void> = []
  #timer: ReturnType<typeof setInterval> | undefined
  /** The down set as last reported, to tell listeners only of changes. */
  #down = ''
  /** `members()` as last computed, and until when it holds. */
  #members: { readonly list: readonly PlacementMember[]; readonly until: number } | undefined

  constructor(init: RealmNodesInit) {
    this.#init = init
    this.#now = init.now ?? Date.now
    this.#startedAt = this.#now()
  }

  get self(): string {
    return this.#init.network.peerId
  }

  /** Reads the node list and follows connections; `changed` listeners hear of joins and nodes going down. */
  async start(): Promise<void> {
    await this.refresh()
    const network = this.#init.network
    const seen = ({ peer }: { peer: string }): void => {
      this.#members = undefined
      this.#lastSeen.set(peer, this.#now())
      // A live peer is a member (the network admits no other): a node that just joined counts before
      // the node list shows it.
      if (!this.#listed.includes(peer)) this.#listed = [...this.#listed, peer].sort()
      this.#check(true)
    }
    this.#cleanups.push(
      network.on('peer:join', seen),
      network.on('peer:leave', seen),
      network.on('peer:unreachable', seen),
    )
    this.#timer = setInterval(
      () => {
        this.refresh().catch((err) => this.#init.logger.warn({ err }, 'reading the node list failed'))
      },
      Math.min(REFRESH_MS, Math.max(250, Math.floor(this.#init.downAfterMs / 2))),
    )
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    for (const cleanup of this.#cleanups.splice(0)) cleanup()
    this.#listeners.clear()
  }

  /** Reads the node list again and tells listeners when a node went down or came back. */
  async refresh(): Promise<void> {
    this.#factor = await this.#init.dataFactor()
    const listed = new Set(await this.#init.listNodes())
    listed.add(this.self)
    for (const peer of this.#init.network.peers()) listed.add(peer)
    const before = this.#listed.join(',')
    this.#listed = [...listed].sort()
    this.#members = undefined
    this.#check(before !== this.#listed.join(','))
  }

  /** Called on node-list and connection changes (at most once per change). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * How many nodes hold each chunk: the realm's data factor as last read (every 5 s at most), `all`
   * counted as every node placement counts as live.
   */
  factor(): number {
    if (this.#factor !== 'all') return this.#factor
    return Math.max(1, this.members().filter((member) => member.state !== 'down').length)
  }

  /** The connected nodes (live members): the ones worth asking now. */
  connected(): string[] {
    return this.#init.network.peers().filter((id) => id !== this.self)
  }

  isConnected(id: string): boolean {
    return id === this.self || this.#init.network.peers().includes(id)
  }

  /** The listed nodes other than this one. */
  others(): string[] {
    return this.#listed.filter((id) => id !== this.self)
  }

  /**
   * Every listed or connected node with its placement state (weight 1: nodes declare no capacity yet).
   * Frozen: it is shared until a node comes or goes, a node out of reach turns `down`, or
   * `MEMBERS_TTL_MS` has passed.
   */
  members(): readonly PlacementMember[] {
    const now = this.#now()
    const cached = this.#members
    if (cached !== undefined && now < cached.until) return cached.list
    const peers = new Set(this.#init.network.peers())
    let until = now + MEMBERS_TTL_MS
    const list = [...new Set([...this.#listed, ...peers])].sort().map((id): PlacementMember => {
      if (id === this.self || peers.has(id)) {
        this.#lastSeen.set(id, now)
        return Object.freeze({ id, weight: 1, state: 'live' as const })
      }
      const downAt = (this.#lastSeen.get(id) ?? this.#startedAt) + this.#init.downAfterMs
      if (now - downAt <= 0) until = Math.min(until, downAt + 1)
      return Object.freeze({ id, weight: 1, state: now > downAt ? ('down' as const) : ('live' as const) })
    })
    Object.freeze(list)
    this.#members = { list, until }
    return list
  }

  #check(changed: boolean): void {
    const down = this.members()
      .filter((member) => member.state === 'down')
      .map((member) => member.id)
      .join(',')
    if (down !== this.#down) {
      if (down.length > 0) this.#init.logger.warn({ down }, 'nodes out of reach past the grace period')
      this.#down = down
      changed = true
    }
    if (!changed) return
    for (const listener of this.#listeners) listener()
  }
}
