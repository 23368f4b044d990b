/**
 * How many holders an object gets: a replication factor for the realm, overridden per group and per
 * path prefix. The longest matching path prefix wins, then the object's group, then the realm.
 */
import { DataError } from '../errors.js'

/** The largest numeric replication factor (as orga's config allows). */
export const MAX_REPLICATION_FACTOR = 1000

/** A number of holders (an integer from 1 to `MAX_REPLICATION_FACTOR`), or every eligible node. */
export type ReplicationFactor = number | 'all'

export interface ReplicationConfig {
  readonly realm: ReplicationFactor
  /** Group id → factor for that group's objects. */
  readonly groups?: Readonly<Record<string, ReplicationFactor>>
  /** Path prefix → factor; a prefix matches whole `/` segments of the object's path. */
  readonly paths?: Readonly<Record<string, ReplicationFactor>>
}

/** Where an object lives, for choosing its factor. */
export interface ObjectScope {
  readonly group?: string
  /** The object's path, e.g. `/{realm}/g/{group}/data/{bucket}/{key}`. */
  readonly path?: string
}

export function isReplicationFactor(value: unknown): value is ReplicationFactor {
  return (
    value === 'all' ||
    (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_REPLICATION_FACTOR)
  )
}

/** Checks every factor of a config. `InvalidArgument` naming the first bad one otherwise. */
export function validateReplicationConfig(config: ReplicationConfig): void {
  if (typeof config !== 'object' || config === null)
    throw new DataError('InvalidArgument', 'a replication config must be an object')
  check(config.realm, 'realm')
  for (const [group, factor] of Object.entries(config.groups ?? {})) check(factor, `group ${group}`)
  for (const [prefix, factor] of Object.entries(config.paths ?? {})) {
    if (prefix.length === 0) throw new DataError('InvalidArgument', 'a path prefix must not be empty')
    check(factor, `path ${prefix}`)
  }
}

function check(factor: unknown, where: string): void {
  if (!isReplicationFactor(factor)) {
    throw new DataError(
      'InvalidArgument',
      `${where}: a replication factor must be an integer from 1 to ${MAX_REPLICATION_FACTOR} or 'all'`,
    )
  }
}

/** The factor of an object: the longest path prefix covering its path, else its group's, else the realm's. */
export function replicationFactorFor(config: ReplicationConfig, scope: ObjectScope = {}): ReplicationFactor {
  if (scope.path !== undefined && config.paths !== undefined) {
    let best: { length: number; factor: ReplicationFactor } | undefined
    for (const [prefix, factor] of Object.entries(config.paths)) {
      if (covers(prefix, scope.path) && (best === undefined || prefix.length > best.length))
        best = { length: prefix.length, factor }
    }
    if (best !== undefined) return best.factor
  }
  if (scope.group !== undefined && config.groups !== undefined && Object.hasOwn(config.groups, scope.group))
    return config.groups[scope.group] as ReplicationFactor
  return config.realm
}

/** Whether `prefix` covers `path` on whole segments (`/a/b` covers `/a/b` and `/a/b/c`, not `/a/bc`). */
function covers(prefix: string, path: string): boolean {
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix
  return path === base || path.startsWith(`${base}/`)
}
