/**
 * What a replica answers: one immutable view assembled from the decoded documents. The rules that
 * turn concurrent edits into one outcome live here, as pure functions of the documents, so every
 * replica holding the same documents answers alike:
 *
 * - One identity, two users (first logins on two replicas): users are taken in id order (ULIDs, so
 *   creation order); a user whose first identity an earlier user already holds is hidden, and an
 *   identity belongs to the first user that holds it. The smallest ULID wins.
 * - One invite, two redemptions: the earliest redemption (then the smallest peer id) wins; the node
 *   another redemption added is not a member.
 * - Two roles of one name in one scope (ignoring case): the role with the smallest id wins, the
 *   others are hidden.
 * - A group deleted while another replica edited it: the realm document no longer lists it, so its
 *   document, edits and roles are out of every answer; a replication or quota override set for it
 *   meanwhile is ignored.
 * - A group role counts for its group's members only; members and role holders are visible users.
 * - An access key counts while its id is not in the revoked set (which only grows, so a revocation
 *   outlives any merge) and its user is a visible user.
 * - Everything else (names, factors, addresses) is Automerge's last-writer-wins per field, and sets
 *   (members, revoked tokens, role holders) keep concurrent additions.
 */

import type {
  AccessKeyRecord,
  Group,
  GroupQuota,
  InviteRecord,
  NodeRecord,
  QuotaConfig,
  RealmInfo,
  ReplicationOverride,
  RoleRecord,
  User,
} from '../types.js'
import { compareNames, nameKey } from '../validation.js'
import type { DecodedGroup, DecodedInvite, DecodedRealm, DecodedRole, DecodedUser } from './decode.js'

export interface InviteView {
  readonly record: InviteRecord
  readonly secretHash: string
}

export interface RoleView {
  readonly record: RoleRecord
  readonly groupId: string | undefined
}

export interface OrgaView {
  readonly realm: RealmInfo
  /** Member nodes by peer id. */
  readonly nodes: ReadonlyMap<string, NodeRecord>
  /** Invites not cancelled, by id. */
  readonly invites: ReadonlyMap<string, InviteView>
  readonly groups: ReadonlyMap<string, Group>
  readonly users: ReadonlyMap<string, User>
  /** `identityKey` → the user it logs in as. */
  readonly identities: ReadonlyMap<string, string>
  readonly roles: ReadonlyMap<string, RoleView>
  readonly revoked: ReadonlySet<string>
  /** Active access keys (not revoked, of a visible user) by id, in id order; records are frozen. */
  readonly accessKeys: ReadonlyMap<string, AccessKeyRecord>
  /** Every well-formed access key record the realm document holds, active or not. */
  readonly accessKeyRecords: ReadonlyMap<string, AccessKeyRecord>
  readonly revokedAccessKeys: ReadonlySet<string>
}

export const ascending = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The records of the previous assembly, by the decoded value they came from: an entity whose
 * document part did not change keeps its record object, which makes comparing views cheap.
 */
export class ViewCache {
  readonly identityKeys = new WeakMap<DecodedUser, readonly string[]>()
  readonly users = new WeakMap<DecodedUser, User>()
  readonly groups = new WeakMap<DecodedGroup, Group>()
  readonly roles = new WeakMap<DecodedRole, RoleRecord>()
  readonly invites = new WeakMap<DecodedInvite, InviteView>()
  /** The user ids that own access keys, per decoded key map. */
  readonly keyOwners = new WeakMap<ReadonlyMap<string, AccessKeyRecord>, readonly string[]>()
  /** The last active-key map and what it was made from, reused while none of that changed. */
  activeKeys:
    | {
        readonly records: ReadonlyMap<string, AccessKeyRecord>
        readonly revoked: ReadonlySet<string>
        readonly visibleOwners: ReadonlySet<string>
        readonly result: ReadonlyMap<string, AccessKeyRecord>
      }
    | undefined
}

/** Sorted by id; the realm document usually lists ids in order already, which skips the sort. */
function byIdOrder<T extends { readonly id: string }>(values: Iterable<T>): T[] {
  const list = [...values]
  const sorted = list.every((value, i) => i === 0 || (list[i - 1] as T).id < value.id)
  return sorted ? list : list.sort((a, b) => ascending(a.id, b.id))
}

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((item, i) => item === b[i])

