/**
 * The storage quota config in the realm document (`quota`, see `StoredQuota`). Realm documents made
 * before quotas lack the map and read as the defaults; the first `setQuota` creates it. Two replicas
 * may create it at once, and Automerge then keeps both maps as conflicting values of `quota`: writers
 * write every copy (so after a merge, every later change reaches each), and readers take each field
 * from the first copy, in op id order, that holds a valid value, so every replica reads alike.
 */

import { isUlid } from '@aruna/platform'
import { getConflicts } from '@automerge/automerge'
import {
  DEFAULT_GRACE_PERCENT,
  DEFAULT_WARN_PERCENT,
  defaultQuotaConfig,
  isGracePercent,
  isGroupCap,
  isQuotaLimit,
  isWarnPercent,
  normalizeQuota,
  QUOTA_KINDS,
} from '../quota.js'
import type { GroupQuota, QuotaConfig, QuotaUpdate } from '../types.js'
import type { RealmDoc, StoredQuota } from './schema.js'

type Loose = Record<string, unknown>

/** What a new realm document starts with. */
export function emptyStoredQuota(): StoredQuota {
  return { defaultGroup: {}, groups: { bytes: {}, objects: {} } }
}

/** A map (not a list, an `ImmutableString`, a counter or bytes a careless peer may have put there). */
function isMap(value: unknown): value is Loose {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
}

/** Any object but a list, when reading (documents from peers are not trusted to be well formed). */
function isObject(value: unknown): value is Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function record(value: unknown): Loose {
  return isObject(value) ? value : {}
}

/** Automerge hands some large integers (2^53 − 1 among them) back as `bigint`: numbers again. */
function numeric(value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value
}

/** A realm document without quota settings: the same frozen value every time, so views compare equal. */
const DEFAULTS: QuotaConfig = Object.freeze(defaultQuotaConfig())

/**
 * The quota config from the copies of the realm document's `quota` field (in op id order; usually one).
 * Values that fail the store's checks are skipped: the default stands in for them.
 */
export function decodeQuota(copies: readonly unknown[]): QuotaConfig {
  const maps = copies.filter(isObject)
  if (maps.length === 0) return DEFAULTS
  const first = <T>(read: (map: Loose) => unknown, check: (value: unknown) => value is T): T | undefined => {
    for (const map of maps) {
      const value = numeric(read(map))
      if (check(value)) return value
    }
    return undefined
  }
  const defaultGroup: { bytes?: number; objects?: number } = {}
  const groups: Record<string, { bytes?: number; objects?: number }> = {}
  for (const kind of QUOTA_KINDS) {
    const limit = first((map) => record(map.defaultGroup)[kind], isQuotaLimit)
    if (limit !== undefined) defaultGroup[kind] = limit
    for (const map of maps) {
      for (const [groupId, value] of Object.entries(record(record(map.groups)[kind]))) {
        const limit = numeric(value)
        if (!isUlid(groupId) || !isQuotaLimit(limit) || groups[groupId]?.[kind] !== undefined) continue
        groups[groupId] = { ...groups[groupId], [kind]: limit }
      }
    }
  }
  const maxGroupsPerUser = first((map) => map.maxGroupsPerUser, isGroupCap)
  return normalizeQuota({
    defaultGroup,
    groups: groups as Record<string, GroupQuota>,
    gracePercent: first((map) => map.gracePercent, isGracePercent) ?? DEFAULT_GRACE_PERCENT,
    warnPercent: first((map) => map.warnPercent, isWarnPercent) ?? DEFAULT_WARN_PERCENT,
    ...(maxGroupsPerUser === undefined ? {} : { maxGroupsPerUser }),
  })
}

/** Every copy of the `quota` map in a document being changed (none before the first `setQuota`). */
function quotaMaps(doc: RealmDoc): Loose[] {
  const conflicts = getConflicts(doc, 'quota') as Loose | undefined
  const values = conflicts === undefined ? [doc.quota] : Object.values(conflicts)
  return values.filter(isMap)
}

/** The nested map `map[key]`, made anew if a careless peer left something else there. */
function child(map: Loose, key: string): Loose {
  if (!isMap(map[key])) map[key] = {}
  return map[key] as Loose
}

function put(map: Loose, key: string, value: number | null): void {
  if (value === null) {
    if (key in map) delete map[key]
  } else if (map[key] !== value) {
    map[key] = value
  }
}

/** Writes an update (already checked) into every copy of `quota`, creating the map when it is missing. */
export function writeQuota(doc: RealmDoc, update: QuotaUpdate): void {
  if (!isMap(doc.quota)) doc.quota = emptyStoredQuota()
  for (const map of quotaMaps(doc)) {
    if (update.defaultGroup !== undefined) {
      const defaults = child(map, 'defaultGroup')
      for (const kind of QUOTA_KINDS) {
        const value = update.defaultGroup[kind]
        if (value !== undefined) put(defaults, kind, value)
      }
    }
    for (const [groupId, limits] of Object.entries(update.groups ?? {})) {
      const groups = child(map, 'groups')
      for (const kind of QUOTA_KINDS) {
        const value = limits === null ? null : limits[kind]
        if (value !== undefined) put(child(groups, kind), groupId, value)
      }
    }
    if (update.gracePercent !== undefined) put(map, 'gracePercent', update.gracePercent)
    if (update.warnPercent !== undefined) put(map, 'warnPercent', update.warnPercent)
    if (update.maxGroupsPerUser !== undefined) put(map, 'maxGroupsPerUser', update.maxGroupsPerUser)
  }
}

/** Removes a group's overrides from every copy (when the group is deleted). */
export function deleteGroupQuota(doc: RealmDoc, groupId: string): void {
  for (const map of quotaMaps(doc)) {
    const groups = isMap(map.groups) ? map.groups : {}
    for (const kind of QUOTA_KINDS) {
      const limits = groups[kind]
      if (isMap(limits) && groupId in limits) delete limits[groupId]
    }
  }
}
