/**
 * The Repo that carries a node's metadata documents: automerge-repo over the network package's
 * transport (`AutomergeNetworkAdapter` on its own protocol), an optional storage adapter (use
 * `FsyncStorageAdapter` from `@aruna/platform` so a crash loses nothing written), and a share
 * configuration from the placement:
 *
 * - a document is announced (pushed unasked) only to the nodes that hold it;
 * - a node serves a document only to its holders, and, when it is a holder itself, to realm members
 *   that ask for it (an entry node working for a user); a node that does not hold a document serves it
 *   to nobody but its holders.
 *
 * The share decision goes by the network peer the transport authenticated, never by the Repo peer id a
 * peer claims. Live nodes joining or leaving move holders: the Repo re-evaluates every document then.
 */
import {
  AutomergeNetworkAdapter,
  type AutomergeNetworkAdapterOptions,
  type Network,
  type NetworkError,
} from '@aruna/network'
import {
  type DocumentId,
  Repo,
  type PeerId as RepoPeerId,
  type StorageAdapterInterface,
} from '@automerge/automerge-repo'
import { MetadataError } from '../errors.js'
import type { MetadataPlacement } from './placement.js'

/** The protocol metadata documents sync on (orga documents use the network package's default). */
export const METADATA_SYNC_PROTOCOL_ID = '/aruna/metadata-sync/1.0.0'

export interface MetadataRepoInit {
  /** The node's network; its peer id must be the placement's `self`. */
  readonly network: Network
  /** Who holds which document. */
  readonly placement: MetadataPlacement
  /** Where documents are kept. Default: memory only. */
  readonly storage?: StorageAdapterInterface
  /** Adapter settings (protocol id default `METADATA_SYNC_PROTOCOL_ID`). */
  readonly adapter?: Omit<AutomergeNetworkAdapterOptions, 'onError'>
  /** Told about what the adapter drops or gives up on. */
  readonly onError?: (error: NetworkError) => void
}

export interface MetadataRepo {
  readonly repo: Repo
  readonly adapter: AutomergeNetworkAdapter
  readonly placement: MetadataPlacement
  /** Whether this node would send `documentId` to the Repo peer `peer` now (the share rule above). */
  mayServe(peer: RepoPeerId, documentId: DocumentId): boolean
  /** Re-evaluates which peers get which documents (after a change of factors). */
  refresh(): void
  /** Stops listening to the network and shuts the Repo down (its pending writes flushed). */
  close(): Promise<void>
}

export function createMetadataRepo(init: MetadataRepoInit): MetadataRepo {
  const { network, placement } = init
  if (network.peerId !== placement.self) {
    throw new MetadataError(
      'InvalidInput',
      `the placement is for ${placement.self}, the network is ${network.peerId}`,
    )
  }
  const adapter = new AutomergeNetworkAdapter(network, {
    protocolId: METADATA_SYNC_PROTOCOL_ID,
    ...init.adapter,
    onError: (error) => init.onError?.(error),
  })
  /** Whether the network peer behind the Repo peer `peer` holds the document. */
  const toHolder = (peer: RepoPeerId, documentId: DocumentId): boolean => {
    const node = adapter.networkPeerOf(peer)
    return node !== undefined && placement.holds(node, documentId)
  }
  const mayServe = (peer: RepoPeerId, documentId: DocumentId): boolean => {
    if (toHolder(peer, documentId)) return true
    const node = adapter.networkPeerOf(peer)
    return node !== undefined && placement.holds(placement.self, documentId) && placement.isMember(node)
  }
  const repo = new Repo({
    network: [adapter],
    peerId: `${network.peerId}-metadata` as RepoPeerId,
    ...(init.storage === undefined ? {} : { storage: init.storage }),
    shareConfig: {
      announce: async (peer, documentId) => documentId !== undefined && toHolder(peer, documentId),
      access: async (peer, documentId) => mayServe(peer, documentId),
    },
  })
  const membershipChanged = (): void => {
    placement.invalidate()
    repo.shareConfigChanged()
  }
  const unsubscribe = [
    network.on('peer:join', membershipChanged),
    network.on('peer:leave', membershipChanged),
    network.on('peer:unreachable', membershipChanged),
  ]
  let closing: Promise<void> | undefined
  return {
    repo,
    adapter,
    placement,
    mayServe,
    refresh: membershipChanged,
    close: () => {
      closing ??= (async () => {
        for (const stop of unsubscribe) stop()
        await repo.shutdown()
      })()
      return closing
    },
  }
}

/** The live nodes of a network (its live peers and itself), for `MetadataPlacement`'s `nodes`. */
export function liveNodesOf(network: Network): () => { id: string }[] {
  return () => [{ id: network.peerId }, ...network.peers().map((id) => ({ id }))]
}
