/**
 * Storage quotas as pure functions over a `QuotaConfig`: checking an update, applying it, and the
 * effective quota of a group (its override's kinds, else the default's). The memory store and the
 * Automerge store share them, so both check and resolve identically.
 */

import { OrgaError } from './errors.js'
import type { EffectiveGroupQuota, GroupQuota, GroupQuotaUpdate, QuotaConfig, QuotaUpdate } from './types.js'
import { requireUlid } from './validation.js'

/** The two things a group quota limits. */
export const QUOTA_KINDS = ['bytes', 'objects'] as const
export type QuotaKind = (typeof QUOTA_KINDS)[number]

export const DEFAULT_GRACE_PERCENT = 0
export const DEFAULT_WARN_PERCENT = 90

/** What a realm without quota settings (a new one, or one older than quotas) reads as. */
export function defaultQuotaConfig(): QuotaConfig {
  return {
    defaultGroup: {},
    groups: {},
    gracePercent: DEFAULT_GRACE_PERCENT,
    warnPercent: DEFAULT_WARN_PERCENT,
  }
}

/** A byte or object limit: a non-negative safe integer (0: nothing may be stored). */
export function isQuotaLimit(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

export function isGracePercent(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 100
}

export function isWarnPercent(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 100
}

export function isGroupCap(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1
}

const UPDATE_FIELDS = new Set(['defaultGroup', 'groups', 'gracePercent', 'warnPercent', 'maxGroupsPerUser'])

function invalid(message: string): OrgaError {
  return new OrgaError('InvalidInput', message)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** One group's (or the default's) limits to set or remove; at least one. */
function checkLimits(value: unknown, what: string): GroupQuotaUpdate {
  if (!isPlainObject(value)) throw invalid(`${what} must be an object`)
  const checked: { bytes?: number | null; objects?: number | null } = {}
  for (const [key, limit] of Object.entries(value)) {
    if (limit === undefined) continue
    if (key !== 'bytes' && key !== 'objects') throw invalid(`${what} has an unknown field ${key}`)
    if (limit !== null && !isQuotaLimit(limit)) {
      throw invalid(`${what}.${key} must be a non-negative safe integer or null`)
    }
    checked[key] = limit
  }
  if (Object.keys(checked).length === 0) throw invalid(`${what} sets or removes no limit`)
  return checked
}

/**
 * An update with every field checked: limits non-negative safe integers (or `null`), `gracePercent` an
 * integer 0–100, `warnPercent` 1–100, `maxGroupsPerUser` an integer ≥ 1 (or `null`), group ids ULIDs;
 * no unknown field, and at least one change. Whether the groups exist is the store's check.
 */
export function checkQuotaUpdate(update: unknown): QuotaUpdate {
  if (!isPlainObject(update)) throw invalid('quota update must be an object')
  const out: {
    defaultGroup?: GroupQuotaUpdate
    groups?: Record<string, GroupQuotaUpdate | null>
    gracePercent?: number
    warnPercent?: number
    maxGroupsPerUser?: number | null
  } = {}
  for (const [key, value] of Object.entries(update)) {
    if (value === undefined) continue
    if (!UPDATE_FIELDS.has(key)) throw invalid(`quota update has an unknown field ${key}`)
  }
  const { defaultGroup, groups, gracePercent, warnPercent, maxGroupsPerUser } = update
  if (defaultGroup !== undefined) out.defaultGroup = checkLimits(defaultGroup, 'defaultGroup')
  if (groups !== undefined) {
    if (!isPlainObject(groups)) throw invalid('groups must be an object of group id → limits or null')
    const entries = Object.entries(groups).filter(([, value]) => value !== undefined)
    if (entries.length === 0) throw invalid('groups sets or removes no group quota')
    out.groups = {}
    for (const [groupId, value] of entries) {
      requireUlid(groupId, `group id ${JSON.stringify(groupId)} in groups`)
      out.groups[groupId] = value === null ? null : checkLimits(value, `groups.${groupId}`)
    }
  }
  if (gracePercent !== undefined) {
    if (!isGracePercent(gracePercent)) throw invalid('gracePercent must be an integer from 0 to 100')
    out.gracePercent = gracePercent
  }
  if (warnPercent !== undefined) {
    if (!isWarnPercent(warnPercent)) throw invalid('warnPercent must be an integer from 1 to 100')
    out.warnPercent = warnPercent
  }
  if (maxGroupsPerUser !== undefined) {
    if (maxGroupsPerUser !== null && !isGroupCap(maxGroupsPerUser)) {
      throw invalid('maxGroupsPerUser must be an integer ≥ 1 or null')
    }
    out.maxGroupsPerUser = maxGroupsPerUser
  }
  if (Object.keys(out).length === 0) throw invalid('the quota update changes nothing')
  return out
}

/** Applies limits to set or remove; `undefined` when no kind is left. */
export function applyLimits(
  current: GroupQuota | undefined,
  update: GroupQuotaUpdate,
): GroupQuota | undefined {
  const next: { bytes?: number; objects?: number } = { ...current }
  for (const kind of QUOTA_KINDS) {
    const value = update[kind]
    if (value === null) delete next[kind]
    else if (value !== undefined) next[kind] = value
  }
  return Object.keys(next).length === 0 ? undefined : next
}

/**
 * The config after `update`. Entries for groups `keepGroup` refuses are left out (the memory store's
 * replay of an override set for a group deleted meanwhile).
 */
export function applyQuotaUpdate(
  config: QuotaConfig,
  update: QuotaUpdate,
  keepGroup: (groupId: string) => boolean = () => true,
): QuotaConfig {
  const groups: Record<string, GroupQuota> = { ...config.groups }
  for (const [groupId, limits] of Object.entries(update.groups ?? {})) {
    if (!keepGroup(groupId)) continue
    const next = limits === null ? undefined : applyLimits(groups[groupId], limits)
    if (next === undefined) delete groups[groupId]
    else groups[groupId] = next
  }
  const maxGroupsPerUser =
    update.maxGroupsPerUser === undefined ? config.maxGroupsPerUser : (update.maxGroupsPerUser ?? undefined)
  return normalizeQuota({
    defaultGroup:
      update.defaultGroup === undefined
        ? config.defaultGroup
        : (applyLimits(config.defaultGroup, update.defaultGroup) ?? {}),
    groups,
    gracePercent: update.gracePercent ?? config.gracePercent,
    warnPercent: update.warnPercent ?? config.warnPercent,
    ...(maxGroupsPerUser === undefined ? {} : { maxGroupsPerUser }),
  })
}

/** A copy in canonical form: kinds in order, groups by id, so equal configs compare equal as JSON. */
export function normalizeQuota(config: QuotaConfig): QuotaConfig {
  const limits = (quota: GroupQuota): GroupQuota => ({
    ...(quota.bytes === undefined ? {} : { bytes: quota.bytes }),
    ...(quota.objects === undefined ? {} : { objects: quota.objects }),
  })
  const ids = Object.keys(config.groups).sort()
  return {
    defaultGroup: limits(config.defaultGroup),
    groups: Object.fromEntries(ids.map((id) => [id, limits(config.groups[id] as GroupQuota)])),
    gracePercent: config.gracePercent,
    warnPercent: config.warnPercent,
    ...(config.maxGroupsPerUser === undefined ? {} : { maxGroupsPerUser: config.maxGroupsPerUser }),
  }
}

/** The group ids an update names (to check they exist). */
export function quotaUpdateGroups(update: QuotaUpdate): string[] {
  return Object.keys(update.groups ?? {})
}

/**
 * The effective quota of a group: each kind its override sets, else the default's (absent: no limit),
 * with the realm's percents.
 */
export function groupQuota(config: QuotaConfig, groupId: string): EffectiveGroupQuota {
  const override = Object.hasOwn(config.groups, groupId) ? config.groups[groupId] : undefined
  const bytes = override?.bytes ?? config.defaultGroup.bytes
  const objects = override?.objects ?? config.defaultGroup.objects
  return {
    ...(bytes === undefined ? {} : { bytes }),
    ...(objects === undefined ? {} : { objects }),
    gracePercent: config.gracePercent,
    warnPercent: config.warnPercent,
  }
}

/** The refusal of a user joining one group too many. */
export function groupCapError(userId: string, cap: number): OrgaError {
  return new OrgaError(
    'LimitExceeded',
    `user ${userId} is a member of ${cap} group(s), the realm's maxGroupsPerUser (${cap}) allows no more`,
  )
}
