/**
 * Serving joins. Any realm node answers `/aruna/join/1.0.0`; a management node (it holds the realm
 * key) redeems the invite itself and signs the joining node's delegation, a server node passes the
 * request to a live management node over `/aruna/admit/1.0.0` (members only). The joining node's
 * peer id is the one noise authenticated on the connection, never a claim in the message.
 */
import type { Libp2pNetwork } from '@aruna/network'
import { type AutomergeOrgaStore, isOrgaError, type OrgaService } from '@aruna/orga'
import type { Logger } from '../logger.js'
import {
  type AdmitResponse,
  admitProtocol,
  type JoinRefusal,
  type JoinResponse,
  joinProtocol,
} from './join-protocol.js'
import type { RealmFile } from './realm-file.js'

export interface AdmissionInit {
  readonly network: Libp2pNetwork
  readonly store: AutomergeOrgaStore
  /** Present on management nodes: the service that holds the realm key. */
  readonly orga: OrgaService
  readonly realm: RealmFile
  readonly accessKeyKey: Uint8Array
  readonly logger: Logger
  /**
   * How long a management node waits for an invite it does not know yet to arrive by sync (it may
   * have been made on another node a moment ago). Default 2.5 s: a joiner's connection lasts only the
   * network's handshake timeout (5 s), and a forwarded join must fit in it.
   */
  readonly inviteSyncWaitMs?: number
}

type Refused = { kind: 'refused'; code: JoinRefusal; message: string }

function refused(code: JoinRefusal, message: string): Refused {
  return { kind: 'refused', code, message }
}

/** Joins served per minute: the protocol is open to anyone who can reach the node. */
const JOINS_PER_MINUTE = 30
const JOINS_PER_PEER_PER_MINUTE = 5

export class Admission {
  readonly #init: AdmissionInit
  /** Times (ms) of the joins served in the last minute, overall and per peer. */
  #recent: number[] = []
  readonly #recentByPeer = new Map<string, number[]>()

  constructor(init: AdmissionInit) {
    this.#init = init
  }

  /** Serves both protocols on the node's network. */
  register(): void {
    const { network } = this.#init
    network.handle(
      joinProtocol,
      (request, context) => this.#join(request.realm, request.secret, request.addresses, context.peer),
      { open: true },
    )
    network.handle(admitProtocol, (request) => this.#admit(request.secret, request.peerId, request.addresses))
  }

  async #join(
    realm: string,
    secret: string,
    addresses: readonly string[],
    peer: string,
  ): Promise<JoinResponse> {
    const { realm: file, network, store, logger } = this.#init
    if (!this.#withinRate(peer)) {
      logger.warn({ peer }, 'join refused: too many join attempts')
      return refused('Unavailable', 'too many join attempts; try again in a minute')
    }
    if (realm !== file.realmId) return refused('WrongRealm', 'the invite is for another realm')
    const admitted = this.#init.orga.holdsRealmKey
      ? await this.#admit(secret, peer, addresses)
      : await this.#forward(secret, peer, addresses)
    if (admitted.kind === 'refused') {
      logger.info({ peer, code: admitted.code }, `join refused: ${admitted.message}`)
      return admitted
    }
    logger.info({ peer }, 'a node joined the realm')
    const live = new Set(network.peers())
    const others = (await store.listNodes())
      .filter((node) => live.has(node.peerId))
      .flatMap((node) => node.addresses)
    return {
      kind: 'joined',
      realmId: file.realmId,
      realmName: file.realmName,
      realmUrl: file.realmUrl,
      ...(file.metadataUrl === undefined ? {} : { metadataUrl: file.metadataUrl }),
      delegation: admitted.delegation,
      accessKeyKey: this.#init.accessKeyKey,
      bootstrap: [...new Set([...network.multiaddrs, ...others])].slice(0, 32),
    }
  }

  #withinRate(peer: string): boolean {
    const now = Date.now()
    const since = now - 60_000
    this.#recent = this.#recent.filter((at) => at > since)
    const mine = (this.#recentByPeer.get(peer) ?? []).filter((at) => at > since)
    if (this.#recent.length >= JOINS_PER_MINUTE || mine.length >= JOINS_PER_PEER_PER_MINUTE) return false
    this.#recent.push(now)
    mine.push(now)
    this.#recentByPeer.set(peer, mine)
    for (const [other, times] of this.#recentByPeer)
      if (times.every((at) => at <= since)) this.#recentByPeer.delete(other)
    return true
  }

  /** On a management node: redeem the invite, waiting briefly for one made elsewhere to sync. */
  async #admit(secret: string, peerId: string, addresses: readonly string[]): Promise<AdmitResponse> {
    const { orga, store } = this.#init
    if (!orga.holdsRealmKey) return refused('Unavailable', 'this node cannot admit nodes')
    const deadline = Date.now() + (this.#init.inviteSyncWaitMs ?? 2500)
    for (;;) {
      try {
        const joined = await orga.redeemInvite({ secret, peerId, addresses })
        return { kind: 'admitted', delegation: joined.delegation }
      } catch (err) {
        if (isOrgaError(err, 'NotFound') && Date.now() < deadline) {
          await nextChange(store, deadline - Date.now())
          continue
        }
        return refusalOf(err)
      }
    }
  }

  /** On a server node: ask the live management nodes, one after another. */
  async #forward(secret: string, peerId: string, addresses: readonly string[]): Promise<AdmitResponse> {
    const { network, store, logger } = this.#init
    const live = new Set(network.peers())
    const managers = (await store.listNodes()).filter(
      (node) => node.kind === 'management' && live.has(node.peerId),
    )
    for (const manager of managers) {
      try {
        const answer = await network.request(
          manager.peerId,
          admitProtocol,
          { kind: 'admit', secret, peerId, addresses },
          { timeoutMs: 4000 },
        )
        if (answer.kind === 'admitted' || answer.code !== 'Unavailable') return answer
      } catch (err) {
        logger.warn({ err, manager: manager.peerId }, 'passing a join to a management node failed')
      }
    }
    return refused(
      'Unavailable',
      'no management node of the realm is reachable from this node; try again later',
    )
  }
}

function refusalOf(err: unknown): AdmitResponse {
  if (isOrgaError(err)) {
    switch (err.code) {
      case 'NotFound':
      case 'InvalidInput':
        return refused('InvalidInvite', 'the realm knows no such invite (it may have been cancelled)')
      case 'InviteUsed':
        return refused('InviteUsed', 'the invite was already used; ask for a new one')
      case 'InviteExpired':
        return refused('InviteExpired', 'the invite expired; ask for a new one')
      case 'AlreadyExists':
        return refused('AlreadyMember', 'this node is already a member of the realm')
    }
  }
  return refused('Unavailable', 'the realm could not admit the node right now; try again later')
}

/** Resolves at the store's next change or after `ms`, whichever comes first. */
function nextChange(store: AutomergeOrgaStore, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      unsubscribe()
      resolve()
    }
    const timer = setTimeout(done, Math.max(1, ms))
    const unsubscribe = store.onChange(done)
  })
}
