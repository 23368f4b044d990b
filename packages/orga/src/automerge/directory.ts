/**
 * A node's organisation on its own disk: the documents in an `FsyncStorageAdapter` under
 * `{directory}/documents`, and the realm document's URL in `{directory}/realm-url` (the root from
 * which everything else is found). The first start creates the realm (`aruna init`) or joins one by
 * its URL (`aruna join`); every later start reopens what the directory holds.
 */

import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { FsyncStorageAdapter, writeFileDurably } from '@aruna/platform'
import { type NetworkAdapterInterface, type PeerId, Repo, type RepoConfig } from '@automerge/automerge-repo'
import { OrgaError } from '../errors.js'
import { AutomergeOrgaStore, type AutomergeOrgaStoreOptions, type RealmGenesis } from './store.js'

export interface DirectoryOrgaStoreOptions extends Omit<AutomergeOrgaStoreOptions, 'repo' | 'closeRepo'> {
  /** Where the node keeps its organisation; created if missing. */
  readonly directory: string
  /** The Repo's network adapters (the libp2p sync transport); none for a node on its own. */
  readonly network?: readonly NetworkAdapterInterface[]
  /** The Repo's peer id. Default: a random one. */
  readonly peerId?: string
  /** Which peers may receive which documents (e.g. members only). Default: automerge-repo's. */
  readonly shareConfig?: RepoConfig['shareConfig']
  /**
   * For a directory without a realm: create one, or join the realm whose document has this URL. When
   * the directory already holds a realm this must be absent or name the same realm.
   */
  readonly realm?: { readonly create: RealmGenesis } | { readonly join: string }
}

const REALM_URL_FILE = 'realm-url'

/**
 * Opens the organisation kept in `options.directory`. The store's `close()` writes everything and
 * disconnects the Repo.
 * @throws `InvalidInput` when the directory holds no realm and `options.realm` says none to make, or
 *   holds another realm than `options.realm` names.
 */
export async function openDirectoryOrgaStore(
  options: DirectoryOrgaStoreOptions,
): Promise<AutomergeOrgaStore> {
  const storage = await FsyncStorageAdapter.open({ directory: join(options.directory, 'documents') })
  await removeLeftovers(options.directory)
  const saved = await readRealmUrl(options.directory)
  const wanted = options.realm
  if (saved === undefined && wanted === undefined) {
    throw new OrgaError('InvalidInput', 'the directory holds no realm: create or join one')
  }
  if (saved !== undefined && wanted !== undefined && 'join' in wanted && wanted.join !== saved) {
    throw new OrgaError('InvalidInput', 'the directory holds another realm')
  }
  const repo = new Repo({
    storage,
    network: [...(options.network ?? [])],
    ...(options.peerId === undefined ? {} : { peerId: options.peerId as PeerId }),
    ...(options.shareConfig === undefined ? {} : { shareConfig: options.shareConfig }),
  })
  // The Repo writes its storage id when it starts; let that finish before anything can fail.
  await repo.storageId()
  const common = { ...options, repo, closeRepo: true, onClose: () => storage.close() }
  try {
    let store: AutomergeOrgaStore
    if (saved !== undefined) {
      const realmId = wanted !== undefined && 'create' in wanted ? wanted.create.realmId : undefined
      store = await AutomergeOrgaStore.open({
        ...common,
        realmUrl: saved,
        ...(realmId === undefined ? {} : { realmId }),
      })
    } else if (wanted !== undefined && 'create' in wanted) {
      store = await AutomergeOrgaStore.create({ ...common, ...wanted.create })
    } else {
      store = await AutomergeOrgaStore.open({ ...common, realmUrl: (wanted as { join: string }).join })
    }
    if (saved === undefined) {
      await writeFileDurably(join(options.directory, REALM_URL_FILE), store.realmUrl)
    }
    return store
  } catch (err) {
    repo.networkSubsystem.disconnect()
    await storage.close()
    throw err
  }
}

async function readRealmUrl(directory: string): Promise<string | undefined> {
  try {
    return (await readFile(join(directory, REALM_URL_FILE), 'utf8')).trim()
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined
    throw err
  }
}

/** Temp files of an interrupted `writeFileDurably` of the realm URL. */
async function removeLeftovers(directory: string): Promise<void> {
  for (const name of await readdir(directory)) {
    if (name.startsWith('.') && name.endsWith('.tmp')) await rm(join(directory, name), { force: true })
  }
}
