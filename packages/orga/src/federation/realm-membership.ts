/**
 * Wires a node's realm network to its organisation store: the network's membership predicate (and
 * the delegation credentials' node-list check) answer from `store.isMember`; when the realm document
 * changes (a node removed, locally or by a remote replica), the predicate is set again so the network
 * drops peers that are no longer listed; and `liveNodes()` is the set placement works from: the
 * realm's listed nodes that are live peers right now, with change events.
 */

import type { Network, PeerId } from '@aruna/network'
import type { OrgaStore } from '../port.js'

/** What the membership needs of a network: the `Network` port's membership part. */
export type MembershipNetwork = Pick<Network, 'peerId' | 'peers' | 'on' | 'setMembership'>

export interface RealmMembershipInit {
  /**
   * Peers admitted before the store is attached: a joining node has no realm document yet and must
   * reach the node that invited it to fetch one (their delegations are still checked). Default: none.
   */
  readonly bootstrapPeers?: Iterable<string>
  /** Called when reloading the node list fails (the previous list stays). Default: ignored. */
  readonly onError?: (err: unknown) => void
}

export type LiveNodesListener = (liveNodes: readonly string[]) => void

export class RealmMembership {
  readonly #bootstrap: ReadonlySet<string>
  readonly #onError: (err: unknown) => void
  readonly #listeners = new Set<LiveNodesListener>()
  readonly #unsubscribe: (() => void)[] = []
  #store: OrgaStore | undefined
  #network: MembershipNetwork | undefined
  #nodes: ReadonlySet<string> = new Set()
  #live: readonly string[] = []
  #reload: Promise<void> = Promise.resolve()
  #closed = false

  constructor(init: RealmMembershipInit = {}) {
    this.#bootstrap = new Set(init.bootstrapPeers ?? [])
    this.#onError = init.onError ?? (() => {})
  }

  /** The membership predicate: the store's node list once attached, the bootstrap peers before. */
  readonly isMember = async (peer: PeerId): Promise<boolean> => {
    if (this.#closed) return false
    const store = this.#store
    if (store === undefined) return this.#bootstrap.has(peer)
    return store.isMember(peer)
  }

  /**
   * The node-list check for `DelegationRealmCredentials`: the store's answer once attached, and `true`
   * before (a joining node cannot know the list yet; the delegation is still checked and `isMember`
   * still gates). Kept apart from `isMember` because the network bans a peer whose proof fails, and a
   * peer must not be banned merely because this node has not loaded the realm document yet.
   */
  readonly isListed = async (peer: PeerId): Promise<boolean> => {
    if (this.#closed) return false
    const store = this.#store
    return store === undefined ? true : store.isMember(peer)
  }

  /** Follows the network's peers (for `liveNodes`) and gives it this membership predicate. */
  attachNetwork(network: MembershipNetwork): void {
    this.#network = network
    network.setMembership(this.isMember)
    for (const event of ['peer:join', 'peer:leave', 'peer:unreachable'] as const) {
      this.#unsubscribe.push(network.on(event, () => this.#recompute()))
    }
    this.#recompute()
  }

  /**
   * Answers membership from the store from now on, and re-applies it on every node-list change (so a
   * removed node is disconnected at once). Resolves once the node list is loaded and applied.
   */
  async attachStore(store: OrgaStore): Promise<void> {
    this.#store = store
    this.#unsubscribe.push(
      store.onChange((change) => {
        if (change.kind === 'node' || change.kind === 'realm') void this.refresh()
      }),
    )
    await this.refresh()
  }

  /** Reloads the node list and asks the network to check every live peer again. */
  refresh(): Promise<void> {
    this.#reload = this.#reload.then(async () => {
      const store = this.#store
      if (store === undefined || this.#closed) return
      try {
        this.#nodes = new Set((await store.listNodes()).map((node) => node.peerId))
      } catch (err) {
        this.#onError(err)
      }
      this.#network?.setMembership(this.isMember)
      this.#recompute()
    })
    return this.#reload
  }

  /** The realm's listed nodes that are live peers now, this node included, sorted. */
  liveNodes(): readonly string[] {
    return this.#live
  }

  /** Called with the new live set whenever it changes. Returns the unsubscribe function. */
  onLiveNodesChange(listener: LiveNodesListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Stops following the store and the network; the predicate refuses everyone afterwards. */
  close(): void {
    this.#closed = true
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe()
    this.#listeners.clear()
  }

  #recompute(): void {
    if (this.#closed) return
    const network = this.#network
    const candidates = network === undefined ? [] : [network.peerId, ...network.peers()]
    const live = [...new Set(candidates)].filter((peer) => this.#nodes.has(peer)).sort()
    if (live.length === this.#live.length && live.every((peer, i) => peer === this.#live[i])) return
    this.#live = live
    for (const listener of [...this.#listeners]) {
      try {
        listener(live)
      } catch (err) {
        this.#onError(err)
      }
    }
  }
}

/** Attaches a network and a store in one call; see `RealmMembership`. */
export async function joinRealmNetwork(options: {
  readonly store: OrgaStore
  readonly network: MembershipNetwork
  readonly membership?: RealmMembership
  readonly onError?: (err: unknown) => void
}): Promise<RealmMembership> {
  const membership =
    options.membership ??
    new RealmMembership(options.onError === undefined ? {} : { onError: options.onError })
  membership.attachNetwork(options.network)
  await membership.attachStore(options.store)
  return membership
}
