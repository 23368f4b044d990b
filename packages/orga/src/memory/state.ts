/**
 * The memory store's state, one plain structure per document kind of the real store (realm, groups,
 * users), and the snapshots the port returns. Reads copy out of it, so callers never hold live state.
 */

import { defaultQuotaConfig } from '../quota.js'
import type {
  AccessKeyRecord,
  Group,
  InviteRecord,
  NodeRecord,
  OidcSubject,
  PermissionRule,
  QuotaConfig,
  RealmInfo,
  ReplicationFactors,
  ReplicationOverride,
  RoleRecord,
  User,
} from '../types.js'
import { compareNames } from '../validation.js'

export interface InviteState {
  readonly id: string
  readonly secretHash: string
  readonly createdAt: number
  readonly expiresAt: number
  redeemedBy?: string
  redeemedAt?: number
}

export interface GroupState {
  readonly id: string
  name: string
  readonly createdAt: number
  readonly members: Set<string>
}

export interface UserState {
  readonly id: string
  displayName: string
  readonly createdAt: number
  readonly identities: OidcSubject[]
  readonly attributes: Map<string, string>
}

export interface RoleState {
  readonly id: string
  name: string
  readonly groupId: string | undefined
  rules: PermissionRule[]
  readonly members: Set<string>
  readonly createdAt: number
}

/** What every replica of one realm starts from. */
export interface Genesis {
  readonly realmId: string
  readonly name: string
  readonly createdAt: number
  readonly replication: ReplicationFactors
}

export interface OrgaState {
  readonly realmId: string
  realmName: string
  readonly createdAt: number
  replicationDefault: ReplicationFactors
  readonly groupReplication: Map<string, ReplicationOverride>
  readonly pathReplication: Map<string, ReplicationOverride>
  /** Replaced whole by each change (normalised: see `normalizeQuota`). */
  quota: QuotaConfig
  readonly nodes: Map<string, NodeRecord>
  readonly invites: Map<string, InviteState>
  readonly groups: Map<string, GroupState>
  readonly users: Map<string, UserState>
  /** `identityKey(issuer, subject)` → user id. */
  readonly identities: Map<string, string>
  readonly roles: Map<string, RoleState>
  readonly revokedTokens: Set<string>
  /** Active access keys by id (frozen records). */
  readonly accessKeys: Map<string, AccessKeyRecord>
  /** Revoked access key ids: a tombstone each, so a revoked id never comes back. */
  readonly revokedAccessKeys: Set<string>
}

export function initialState(genesis: Genesis): OrgaState {
  return {
    realmId: genesis.realmId,
    realmName: genesis.name,
    createdAt: genesis.createdAt,
    replicationDefault: { ...genesis.replication },
    groupReplication: new Map(),
    pathReplication: new Map(),
    quota: defaultQuotaConfig(),
    nodes: new Map(),
    invites: new Map(),
    groups: new Map(),
    users: new Map(),
    identities: new Map(),
    roles: new Map(),
    revokedTokens: new Set(),
    accessKeys: new Map(),
    revokedAccessKeys: new Set(),
  }
}

/** One key per identity; JSON keeps issuers and subjects containing any separator apart. */
export function identityKey(identity: OidcSubject): string {
  return JSON.stringify([identity.issuer, identity.subject])
}

const ascending = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

export function realmSnapshot(state: OrgaState): RealmInfo {
  return {
    id: state.realmId,
    name: state.realmName,
    createdAt: state.createdAt,
    config: {
      replication: {
        default: { ...state.replicationDefault },
        groups: Object.fromEntries([...state.groupReplication].map(([k, v]) => [k, { ...v }])),
        paths: Object.fromEntries([...state.pathReplication].map(([k, v]) => [k, { ...v }])),
      },
      quota: structuredClone(state.quota),
    },
  }
}

export function nodeSnapshot(node: NodeRecord): NodeRecord {
  return { ...node, addresses: [...node.addresses] }
}

export function inviteSnapshot(invite: InviteState): InviteRecord {
  const { secretHash: _hash, ...record } = invite
  return { ...record }
}

export function groupSnapshot(group: GroupState): Group {
  return {
    id: group.id,
    name: group.name,
    members: [...group.members].sort(ascending),
    createdAt: group.createdAt,
  }
}

export function userSnapshot(user: UserState): User {
  return {
    id: user.id,
    displayName: user.displayName,
    identities: user.identities.map((identity) => ({ ...identity })),
    attributes: Object.fromEntries(user.attributes),
    createdAt: user.createdAt,
  }
}

export function roleSnapshot(state: OrgaState, role: RoleState): RoleRecord {
  return {
    id: role.id,
    name: role.name,
    scope:
      role.groupId === undefined ? { realm: state.realmId } : { realm: state.realmId, group: role.groupId },
    rules: role.rules.map((rule) => ({ ...rule })),
    members: [...role.members].sort(ascending),
    createdAt: role.createdAt,
  }
}

/** A mutable copy of an access key record. */
export function accessKeySnapshot(record: AccessKeyRecord): AccessKeyRecord {
  return { ...record, sealed: { ...record.sealed } }
}

export function byId<T extends { readonly id: string }>(a: T, b: T): number {
  return ascending(a.id, b.id)
}

export function byName<T extends { readonly id: string; readonly name: string }>(a: T, b: T): number {
  return compareNames(a.name, b.name) || ascending(a.id, b.id)
}

export { ascending }
