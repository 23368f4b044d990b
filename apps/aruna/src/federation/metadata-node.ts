/**
 * The node's metadata: the realm's RO-Crate documents in an `AutomergeMetadataStore`, kept in
 * `{dataDir}/metadata` by the fsync-safe storage adapter and synced over libp2p
 * (`/aruna/metadata-sync/1.0.0`) to the holders a `MetadataPlacement` chooses: the catalog on every node,
 * each resource document on the metadata replication factor's share of the live nodes (all by
 * default). A node that holds no copy of a resource loads it from a holder when a user asks for it, so
 * every node answers for every resource. Packages provide the parts; this module composes them.
 */
import { join } from 'node:path'
import {
  AutomergeMetadataStore,
  createMetadataRepo,
  liveNodesOf,
  type MetadataFactor,
  MetadataPlacement,
  type MetadataRepo,
} from '@aruna/metadata'
import type { Network } from '@aruna/network'
import { FsyncStorageAdapter } from '@aruna/platform'
import type { Logger } from '../logger.js'

export interface MetadataNodeInit {
  readonly dataDir: string
  readonly network: Network
  /** The catalog to open; absent: create the realm's catalog here (its first node). */
  readonly catalogUrl: string | undefined
  /** How many live nodes hold each resource document. */
  readonly factor: MetadataFactor
  /** How long opening the catalog (first start after a join) and loading a document may take. */
  readonly loadTimeoutMs: number
  readonly logger: Logger
}

export interface MetadataNode {
  readonly store: AutomergeMetadataStore
  readonly repo: MetadataRepo
  readonly catalogUrl: string
  close(): Promise<void>
}

/** Resource documents idle this long leave memory (they stay on disk and are loaded again on use). */
const IDLE_MS = 5 * 60_000
/** At most this many resource documents stay in memory (about 90 KB each). */
const MAX_RESIDENT = 2_000

export class MetadataUnavailableError extends Error {
  override readonly name = 'MetadataUnavailableError'
}

export async function startMetadataNode(init: MetadataNodeInit): Promise<MetadataNode> {
  const storage = await FsyncStorageAdapter.open({ directory: join(init.dataDir, 'metadata') })
  // The catalog's id is known only once it is open; until then every document counts as the catalog
  // (held everywhere), which is true of the only document a node asks for before it.
  let catalogId: string | undefined
  const placement = new MetadataPlacement({
    self: init.network.peerId,
    nodes: liveNodesOf(init.network),
    factorOf: (documentId) => (catalogId === undefined || documentId === catalogId ? 'all' : init.factor),
  })
  const repo = createMetadataRepo({
    network: init.network,
    placement,
    storage,
    onError: (error) => init.logger.debug({ err: error }, `metadata sync: ${error.message}`),
  })
  const options = {
    repo: repo.repo,
    actor: init.network.peerId,
    loadTimeoutMs: init.loadTimeoutMs,
    idleMs: IDLE_MS,
    maxResident: MAX_RESIDENT,
    onListenerError: (err: unknown) => init.logger.warn({ err }, 'a metadata change listener failed'),
  }
  let store: AutomergeMetadataStore
  try {
    store =
      init.catalogUrl === undefined
        ? await AutomergeMetadataStore.create(options)
        : await AutomergeMetadataStore.open({ ...options, catalogUrl: init.catalogUrl })
  } catch (err) {
    await repo.close().catch(() => {})
    await storage.close()
    throw new MetadataUnavailableError(
      `the realm's metadata catalog could not be opened: ${err instanceof Error ? err.message : String(err)}`,
    )
  }
  catalogId = store.catalogUrl.slice('automerge:'.length)
  repo.refresh()
  let closing: Promise<void> | undefined
  return {
    store,
    repo,
    catalogUrl: store.catalogUrl,
    close() {
      closing ??= (async () => {
        await store.close().catch((err) => init.logger.warn({ err }, 'closing the metadata store failed'))
        await repo.close().catch((err) => init.logger.warn({ err }, 'closing the metadata repo failed'))
        // A Repo may still try to save (a peer's sync state) after it is shut down: nothing is written
        // once the storage is closed, so a stopped node's directory stays as it was left.
        await storage.close()
      })()
      return closing
    },
  }
}
