/**
 * Several memory replicas of one realm, for tests of what happens between nodes: each replica changes
 * on its own, and nothing passes between them until `settle()` (or `syncReplicas`) exchanges every
 * operation, after which all of them answer every read alike.
 */

import { OrgaError } from '../errors.js'
import { MemoryOrgaStore, type MemoryOrgaStoreInit } from './store.js'

export interface MemoryReplicas {
  readonly replicas: readonly MemoryOrgaStore[]
  /** Exchanges every operation between all replicas. */
  settle(): Promise<void>
}

/** Brings every replica up to the union of their operations. */
export function syncReplicas(replicas: readonly MemoryOrgaStore[]): void {
  for (const replica of replicas) replica.pull(...replicas.filter((other) => other !== replica))
}

/** `count` replicas of a new realm, named `{replicaId}-{i}` (default `replica-{i}`). */
export function createMemoryReplicas(count: number, init: MemoryOrgaStoreInit): MemoryReplicas {
  if (!Number.isInteger(count) || count < 1)
    throw new OrgaError('InvalidInput', 'count must be an integer ≥ 1')
  const createdAt = init.createdAt ?? (init.now ?? Date.now)()
  const prefix = init.replicaId ?? 'replica'
  const replicas = Array.from(
    { length: count },
    (_, i) => new MemoryOrgaStore({ ...init, createdAt, replicaId: `${prefix}-${i}` }),
  )
  return {
    replicas,
    settle: async () => syncReplicas(replicas),
  }
}
