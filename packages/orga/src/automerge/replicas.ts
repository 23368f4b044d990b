/**
 * Several Automerge replicas of one realm in one process, each with its own Repo, joined by an
 * in-process network: the real store's counterpart of `createMemoryReplicas`, for tests of what
 * happens between nodes. Changes cross whenever the network delivers them; `settle()` waits (bounded)
 * until every replica holds the same documents at the same heads.
 */

import { type PeerId, Repo, type StorageAdapterInterface } from '@automerge/automerge-repo'
import { OrgaError } from '../errors.js'
import type { OrgaChange } from '../types.js'
import { InProcessSyncNetwork } from './in-process-network.js'
import { AutomergeOrgaStore, type RealmGenesis } from './store.js'

export interface AutomergeReplicasInit extends RealmGenesis {
  readonly now?: () => number
  readonly onListenerError?: (err: unknown, change: OrgaChange) => void
  /** Storage for replica `index`. Default: none (documents live in memory only). */
  readonly storage?: (index: number) => StorageAdapterInterface | Promise<StorageAdapterInterface>
  /** How long `settle()` (and joining) may take. Default: 10 s. */
  readonly timeoutMs?: number
}

export interface AutomergeReplicas {
  readonly replicas: readonly AutomergeOrgaStore[]
  readonly repos: readonly Repo[]
  readonly network: InProcessSyncNetwork
  /**
   * Resolves once every replica holds every document at the same heads; throws after the timeout. Ends
   * a `partition()` first.
   */
  settle(): Promise<void>
  /** Holds every message back until the next `settle()` (`network.pause()`): edits made meanwhile are concurrent. */
  partition(): void
  /** Closes every replica and disconnects every Repo. */
  close(): Promise<void>
}

/** `count` replicas of a new realm; replica 0 creates it, the others join through the network. */
export async function createAutomergeReplicas(
  count: number,
  init: AutomergeReplicasInit,
): Promise<AutomergeReplicas> {
  if (!Number.isInteger(count) || count < 1)
    throw new OrgaError('InvalidInput', 'count must be an integer ≥ 1')
  const timeoutMs = init.timeoutMs ?? 10_000
  const network = new InProcessSyncNetwork()
  const repos: Repo[] = []
  for (let i = 0; i < count; i++) {
    const storage = await init.storage?.(i)
    repos.push(
      new Repo({
        network: [network.adapter()],
        peerId: `replica-${i}` as PeerId,
        ...(storage === undefined ? {} : { storage }),
      }),
    )
  }
  const options = { now: init.now, onListenerError: init.onListenerError, closeRepo: true }
  const first = await AutomergeOrgaStore.create({ ...init, ...options, repo: repos[0]! })
  const replicas = [first]
  for (const repo of repos.slice(1)) {
    const joined = await waitUntil(() => repo.peers.length >= 1, Date.now() + timeoutMs)
    if (!joined) throw new Error('a replica did not connect to the in-process network in time')
    replicas.push(
      await AutomergeOrgaStore.open({ ...options, repo, realmUrl: first.realmUrl, loadTimeoutMs: timeoutMs }),
    )
  }
  return {
    replicas,
    repos,
    network,
    settle: () => {
      network.resume()
      return settleReplicas(replicas, timeoutMs)
    },
    partition: () => network.pause(),
    close: async () => {
      for (const replica of replicas) await replica.close()
    },
  }
}

/**
 * Waits until the replicas agree: nothing left to load, and the same documents at the same heads on
 * all of them, twice in a row (so a change already in flight is not mistaken for agreement).
 */
export async function settleReplicas(
  replicas: readonly AutomergeOrgaStore[],
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let agreedBefore = false
  for (;;) {
    const agreed = replicasAgree(replicas)
    if (agreed && agreedBefore) return
    agreedBefore = agreed
    if (Date.now() >= deadline) {
      throw new Error(`the replicas did not settle within ${timeoutMs} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, agreed ? 1 : 5))
  }
}

function replicasAgree(replicas: readonly AutomergeOrgaStore[]): boolean {
  const statuses = replicas.map((replica) => replica.syncStatus())
  if (statuses.some((status) => status.pending > 0)) return false
  const fingerprints = statuses.map((status) => JSON.stringify(Object.entries(status.heads).sort()))
  return fingerprints.every((fingerprint) => fingerprint === fingerprints[0])
}

async function waitUntil(check: () => boolean, deadline: number): Promise<boolean> {
  for (;;) {
    if (check()) return true
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
