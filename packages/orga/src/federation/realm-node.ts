/**
 * One realm node's federation stack in a call: a libp2p network whose realm handshake shows this
 * node's delegation and checks peers' delegations against the realm document, a Repo syncing over it
 * (`AutomergeNetworkAdapter`), the `AutomergeOrgaStore` on that Repo, and the `RealmMembership` that
 * ties the network's membership to the store's node list.
 */

import {
  AutomergeNetworkAdapter,
  createLibp2pNetwork,
  type Libp2pNetwork,
  type Libp2pNetworkInit,
  peerIdOf,
} from '@aruna/network'
import { Repo, type StorageAdapterInterface } from '@automerge/automerge-repo'
import { AutomergeOrgaStore, type RealmGenesis } from '../automerge/store.js'
import { DelegationRealmCredentials } from '../realm-credentials.js'
import { RealmMembership } from './realm-membership.js'

export type PeerPrivateKey = NonNullable<Libp2pNetworkInit['privateKey']>

export interface StartRealmNodeOptions {
  /** The realm id (base64url of the realm's Ed25519 public key). */
  readonly realmId: string
  /** This node's libp2p key; its peer id is the node's id in the realm document. */
  readonly privateKey: PeerPrivateKey
  /** The realm's delegation of this key (`delegatePeer`). */
  readonly delegation: string
  /**
   * `create`: a new realm (the first node; it lists itself with `addresses` and kind `management`).
   * `join`: open the realm document at this URL, fetched from `bootstrapPeers`.
   */
  readonly realm: { readonly create: Omit<RealmGenesis, 'realmId'> } | { readonly join: string }
  /** Multiaddrs to dial at start (with `/p2p/<peer id>`). */
  readonly bootstrap?: readonly string[]
  /** Peers admitted before the realm document is loaded (the inviting node). */
  readonly bootstrapPeers?: readonly string[]
  /** Further network settings (transports, listen, timeouts). */
  readonly network?: Partial<Omit<Libp2pNetworkInit, 'credentials' | 'privateKey' | 'bootstrap' | 'isMember'>>
  /** Where the Repo keeps documents. Default: memory only. */
  readonly storage?: StorageAdapterInterface
  /** How long `join` waits for the realm documents. Default: the store's 10 s. */
  readonly loadTimeoutMs?: number
  readonly onError?: (err: unknown) => void
}

export interface RealmNode {
  readonly peerId: string
  readonly network: Libp2pNetwork
  readonly repo: Repo
  readonly store: AutomergeOrgaStore
  readonly membership: RealmMembership
  /** Closes the store and the Repo, then stops the network. */
  stop(): Promise<void>
}

export async function startRealmNode(options: StartRealmNodeOptions): Promise<RealmNode> {
  const peerId = peerIdOf(options.privateKey)
  const membership = new RealmMembership({
    bootstrapPeers: options.bootstrapPeers ?? [],
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  })
  const credentials = new DelegationRealmCredentials({
    realmId: options.realmId,
    delegation: options.delegation,
    peerId,
    isMember: membership.isListed,
  })
  const network = await createLibp2pNetwork({
    ...options.network,
    privateKey: options.privateKey,
    credentials,
    bootstrap: [...(options.bootstrap ?? [])],
    isMember: membership.isMember,
  })
  membership.attachNetwork(network)
  const adapter = new AutomergeNetworkAdapter(network)
  const repo = new Repo({
    network: [adapter],
    ...(options.storage === undefined ? {} : { storage: options.storage }),
  })
  let store: AutomergeOrgaStore | undefined
  try {
    if ('create' in options.realm) {
      store = await AutomergeOrgaStore.create({ repo, realmId: options.realmId, ...options.realm.create })
      await store.addNode({ peerId, kind: 'management', delegation: options.delegation, addresses: [] })
      await membership.attachStore(store)
      await network.start()
      await store.updateNodeAddresses(peerId, network.multiaddrs.map(String))
    } else {
      await network.start()
      store = await AutomergeOrgaStore.open({
        repo,
        realmUrl: options.realm.join,
        realmId: options.realmId,
        ...(options.loadTimeoutMs === undefined ? {} : { loadTimeoutMs: options.loadTimeoutMs }),
      })
      await membership.attachStore(store)
    }
  } catch (err) {
    membership.close()
    await store?.close().catch(() => {})
    await network.stop().catch(() => {})
    throw err
  }
  const opened = store
  let stopping: Promise<void> | undefined
  return {
    peerId,
    network,
    repo,
    store: opened,
    membership,
    stop: () => {
      stopping ??= (async () => {
        membership.close()
        await opened.close().catch(options.onError ?? (() => {}))
        await repo.shutdown().catch(() => {})
        await network.stop()
      })()
      return stopping
    },
  }
}