/** A deep copy of a record (plain data: objects, arrays, strings, numbers). */
export function copy<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copy) as T
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, copy(item)])) as T
  }
  return value
}

/** One key per identity; JSON keeps issuers and subjects containing any separator apart. */
export function identityKey(identity: { readonly issuer: string; readonly subject: string }): string {
  return JSON.stringify([identity.issuer, identity.subject])
}

/** Assembles the view. `groups` and `users` hold the loaded documents of the ids the realm lists. */
export function assembleView(
  realm: DecodedRealm,
  groups: ReadonlyMap<string, DecodedGroup>,
  users: ReadonlyMap<string, DecodedUser>,
  cache: ViewCache = new ViewCache(),
): OrgaView {
  const { users: visibleUsers, identities } = resolveUsers(users, cache)
  const visibleGroups = new Map<string, Group>()
  for (const group of byIdOrder(groups.values())) {
    const members = [...group.members].filter((id) => visibleUsers.has(id)).sort(ascending)
    let record = cache.groups.get(group)
    if (record === undefined || !sameList(record.members, members)) {
      record = { id: group.id, name: group.name, members, createdAt: group.createdAt }
      cache.groups.set(group, record)
    }
    visibleGroups.set(group.id, record)
  }
  const roles = new Map<string, RoleView>()
  const addRoles = (scoped: ReadonlyMap<string, DecodedRole>, groupId: string | undefined): void => {
    const holders = (id: string) =>
      groupId === undefined ? visibleUsers.has(id) : visibleGroups.get(groupId)?.members.includes(id) === true
    const taken = new Set<string>()
    for (const role of byIdOrder(scoped.values())) {
      if (taken.has(nameKey(role.name))) continue
      taken.add(nameKey(role.name))
      const members = [...role.members].filter(holders).sort(ascending)
      let record = cache.roles.get(role)
      if (record === undefined || !sameList(record.members, members)) {
        record = {
          id: role.id,
          name: role.name,
          scope: groupId === undefined ? { realm: realm.realmId } : { realm: realm.realmId, group: groupId },
          rules: role.rules.map((rule) => ({ ...rule })),
          members,
          createdAt: role.createdAt,
        }
        cache.roles.set(role, record)
      }
      roles.set(role.id, { record, groupId })
    }
  }
  addRoles(realm.roles, undefined)
  for (const group of groups.values()) addRoles(group.roles, group.id)
  const { nodes, invites } = resolveInvites(realm, cache)
  return {
    realm: realmInfo(realm, visibleGroups),
    nodes,
    invites,
    groups: visibleGroups,
    users: visibleUsers,
    identities,
    roles,
    revoked: realm.revoked,
    accessKeys: activeAccessKeys(realm, visibleUsers, cache),
    accessKeyRecords: realm.accessKeys,
    revokedAccessKeys: realm.revokedAccessKeys,
  }
}

/**
 * The keys that count: not revoked, of a visible user. Rebuilt only when the records, the revoked set or
 * the visibility of a key's owner changed, so most changes (and every read) cost nothing here.
 */
function activeAccessKeys(
  realm: DecodedRealm,
  users: ReadonlyMap<string, User>,
  cache: ViewCache,
): ReadonlyMap<string, AccessKeyRecord> {
  const records = realm.accessKeys
  const revoked = realm.revokedAccessKeys
  let owners = cache.keyOwners.get(records)
  if (owners === undefined) {
    owners = [...new Set([...records.values()].map((record) => record.userId))]
    cache.keyOwners.set(records, owners)
  }
  const visibleOwners = new Set(owners.filter((userId) => users.has(userId)))
  const last = cache.activeKeys
  if (
    last !== undefined &&
    last.records === records &&
    last.revoked === revoked &&
    last.visibleOwners.size === visibleOwners.size &&
    [...visibleOwners].every((userId) => last.visibleOwners.has(userId))
  ) {
    return last.result
  }
  const result = new Map<string, AccessKeyRecord>()
  for (const id of [...records.keys()].sort(ascending)) {
    const record = records.get(id)!
    if (!revoked.has(id) && visibleOwners.has(record.userId)) result.set(id, record)
  }
  cache.activeKeys = { records, revoked, visibleOwners, result }
  return result
}

