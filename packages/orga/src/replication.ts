/**
 * Replication settings as pure functions over a `ReplicationConfig`: checking factors, resolving the
 * factor for a path (longest matching prefix wins), and the warnings for factors the realm cannot meet.
 * The memory store and the Automerge store share them, so both resolve identically.
 */

import { MAX_PATH_LENGTH } from '@aruna/auth'
import { OrgaError } from './errors.js'
import { checkPrefix, prefixCovers } from './path-pattern.js'
import type {
  ReplicationConfig,
  ReplicationFactor,
  ReplicationKind,
  ReplicationOverride,
  ReplicationTarget,
  ReplicationUpdate,
  ReplicationWarning,
} from './types.js'
import { requireUlid } from './validation.js'

export const REPLICATION_KINDS: readonly ReplicationKind[] = ['data', 'metadata']

/** The largest numeric replication factor. */
export const MAX_REPLICATION_FACTOR = 1000

/**
 * Whether `value` is a replication factor: an integer from 1 to `MAX_REPLICATION_FACTOR`, or `'all'`.
 * The one check of a factor, wherever one is set or used (orga's config, metadata's placement).
 */
export function isReplicationFactor(value: unknown): value is ReplicationFactor {
  return (
    value === 'all' ||
    (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_REPLICATION_FACTOR)
  )
}

/** What a refused factor is told. */
export const REPLICATION_FACTOR_RULE = `a replication factor must be an integer from 1 to ${MAX_REPLICATION_FACTOR} or 'all'`

/** A factor (see `isReplicationFactor`); with `allowNull`, `null` too. `InvalidInput` otherwise. */
export function checkFactor(value: unknown, allowNull: boolean): ReplicationFactor | null {
  if (value === null && allowNull) return null
  if (isReplicationFactor(value)) return value
  throw new OrgaError('InvalidInput', REPLICATION_FACTOR_RULE)
}

/** A target with its group id or prefix checked (the prefix normalised). `InvalidInput` otherwise. */
export function checkTarget(target: unknown, realm: string): ReplicationTarget {
  const candidate = (typeof target === 'object' && target !== null ? target : {}) as Record<string, unknown>
  switch (candidate.scope) {
    case 'realm':
      return { scope: 'realm' }
    case 'group':
      return { scope: 'group', groupId: requireUlid(candidate.groupId, 'group id') }
    case 'path':
      return { scope: 'path', prefix: checkPrefix(candidate.prefix, realm) }
    default:
      throw new OrgaError('InvalidInput', 'target scope must be realm, group or path')
  }
}

/** An update setting at least one kind; `null` (removal) only for group and path overrides. */
export function checkUpdate(update: unknown, target: ReplicationTarget): ReplicationUpdate {
  if (typeof update !== 'object' || update === null)
    throw new OrgaError('InvalidInput', 'update must be an object')
  const checked: Partial<Record<ReplicationKind, ReplicationFactor | null>> = {}
  for (const kind of REPLICATION_KINDS) {
    const value = (update as ReplicationUpdate)[kind]
    if (value !== undefined) checked[kind] = checkFactor(value, target.scope !== 'realm')
  }
  if (Object.keys(checked).length === 0) throw new OrgaError('InvalidInput', 'the update sets no factor')
  return checked
}

/** The factors an update sets (its removals left out). */
export function withoutRemovals(update: ReplicationUpdate): ReplicationOverride {
  return Object.fromEntries(Object.entries(update).filter(([, value]) => value !== null))
}

/** The kind and path of a factor lookup. `InvalidInput` for another kind or a relative path. */
export function checkResolution(kind: unknown, path: unknown): { kind: ReplicationKind; path: string } {
  if (!REPLICATION_KINDS.includes(kind as ReplicationKind)) {
    throw new OrgaError('InvalidInput', 'kind must be data or metadata')
  }
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > MAX_PATH_LENGTH) {
    throw new OrgaError('InvalidInput', 'path must be an absolute resource path')
  }
  return { kind: kind as ReplicationKind, path }
}

/** Applies an update to an override; returns `undefined` when no kind is left. */
export function applyOverride(
  current: ReplicationOverride | undefined,
  update: Readonly<Partial<Record<ReplicationKind, ReplicationFactor | null>>>,
): ReplicationOverride | undefined {
  const next: Partial<Record<ReplicationKind, ReplicationFactor>> = { ...current }
  for (const kind of REPLICATION_KINDS) {
    const value = update[kind]
    if (value === null) delete next[kind]
    else if (value !== undefined) next[kind] = value
  }
  return Object.keys(next).length === 0 ? undefined : next
}

/** The factor a node count makes of a setting: `'all'` is every node, at least one. */
export function effectiveFactor(factor: ReplicationFactor, nodeCount: number): number {
  return factor === 'all' ? Math.max(1, nodeCount) : factor
}

/** The factor for `path`: the longest covering prefix that sets `kind`, a path override winning a tie. */
export function resolveFactor(
  config: ReplicationConfig,
  realm: string,
  kind: ReplicationKind,
  path: string,
  nodeCount: number,
): number {
  let best: { length: number; factor: ReplicationFactor; path: boolean } | undefined
  const consider = (prefix: string, override: ReplicationOverride, isPath: boolean): void => {
    const factor = override[kind]
    if (factor === undefined || !prefixCovers(prefix, path)) return
    const better =
      best === undefined || prefix.length > best.length || (prefix.length === best.length && isPath)
    if (better) best = { length: prefix.length, factor, path: isPath }
  }
  for (const [group, override] of Object.entries(config.groups))
    consider(`/${realm}/g/${group}`, override, false)
  for (const [prefix, override] of Object.entries(config.paths)) consider(prefix, override, true)
  return effectiveFactor(best?.factor ?? config.default[kind], nodeCount)
}

/** Warnings for the numeric factors of one target's override that exceed the node count. */
export function warningsFor(
  target: ReplicationTarget,
  override: ReplicationOverride,
  nodeCount: number,
): ReplicationWarning[] {
  const warnings: ReplicationWarning[] = []
  for (const kind of REPLICATION_KINDS) {
    const factor = override[kind]
    if (typeof factor === 'number' && factor > nodeCount) {
      warnings.push({
        code: 'FactorAboveNodeCount',
        target,
        kind,
        factor,
        nodes: nodeCount,
        message: `${kind} replication factor ${factor} is above the realm's ${nodeCount} node(s)`,
      })
    }
  }
  return warnings
}

/** Every warning of a config: the default, then groups by id, then prefixes in order. */
export function configWarnings(config: ReplicationConfig, nodeCount: number): ReplicationWarning[] {
  const byKey = <T>(entries: [string, T][]) => entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return [
    ...warningsFor({ scope: 'realm' }, config.default, nodeCount),
    ...byKey(Object.entries(config.groups)).flatMap(([groupId, o]) =>
      warningsFor({ scope: 'group', groupId }, o, nodeCount),
    ),
    ...byKey(Object.entries(config.paths)).flatMap(([prefix, o]) =>
      warningsFor({ scope: 'path', prefix }, o, nodeCount),
    ),
  ]
}
