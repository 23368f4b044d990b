/**
 * Reading the stored documents back into plain values. Documents arrive from other nodes, so nothing
 * in them is trusted: a field of the wrong type or an entry that would fail the store's own input
 * checks is skipped, never thrown on, so one bad entry cannot make a realm unreadable.
 */

import { isUlid } from '@aruna/platform'
import { getConflicts } from '@automerge/automerge'
import { isImmutableString } from '@automerge/automerge-repo'
import { isOrgaError } from '../errors.js'
import { checkPrefix, checkRules } from '../path-pattern.js'
import { checkFactor } from '../replication.js'
import type {
  AccessKeyRecord,
  NodeRecord,
  OidcSubject,
  PermissionRule,
  QuotaConfig,
  ReplicationFactor,
  ReplicationFactors,
  ReplicationOverride,
} from '../types.js'
import * as input from '../validation.js'
import { decodeQuota } from './quota-document.js'
import { GROUP_DOC_KIND, REALM_DOC_KIND, USER_DOC_KIND } from './schema.js'

export interface DecodedRole {
  readonly id: string
  readonly name: string
  readonly createdAt: number
  readonly rules: readonly PermissionRule[]
  readonly members: ReadonlySet<string>
}

export interface DecodedInvite {
  readonly id: string
  readonly secretHash: string
  readonly createdAt: number
  readonly expiresAt: number
  readonly cancelled: boolean
  /** Every redemption, earliest first (ties by peer id): the first one is the invite's. */
  readonly redemptions: readonly { readonly peerId: string; readonly at: number }[]
}

export interface DecodedNode {
  readonly record: NodeRecord
  readonly invite: string | undefined
}

export interface DecodedRealm {
  readonly realmId: string
  readonly name: string
  readonly createdAt: number
  readonly replicationDefault: ReplicationFactors
  readonly groupOverrides: ReadonlyMap<string, ReplicationOverride>
  readonly pathOverrides: ReadonlyMap<string, ReplicationOverride>
  /** Group overrides of every well-formed group id, listed or not (the view keeps the listed ones). */
  readonly quota: QuotaConfig
  readonly nodes: ReadonlyMap<string, DecodedNode>
  readonly invites: ReadonlyMap<string, DecodedInvite>
  readonly revoked: ReadonlySet<string>
  readonly groupUrls: ReadonlyMap<string, string>
  readonly userUrls: ReadonlyMap<string, string>
  readonly roles: ReadonlyMap<string, DecodedRole>
  /** Every well-formed access key record, revoked or not, whoever its user (id → frozen record). */
  readonly accessKeys: ReadonlyMap<string, AccessKeyRecord>
  readonly revokedAccessKeys: ReadonlySet<string>
}

export interface DecodedGroup {
  readonly id: string
  readonly name: string
  readonly createdAt: number
  readonly members: ReadonlySet<string>
  readonly roles: ReadonlyMap<string, DecodedRole>
}

export interface DecodedUser {
  readonly id: string
  readonly displayName: string
  readonly createdAt: number
  readonly identities: readonly OidcSubject[]
  readonly attributes: Readonly<Record<string, string>>
}

type Loose = Record<string, unknown>

/**
 * Remembers what parts of documents decoded to. Automerge shares unchanged objects between versions
 * of a document, so a change to one user's entry re-reads that entry, not the whole realm.
 */
export class DecodeCache {
  readonly #maps = new Map<string, WeakMap<object, unknown>>()

  get<T>(part: string, value: unknown, decode: () => T): T {
    if (typeof value !== 'object' || value === null) return decode()
    let map = this.#maps.get(part)
    if (map === undefined) {
      map = new WeakMap()
      this.#maps.set(part, map)
    }
    if (map.has(value)) return map.get(value) as T
    const decoded = decode()
    map.set(value, decoded)
    return decoded
  }
}

/** A plain string, or the value of an `ImmutableString`. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (isImmutableString(value)) return value.val
  return undefined
}

function number(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

function record(value: unknown): Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Loose) : {}
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

/** `check(value)`, or `undefined` when the check refuses it. */
function valid<T>(check: () => T): T | undefined {
  try {
    return check()
  } catch (err) {
    if (isOrgaError(err)) return undefined
    throw err
  }
}