function resolveUsers(
  users: ReadonlyMap<string, DecodedUser>,
  cache: ViewCache,
): {
  users: Map<string, User>
  identities: Map<string, string>
} {
  const visible = new Map<string, User>()
  const identities = new Map<string, string>()
  for (const user of byIdOrder(users.values())) {
    let keys = cache.identityKeys.get(user)
    if (keys === undefined) {
      keys = user.identities.map(identityKey)
      cache.identityKeys.set(user, keys)
    }
    const [first] = keys
    if (first === undefined || identities.has(first)) continue
    const own = user.identities.filter((_identity, i) => {
      const key = keys[i] as string
      if (identities.has(key)) return false
      identities.set(key, user.id)
      return true
    })
    const whole = own.length === user.identities.length
    let record = whole ? cache.users.get(user) : undefined
    if (record === undefined) {
      record = {
        id: user.id,
        displayName: user.displayName,
        identities: own.map((identity) => ({ issuer: identity.issuer, subject: identity.subject })),
        attributes: { ...user.attributes },
        createdAt: user.createdAt,
      }
      if (whole) cache.users.set(user, record)
    }
    visible.set(user.id, record)
  }
  return { users: visible, identities }
}

function resolveInvites(
  realm: DecodedRealm,
  cache: ViewCache,
): {
  nodes: Map<string, NodeRecord>
  invites: Map<string, InviteView>
} {
  const winners = new Map<string, string | undefined>()
  const invites = new Map<string, InviteView>()
  for (const invite of byIdOrder(realm.invites.values())) {
    const [winner] = invite.redemptions
    winners.set(invite.id, winner?.peerId)
    if (invite.cancelled) continue
    let view = cache.invites.get(invite)
    if (view === undefined) {
      const record: InviteRecord = {
        id: invite.id,
        createdAt: invite.createdAt,
        expiresAt: invite.expiresAt,
        ...(winner === undefined ? {} : { redeemedBy: winner.peerId, redeemedAt: winner.at }),
      }
      view = { record, secretHash: invite.secretHash }
      cache.invites.set(invite, view)
    }
    invites.set(invite.id, view)
  }
  const nodes = new Map<string, NodeRecord>()
  for (const peerId of [...realm.nodes.keys()].sort(ascending)) {
    const node = realm.nodes.get(peerId)!
    // A node admitted by an invite stays out when another redemption of that invite won.
    if (node.invite !== undefined && winners.has(node.invite) && winners.get(node.invite) !== peerId) continue
    nodes.set(peerId, node.record)
  }
  return { nodes, invites }
}

function realmInfo(realm: DecodedRealm, groups: ReadonlyMap<string, Group>): RealmInfo {
  const sorted = (entries: Iterable<[string, ReplicationOverride]>) =>
    Object.fromEntries([...entries].sort(([a], [b]) => ascending(a, b)))
  return {
    id: realm.realmId,
    name: realm.name,
    createdAt: realm.createdAt,
    config: {
      replication: {
        default: { ...realm.replicationDefault },
        groups: sorted([...realm.groupOverrides].filter(([groupId]) => groups.has(groupId))),
        paths: sorted(realm.pathOverrides),
      },
      quota: listedQuota(realm.quota, groups),
    },
  }
}

/** The quota config without overrides of groups the realm no longer lists (deleted meanwhile). */
function listedQuota(quota: QuotaConfig, groups: ReadonlyMap<string, Group>): QuotaConfig {
  const ids = Object.keys(quota.groups)
  if (ids.every((groupId) => groups.has(groupId))) return quota
  const kept: Record<string, GroupQuota> = {}
  for (const groupId of ids) if (groups.has(groupId)) kept[groupId] = quota.groups[groupId] as GroupQuota
  return { ...quota, groups: kept }
}

/** Listing orders: by name ignoring case, then id. */
export function byName<T extends { readonly id: string; readonly name: string }>(a: T, b: T): number {
  return compareNames(a.name, b.name) || ascending(a.id, b.id)
}
