/**
 * A node's membership in its realm, composed from the packages' parts: the libp2p network (its realm
 * handshake shows this node's delegation and checks each peer's against the realm's node list), the
 * organisation documents on disk (`openDirectoryOrgaStore`, synced over the network with
 * `AutomergeNetworkAdapter`), and `RealmMembership`, which keeps the network's member predicate equal
 * to the node list (a node removed on any replica is disconnected and refused by every node once the
 * change arrives). Packages provide parts; this app composes them.
 */
import { join } from 'node:path'
import {
  AutomergeNetworkAdapter,
  createLibp2pNetwork,
  type Libp2pNetwork,
  type Libp2pNetworkInit,
} from '@aruna/network'
import {
  type AutomergeOrgaStore,
  DelegationRealmCredentials,
  type MembershipNetwork,
  openDirectoryOrgaStore,
  RealmMembership,
} from '@aruna/orga'
import type { NodeIdentity } from '../identity/node-identity.js'
import type { Logger } from '../logger.js'
import type { RealmFile } from '../realm/realm-file.js'

const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/udp/0/quic-v1']

export interface RealmMemberInit {
  readonly dataDir: string
  readonly identity: NodeIdentity
  readonly realm: RealmFile
  /** Configured listen addresses; empty: the addresses of the last run, else loopback on free ports. */
  readonly listen: readonly string[]
  /** Configured bootstrap multiaddrs, dialled besides the realm file's. */
  readonly bootstrap: readonly string[]
  readonly logger: Logger
  /** Network settings for tests (liveness, handshake timeouts). */
  readonly network?: Partial<
    Pick<
      Libp2pNetworkInit,
      'livenessTimeoutMs' | 'pingIntervalMs' | 'handshakeTimeoutMs' | 'discoveryIntervalMs' | 'banMs'
    >
  >
  /** How long a first start after joining waits for the realm documents. Default 30 s. */
  readonly loadTimeoutMs?: number
}

export interface RealmMember {
  readonly network: Libp2pNetwork
  readonly store: AutomergeOrgaStore
  readonly membership: RealmMembership
  /**
   * Refuses these peers as a firewall would (for fault tests): live connections to them are dropped
   * and new ones refused until `unblock`, whatever the node list says.
   */
  block(peers: Iterable<string>): void
  /** Accepts the peers again and dials the listed ones. */
  unblock(peers: Iterable<string>): void
  stop(): Promise<void>
  /** Stops at once, without telling peers or flushing (a crash, for fault tests). */
  kill(): Promise<void>
}

export class NotListedError extends Error {
  override readonly name = 'NotListedError'
}