/** The keys of a map-to-`true` that pass `keep`. */
function keySet(value: unknown, keep: (key: string) => boolean): Set<string> {
  return new Set(
    Object.entries(record(value))
      .filter(([key, flag]) => flag === true && keep(key))
      .map(([key]) => key),
  )
}

function factor(value: unknown): ReplicationFactor | undefined {
  return valid(() => checkFactor(text(value) ?? value, false) ?? undefined)
}

function overrides(
  value: unknown,
  keep: (key: string) => string | undefined,
): Map<string, ReplicationOverride> {
  const out = new Map<string, Partial<Record<'data' | 'metadata', ReplicationFactor>>>()
  const maps = record(value)
  for (const kind of ['data', 'metadata'] as const) {
    for (const [key, stored] of Object.entries(record(maps[kind]))) {
      const target = keep(key)
      const checked = factor(stored)
      if (target === undefined || checked === undefined) continue
      out.set(target, { ...out.get(target), [kind]: checked })
    }
  }
  return out
}

function decodeRoles(
  value: unknown,
  realmId: string,
  groupId: string | undefined,
  cache: DecodeCache,
): Map<string, DecodedRole> {
  const roles = new Map<string, DecodedRole>()
  for (const [id, stored] of Object.entries(record(value))) {
    const decoded = cache.get('role', stored, () => decodeRole(id, stored, realmId, groupId))
    if (decoded !== undefined) roles.set(id, decoded)
  }
  return roles
}

function decodeRole(
  id: string,
  stored: unknown,
  realmId: string,
  groupId: string | undefined,
): DecodedRole | undefined {
  const role = record(stored)
  const name = valid(() => input.requireName(text(role.name), 'role name'))
  const createdAt = number(role.createdAt)
  // A role with any malformed rule is dropped whole: keeping the rest could lose a DENY.
  const rules = valid(() =>
    checkRules(
      (Array.isArray(role.rules) ? role.rules : [null]).map((rule) => {
        const fields = record(rule)
        return { pattern: text(fields.pattern), permission: text(fields.permission) }
      }),
      realmId,
      groupId,
    ),
  )
  if (!isUlid(id) || name === undefined || createdAt === undefined || rules === undefined) return undefined
  return { id, name, createdAt, rules, members: keySet(role.members, isUlid) }
}

function decodeNodes(value: unknown, cache: DecodeCache): Map<string, DecodedNode> {
  const nodes = new Map<string, DecodedNode>()
  for (const [peerId, stored] of Object.entries(record(value))) {
    const decoded = cache.get('node', stored, () => decodeNode(peerId, stored))
    if (decoded !== undefined) nodes.set(peerId, decoded)
  }
  return nodes
}

function decodeNode(peerId: string, stored: unknown): DecodedNode | undefined {
  const node = record(stored)
  const checked = valid(() =>
    input.requireNodeInit({
      peerId,
      kind: text(node.kind),
      delegation: text(node.delegation),
      addresses: Array.isArray(node.addresses) ? node.addresses.map(text) : undefined,
    }),
  )
  const addedAt = number(node.addedAt)
  if (checked === undefined || addedAt === undefined) return undefined
  return { record: { ...checked, addedAt }, invite: text(node.invite) }
}

function decodeInvites(value: unknown, cache: DecodeCache): Map<string, DecodedInvite> {
  const invites = new Map<string, DecodedInvite>()
  for (const [id, stored] of Object.entries(record(value))) {
    const decoded = cache.get('invite', stored, () => decodeInvite(id, stored))
    if (decoded !== undefined) invites.set(id, decoded)
  }
  return invites
}

function decodeInvite(id: string, stored: unknown): DecodedInvite | undefined {
  const invite = record(stored)
  const secretHash = text(invite.secretHash)
  const createdAt = number(invite.createdAt)
  const expiresAt = number(invite.expiresAt)
  if (!isUlid(id) || secretHash === undefined || createdAt === undefined || expiresAt === undefined) {
    return undefined
  }
  const redemptions = Object.entries(record(invite.redemptions))
    .map(([peerId, at]) => ({ peerId, at: number(at) }))
    .filter((entry): entry is { peerId: string; at: number } => {
      return entry.at !== undefined && valid(() => input.requirePeerId(entry.peerId)) !== undefined
    })
    .sort((a, b) => a.at - b.at || (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0))
  return { id, secretHash, createdAt, expiresAt, cancelled: invite.cancelled === true, redemptions }
}