/** Waits (bounded) until the node list names `peerId`: after a join, the list may arrive a moment late. */
async function waitUntilListed(
  store: AutomergeOrgaStore,
  peerId: string,
  timeoutMs: number,
): Promise<boolean> {
  if (await store.isMember(peerId)) return true
  return new Promise<boolean>((resolve) => {
    const done = (listed: boolean) => {
      clearTimeout(timer)
      unsubscribe()
      resolve(listed)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    const unsubscribe = store.onChange((change) => {
      if (change.kind !== 'node' && change.kind !== 'realm') return
      void store.isMember(peerId).then((listed) => listed && done(true))
    })
  })
}

function peerOf(address: string): string | undefined {
  const at = address.lastIndexOf('/p2p/')
  return at < 0 ? undefined : address.slice(at + 5)
}

export async function startRealmMember(init: RealmMemberInit): Promise<RealmMember> {
  const { identity, realm, logger } = init
  const bootstrap = [...new Set([...init.bootstrap, ...realm.bootstrap])].filter(
    (address) => peerOf(address) !== undefined && peerOf(address) !== identity.peerId,
  )
  const membership = new RealmMembership({
    // Until the realm documents are loaded (the first start after joining), the peers we were given
    // are the only ones we accept; their delegations are still checked.
    bootstrapPeers: bootstrap.map((address) => peerOf(address) as string),
    onError: (err) => logger.warn({ err }, 'reloading the realm node list failed'),
  })
  // The handshake's proof check is the delegation alone (no `isMember`); the node list is the
  // network's member predicate, so a node admitted elsewhere a moment ago is refused and retried, not
  // banned, by nodes whose list lags, and a removed node is refused either way.
  const credentials = new DelegationRealmCredentials({
    realmId: realm.realmId,
    delegation: realm.delegation,
    peerId: identity.peerId,
    clockToleranceSeconds: 60,
  })
  const make = (listen: readonly string[]) =>
    createLibp2pNetwork({
      ...init.network,
      privateKey: identity.peerKey,
      credentials,
      listen: [...listen],
      bootstrap,
      isMember: membership.isMember,
      log: (entry) =>
        logger[entry.level === 'warn' ? 'warn' : 'debug'](
          { event: entry.event, peer: entry.peer },
          `p2p: ${entry.message}`,
        ),
    })
  const wanted =
    init.listen.length > 0 ? init.listen : realm.listen.length > 0 ? realm.listen : DEFAULT_LISTEN
  // The member predicate the network gets is the node list's, less the peers a fault test blocked.
  const blocked = new Set<string>()
  let predicate: (peer: string) => Promise<boolean> = membership.isMember
  const gated = (target: Libp2pNetwork): MembershipNetwork => ({
    get peerId() {
      return target.peerId
    },
    peers: () => target.peers(),
    on: (event, listener) => target.on(event, listener),
    setMembership: (isMember) => {
      predicate = async (peer) => !blocked.has(peer) && (await isMember(peer))
      target.setMembership(predicate)
    },
  })
  let network = await make(wanted)
  membership.attachNetwork(gated(network))
  try {
    await network.start()
  } catch (err) {
    if (init.listen.length > 0 || wanted === DEFAULT_LISTEN) throw err
    // The ports of the last run are taken: any free ones will do, peers learn them from the node list.
    logger.warn({ err, listen: wanted }, 'the previous p2p addresses are taken; listening on new ports')
    network = await make(DEFAULT_LISTEN)
    membership.attachNetwork(gated(network))
    await network.start()
  }
  let store: AutomergeOrgaStore
  try {
    store = await openDirectoryOrgaStore({
      directory: join(init.dataDir, 'orga'),
      network: [new AutomergeNetworkAdapter(network)],
      realm: { join: realm.realmUrl },
      loadTimeoutMs: init.loadTimeoutMs ?? 30_000,
      onListenerError: (err) => logger.warn({ err }, 'an organisation change listener failed'),
    })
    await membership.attachStore(store)
    if (!(await waitUntilListed(store, identity.peerId, init.loadTimeoutMs ?? 30_000))) {
      await store.close().catch(() => {})
      throw new NotListedError(
        `this node (${identity.peerId}) is not in the realm's node list: it was removed, or its join did not complete`,
      )
    }
    await store.updateNodeAddresses(identity.peerId, network.multiaddrs)
  } catch (err) {
    membership.close()
    await network.stop().catch(() => {})
    throw err
  }
  const opened = store
  const live = network
  // The node list knows every member's addresses: dial the ones not connected yet whenever it changes,
  // rather than waiting for the DHT to introduce them.
  const dialListed = () => {
    opened
      .listNodes()
      .then((nodes) =>
        live.connect(
          nodes.filter((node) => node.peerId !== identity.peerId).flatMap((node) => node.addresses),
        ),
      )
      .catch((err) => logger.debug({ err }, 'dialling listed nodes failed'))
  }
  const unsubscribe = opened.onChange((change) => {
    if (change.kind === 'node') dialListed()
  })
  dialListed()
  let stopping: Promise<void> | undefined
  /** Once: stop following changes, run `first` (a kill cuts libp2p here), close the store, stop the network. */
  const shutDown = (first: () => Promise<void>): Promise<void> => {
    stopping ??= (async () => {
      unsubscribe()
      membership.close()
      await first()
      await opened.close().catch((err) => logger.warn({ err }, 'closing the organisation store failed'))
      await live.stop().catch((err) => logger.warn({ err }, 'stopping the network failed'))
    })()
    return stopping
  }
  return {
    network,
    store: opened,
    membership,
    block(peers) {
      for (const peer of peers) blocked.add(peer)
      live.setMembership(predicate)
    },
    unblock(peers) {
      for (const peer of peers) blocked.delete(peer)
      live.setMembership(predicate)
      dialListed()
    },
    kill() {
      // libp2p itself first, not the network's orderly stop: peers are not told and must notice.
      return shutDown(() => Promise.resolve(live.libp2p?.stop()).catch(() => {}))
    },
    stop() {
      return shutDown(async () => {})
    },
  }
}