/**
 * The values of a realm document's field. Usually one; a field created lazily (the access key maps
 * and the quota map of a realm document older than them) may have been created on two replicas at once, and then Automerge
 * keeps every copy as a conflict: all of them count, in an order every replica shares.
 */
function copies(doc: unknown, fields: Loose, prop: string): unknown[] {
  let conflicts: Record<string, unknown> | undefined
  try {
    conflicts = getConflicts(doc as Record<string, unknown>, prop) as Record<string, unknown> | undefined
  } catch {
    conflicts = undefined // not an Automerge document (a plain object in a test)
  }
  if (conflicts === undefined || Object.keys(conflicts).length < 2) return [fields[prop]]
  return Object.keys(conflicts)
    .sort()
    .map((opId) => conflicts[opId])
}

function decodeAccessKeys(maps: readonly unknown[], cache: DecodeCache): Map<string, AccessKeyRecord> {
  const keys = new Map<string, AccessKeyRecord>()
  for (const map of maps) {
    for (const [id, stored] of Object.entries(record(map))) {
      if (keys.has(id)) continue
      const decoded = cache.get('access-key', stored, () => decodeAccessKey(id, stored))
      if (decoded !== undefined) keys.set(id, decoded)
    }
  }
  return keys
}

function decodeAccessKey(id: string, stored: unknown): AccessKeyRecord | undefined {
  const key = record(stored)
  const sealed = record(key.sealed)
  const field = (value: unknown) => text(value) ?? value
  return valid(() =>
    input.requireAccessKeyRecord({
      accessKeyId: id,
      userId: field(key.userId),
      createdAt: key.createdAt,
      ...(key.description === undefined ? {} : { description: field(key.description) }),
      sealed: {
        keyId: field(sealed.keyId),
        iv: field(sealed.iv),
        ciphertext: field(sealed.ciphertext),
        tag: field(sealed.tag),
      },
    }),
  )
}

function revokedAccessKeys(maps: readonly unknown[]): Set<string> {
  const revoked = new Set<string>()
  for (const map of maps) {
    for (const id of keySet(map, (key) => input.ACCESS_KEY_ID.test(key))) revoked.add(id)
  }
  return revoked
}

function urls(value: unknown): Map<string, string> {
  const out = new Map<string, string>()
  for (const [id, url] of Object.entries(record(value))) {
    const checked = text(url)
    if (isUlid(id) && checked !== undefined) out.set(id, checked)
  }
  return out
}

/** The realm document, or `undefined` when it is not one (wrong kind, or another realm). */
export function decodeRealm(
  doc: unknown,
  realmId?: string,
  cache: DecodeCache = new DecodeCache(),
): DecodedRealm | undefined {
  const fields = record(doc)
  const id = valid(() => input.requireRealmId(text(fields.realmId)))
  if (text(fields.kind) !== REALM_DOC_KIND || id === undefined || (realmId !== undefined && id !== realmId)) {
    return undefined
  }
  const replication = record(fields.replication)
  const defaults = record(replication.default)
  return {
    realmId: id,
    name: valid(() => input.requireName(text(fields.name), 'realm name')) ?? id,
    createdAt: number(fields.createdAt) ?? 0,
    replicationDefault: { data: factor(defaults.data) ?? 3, metadata: factor(defaults.metadata) ?? 'all' },
    groupOverrides: cache.get('group-overrides', replication.groups, () =>
      overrides(replication.groups, (key) => (isUlid(key) ? key : undefined)),
    ),
    pathOverrides: cache.get('path-overrides', replication.paths, () =>
      overrides(replication.paths, (key) => (valid(() => checkPrefix(key, id)) === key ? key : undefined)),
    ),
    quota: quotaOf(doc, fields, cache),
    nodes: cache.get('nodes', fields.nodes, () => decodeNodes(fields.nodes, cache)),
    invites: cache.get('invites', fields.invites, () => decodeInvites(fields.invites, cache)),
    revoked: cache.get('revoked', fields.revokedTokens, () =>
      keySet(fields.revokedTokens, (jti) => valid(() => input.requireJti(jti)) !== undefined),
    ),
    groupUrls: cache.get('urls', fields.groups, () => urls(fields.groups)),
    userUrls: cache.get('urls', fields.users, () => urls(fields.users)),
    roles: cache.get('roles', fields.roles, () => decodeRoles(fields.roles, id, undefined, cache)),
    ...decodeAccessKeyMaps(doc, fields, cache),
  }
}

function quotaOf(doc: unknown, fields: Loose, cache: DecodeCache): QuotaConfig {
  const maps = copies(doc, fields, 'quota')
  return maps.length === 1 ? cache.get('quota', maps[0], () => decodeQuota(maps)) : decodeQuota(maps)
}

const EMPTY = Object.freeze({})

function decodeAccessKeyMaps(
  doc: unknown,
  fields: Loose,
  cache: DecodeCache,
): Pick<DecodedRealm, 'accessKeys' | 'revokedAccessKeys'> {
  const keys = copies(doc, fields, 'accessKeys')
  const revoked = copies(doc, fields, 'revokedAccessKeys')
  // A realm document older than access keys: the same empty values every time, so views compare equal.
  const absent = (value: unknown) => typeof value !== 'object' || value === null
  if (keys.length === 1 && absent(keys[0])) keys[0] = EMPTY
  if (revoked.length === 1 && absent(revoked[0])) revoked[0] = EMPTY
  return {
    // One copy (the usual case) is cached by its object, like every other part.
    accessKeys:
      keys.length === 1
        ? cache.get('access-keys', keys[0], () => decodeAccessKeys(keys, cache))
        : decodeAccessKeys(keys, cache),
    revokedAccessKeys:
      revoked.length === 1
        ? cache.get('revoked-access-keys', revoked[0], () => revokedAccessKeys(revoked))
        : revokedAccessKeys(revoked),
  }
}

/** A group document, or `undefined` when it is not the group `groupId`'s. */
export function decodeGroup(
  doc: unknown,
  groupId: string,
  realmId: string,
  cache: DecodeCache = new DecodeCache(),
): DecodedGroup | undefined {
  const fields = record(doc)
  const name = valid(() => input.requireName(text(fields.name), 'group name'))
  const createdAt = number(fields.createdAt)
  if (text(fields.kind) !== GROUP_DOC_KIND || text(fields.id) !== groupId) return undefined
  if (name === undefined || createdAt === undefined) return undefined
  return {
    id: groupId,
    name,
    createdAt,
    members: keySet(fields.members, isUlid),
    roles: cache.get('roles', fields.roles, () => decodeRoles(fields.roles, realmId, groupId, cache)),
  }
}

/** A user document, or `undefined` when it is not the user `userId`'s or has no identity. */
export function decodeUser(doc: unknown, userId: string): DecodedUser | undefined {
  const fields = record(doc)
  const displayName = valid(() => input.requireName(text(fields.displayName), 'display name'))
  const createdAt = number(fields.createdAt)
  if (text(fields.kind) !== USER_DOC_KIND || text(fields.id) !== userId) return undefined
  if (displayName === undefined || createdAt === undefined) return undefined
  const identities = list(fields.identities)
    .map((identity) => {
      const stored = record(identity)
      return valid(() =>
        input.requireIdentity({ issuer: text(stored.issuer), subject: text(stored.subject) }),
      )
    })
    .filter((identity): identity is OidcSubject => identity !== undefined)
  if (identities.length === 0) return undefined
  const attributes: Record<string, string> = {}
  for (const [key, value] of Object.entries(record(fields.attributes))) {
    const checked = valid(() => input.requireAttributes({ [key]: text(value) }, false))
    if (checked !== undefined) attributes[key] = checked[key] as string
  }
  return { id: userId, displayName, createdAt, identities, attributes }
}
