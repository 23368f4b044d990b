/**
 * `OrgaService`: the permission-checked domain service over an `OrgaStore`. The store checks input but
 * not callers; the service takes the caller (`Principal`) first, checks one access on one resource path
 * with the `Authorizer`, and only then calls the store.
 *
 * | operation                    | resource path                        | access |
 * | ---------------------------- | ------------------------------------ | ------ |
 * | `createGroup`                | `/{realm}/admin/groups`              | WRITE  |
 * | `addMember`, `removeMember`  | `/{realm}/g/{group}/admin/members`   | WRITE  |
 * | `createRole` (group role)    | `/{realm}/g/{group}/admin/roles`     | WRITE  |
 * | `createRole` (realm role)    | `/{realm}/admin/roles`               | WRITE  |
 * | `updateRole`, `deleteRole`   | the role's scope, as `createRole`    | WRITE  |
 * | `assignRole`, `revokeRole`   | the role's scope, as `createRole`    | WRITE  |
 * | `createInvite`, `removeNode` | `/{realm}/admin/nodes`               | WRITE  |
 * | `listNodes`                  | `/{realm}/admin/nodes`               | READ   |
 * | `revokeToken`                | `/{realm}/admin/tokens`              | WRITE  |
 * | `getConfig`                  | `/{realm}/admin/config`              | READ   |
 * | `setReplication`, `setQuota` | `/{realm}/admin/config`              | WRITE  |
 * | `redeemInvite`               | none: the invite secret is the right | —      |
 * | `registerLogin`              | none: called by the login flow       | —      |
 * | `OrgaService.initRealm`      | none: local, before the realm exists | —      |
 *
 * Order of checks: input shape (`InvalidInput`) → permission (`PermissionDenied`, naming the operation)
 * → the store's own checks (`NotFound`, `InvalidPattern`, `PatternOutsideGroup`, `InviteUsed`, …).
 * A refused caller learns nothing about whether what they named exists: for a role id that names no
 * role, the service checks the realm-role path before saying `NotFound`.
 */

import type { KeyObject } from 'node:crypto'
import {
  type Access,
  type Authorizer,
  isAuthError,
  keyIdOf,
  type Principal,
  type RoleSource,
} from '@aruna/auth'
import { isOrgaError, OrgaError } from '../errors.js'
import { keptUntilChange } from '../kept-answers.js'
import type { OrgaStore } from '../port.js'
import { checkQuotaUpdate } from '../quota.js'
import { delegatePeer, ed25519KeyOfPeerId } from '../realm-credentials.js'
import type {
  CreatedInvite,
  Group,
  NodeRecord,
  PermissionRule,
  QuotaConfig,
  QuotaUpdate,
  RealmConfig,
  Registration,
  ReplicationResult,
  ReplicationTarget,
  ReplicationUpdate,
  ReplicationWarning,
  RoleRecord,
} from '../types.js'
import {
  requireAddresses,
  requireInviteSecret,
  requireName,
  requirePeerId,
  requireRealmId,
  requireText,
  requireTtl,
  requireUlid,
} from '../validation.js'
import { type InitializedRealm, type InitRealmOptions, initRealm } from './realm-init.js'

/** Default lifetime of the delegation signed for a joining node: one year. */
export const DEFAULT_DELEGATION_TTL_SECONDS = 365 * 24 * 60 * 60

export interface OrgaServiceInit {
  readonly store: OrgaStore
  readonly authorizer: Authorizer
  /** The realm id (the realm's public key); the first segment of every resource path. */
  readonly realmId: string
  /** The realm's private signing key: management nodes only. Must belong to `realmId`. */
  readonly realmKey?: KeyObject
  /** The clock in milliseconds. Default: `Date.now`. */
  readonly clock?: () => number
  /** Lifetime of delegations signed for joining nodes. Default: one year. */
  readonly delegationTtlSeconds?: number
}

/** The service's operations, as named in `PermissionDenied` messages. */
export type OrgaOperation =
  | 'createGroup'
  | 'addMember'
  | 'removeMember'
  | 'createRole'
  | 'updateRole'
  | 'deleteRole'
  | 'assignRole'
  | 'revokeRole'
  | 'createInvite'
  | 'removeNode'
  | 'listNodes'
  | 'revokeToken'
  | 'getConfig'
  | 'setReplication'
  | 'setQuota'

export interface CreateRoleInput {
  readonly name: string
  /** The group the role belongs to; without it, a realm role. */
  readonly group?: string
  readonly rules: readonly PermissionRule[]
}

export interface UpdateRoleInput {
  readonly name?: string
  readonly rules?: readonly PermissionRule[]
}

export interface RedeemInviteInput {
  /** The invite secret the admin handed to the joining node's operator. */
  readonly secret: string
  /** The joining node's libp2p peer id (an Ed25519 key). */
  readonly peerId: string
  readonly addresses?: readonly string[]
}

export interface JoinedNode {
  readonly realmId: string
  /** The node as listed now (a `server` node). */
  readonly node: NodeRecord
  /** The realm's delegation of the node's key: its proof of membership in the realm handshake. */
  readonly delegation: string
}

export interface LoginInput {
  readonly issuer: string
  readonly subject: string
  readonly displayName: string
}

export interface ConfigView {
  /** Replication and quota settings. */
  readonly config: RealmConfig
  /** Configured factors above the current node count. */
  readonly warnings: readonly ReplicationWarning[]
}

/** Thrown by `OrgaService.redeemInvite` on a node that does not hold the realm key. */
export class NoRealmKeyError extends OrgaError {
  readonly reason = 'NoRealmKey'

  constructor() {
    super(
      'PermissionDenied',
      'redeemInvite: this node holds no realm key; only a management node admits nodes',
    )
  }
}

/**
 * The `RoleSource` of a store (`rolesForUser`), for a `PathAuthorizer` over orga's roles. Asked on
 * every request, it keeps each user's roles until the store reports a change (`keptUntilChange`): the
 * store would otherwise look through every role and copy those held, each time.
 */
export function orgaRoleSource(store: OrgaStore): RoleSource {
  return { rolesFor: keptUntilChange(store, (userId) => store.rolesForUser(userId)) }
}

export class OrgaService {
  readonly realmId: string
  readonly #store: OrgaStore
  readonly #authorizer: Authorizer
  readonly #realmKey: KeyObject | undefined
  readonly #clock: () => number
  readonly #delegationTtl: number

  constructor(init: OrgaServiceInit) {
    this.realmId = requireRealmId(init.realmId)
    this.#store = init.store
    this.#authorizer = init.authorizer
    this.#clock = init.clock ?? Date.now
    const ttl = init.delegationTtlSeconds ?? DEFAULT_DELEGATION_TTL_SECONDS
    if (!Number.isInteger(ttl) || ttl < 1) {
      throw new OrgaError('InvalidInput', 'delegationTtlSeconds must be a positive integer')
    }
    this.#delegationTtl = ttl
    if (init.realmKey !== undefined) {
      let keyId: string | undefined
      try {
        keyId = init.realmKey.type === 'private' ? keyIdOf(init.realmKey) : undefined
      } catch {
        keyId = undefined
      }
      if (keyId !== this.realmId) {
        throw new OrgaError('InvalidInput', 'realmKey must be the Ed25519 private key of realmId')
      }
    }
    this.#realmKey = init.realmKey
  }

  /**
   * A new realm: creates the realm key and stores it in `{directory}/realm.key` (mode 0600, written
   * durably). `AlreadyExists` if that file exists. See `initRealm`.
   */
  static initRealm(options: InitRealmOptions): Promise<InitializedRealm> {
    return initRealm(options)
  }

  /** Whether this service can admit nodes (it holds the realm key). */
  get holdsRealmKey(): boolean {
    return this.#realmKey !== undefined
  }

  // -------------------------------------------------------------------------------------------------
  // Groups and members

  async createGroup(caller: Principal, input: { readonly name: string }): Promise<Group> {
    const name = requireName(field(input, 'name'), 'group name')
    await this.#check(caller, 'createGroup', 'WRITE', this.#realmPath('groups'))
    return this.#store.createGroup({ name })
  }

  async addMember(caller: Principal, groupId: string, userId: string): Promise<Group> {
    const group = requireUlid(groupId, 'group id')
    const user = requireUlid(userId, 'user id')
    await this.#check(caller, 'addMember', 'WRITE', this.#groupPath(group, 'members'))
    return this.#store.addMember(group, user)
  }

  async removeMember(caller: Principal, groupId: string, userId: string): Promise<Group> {
    const group = requireUlid(groupId, 'group id')
    const user = requireUlid(userId, 'user id')
    await this.#check(caller, 'removeMember', 'WRITE', this.#groupPath(group, 'members'))
    return this.#store.removeMember(group, user)
  }

  // -------------------------------------------------------------------------------------------------
  // Roles

  async createRole(caller: Principal, input: CreateRoleInput): Promise<RoleRecord> {
    const name = requireName(field(input, 'name'), 'role name')
    const group = input.group === undefined ? undefined : requireUlid(input.group, 'group id')
    const rules = requireRules(input.rules)
    await this.#check(caller, 'createRole', 'WRITE', this.#rolesPath(group))
    return this.#store.createRole({ name, rules, ...(group === undefined ? {} : { group }) })
  }

  async updateRole(caller: Principal, roleId: string, patch: UpdateRoleInput): Promise<RoleRecord> {
    const id = requireUlid(roleId, 'role id')
    if (typeof patch !== 'object' || patch === null) throw invalid('role patch must be an object')
    const name = patch.name === undefined ? undefined : requireName(patch.name, 'role name')
    const rules = patch.rules === undefined ? undefined : requireRules(patch.rules)
    if (name === undefined && rules === undefined)
      throw invalid('a role patch must change the name or the rules')
    await this.#checkRole(caller, 'updateRole', id)
    return this.#store.updateRole(id, {
      ...(name === undefined ? {} : { name }),
      ...(rules === undefined ? {} : { rules }),
    })
  }

  async deleteRole(caller: Principal, roleId: string): Promise<void> {
    const id = requireUlid(roleId, 'role id')
    await this.#checkRole(caller, 'deleteRole', id)
    await this.#store.deleteRole(id)
  }

  async assignRole(caller: Principal, roleId: string, userId: string): Promise<RoleRecord> {
    const id = requireUlid(roleId, 'role id')
    const user = requireUlid(userId, 'user id')
    await this.#checkRole(caller, 'assignRole', id)
    return this.#store.assignRole(id, user)
  }

  async revokeRole(caller: Principal, roleId: string, userId: string): Promise<RoleRecord> {
    const id = requireUlid(roleId, 'role id')
    const user = requireUlid(userId, 'user id')
    await this.#checkRole(caller, 'revokeRole', id)
    return this.#store.revokeRole(id, user)
  }

  // -------------------------------------------------------------------------------------------------
  // Nodes and invites

  /** A one-time invite for a new node, expiring after `ttlMs` (1 ms to 30 days). */
  async createInvite(caller: Principal, input: { readonly ttlMs: number }): Promise<CreatedInvite> {
    const ttlMs = requireTtl(field(input, 'ttlMs'))
    await this.#check(caller, 'createInvite', 'WRITE', this.#realmPath('nodes'))
    return this.#store.createInvite({ ttlMs })
  }

  /**
   * A node joins with an invite: on a node holding the realm key, signs the joining node's delegation
   * and redeems the invite (which lists the node as a `server` node), returning the delegation.
   * No caller check: the one-time secret is the right to join.
   * @throws NoRealmKeyError (`PermissionDenied`) without a realm key — the invite stays unused;
   *   `InvalidInput` (secret, peer id, addresses), `NotFound`, `InviteUsed`, `InviteExpired`,
   *   `AlreadyExists` as the store's `redeemInvite`.
   */
  async redeemInvite(input: RedeemInviteInput): Promise<JoinedNode> {
    if (typeof input !== 'object' || input === null) throw invalid('join request must be an object')
    const secret = requireInviteSecret(input.secret)
    const peerId = requirePeerId(input.peerId)
    ed25519KeyOfPeerId(peerId)
    const addresses = requireAddresses(input.addresses ?? [])
    if (this.#realmKey === undefined) throw new NoRealmKeyError()
    const now = Math.floor(this.#clock() / 1000)
    const delegation = delegatePeer(this.#realmKey, peerId, now + this.#delegationTtl)
    const node = await this.#store.redeemInvite(secret, { peerId, delegation, addresses })
    return { realmId: this.realmId, node, delegation }
  }

  async removeNode(caller: Principal, peerId: string): Promise<void> {
    const peer = requirePeerId(peerId)
    await this.#check(caller, 'removeNode', 'WRITE', this.#realmPath('nodes'))
    await this.#store.removeNode(peer)
  }

  async listNodes(caller: Principal): Promise<NodeRecord[]> {
    await this.#check(caller, 'listNodes', 'READ', this.#realmPath('nodes'))
    return this.#store.listNodes()
  }

  // -------------------------------------------------------------------------------------------------
  // Users and tokens

  /**
   * Maps an OIDC login to a user: a new user on the first login, the same user after. Called by the
   * login flow once the OIDC token is verified, not by a user: no caller check.
   */
  async registerLogin(input: LoginInput): Promise<Registration> {
    if (typeof input !== 'object' || input === null) throw invalid('login must be an object')
    const issuer = requireText(input.issuer, 'issuer', 512)
    const subject = requireText(input.subject, 'subject', 255)
    const displayName = requireName(input.displayName, 'display name')
    return this.#store.registerUser({ issuer, subject, displayName })
  }

  /** Adds a realm token id to the revoked set. */
  async revokeToken(caller: Principal, jti: string): Promise<void> {
    const id = requireText(jti, 'token id', 256)
    await this.#check(caller, 'revokeToken', 'WRITE', this.#realmPath('tokens'))
    await this.#store.revokeToken(id)
  }

  // -------------------------------------------------------------------------------------------------
  // Config

  async getConfig(caller: Principal): Promise<ConfigView> {
    await this.#check(caller, 'getConfig', 'READ', this.#realmPath('config'))
    const realm = await this.#store.getRealm()
    return { config: realm.config, warnings: await this.#store.replicationWarnings() }
  }

  /** Sets replication factors; the warnings name factors above the node count (still applied). */
  async setReplication(
    caller: Principal,
    target: ReplicationTarget,
    update: ReplicationUpdate,
  ): Promise<ReplicationResult> {
    if (typeof target !== 'object' || target === null) throw invalid('target must be an object')
    if (typeof update !== 'object' || update === null) throw invalid('update must be an object')
    await this.#check(caller, 'setReplication', 'WRITE', this.#realmPath('config'))
    return this.#store.setReplication(target, update)
  }

  /**
   * Changes the storage quota config (see the store's `setQuota`) and returns it as it is now.
   * `InvalidInput` for a malformed update, checked before the permission; `NotFound` for a group that
   * does not exist, after it.
   */
  async setQuota(caller: Principal, update: QuotaUpdate): Promise<QuotaConfig> {
    const checked = checkQuotaUpdate(update)
    await this.#check(caller, 'setQuota', 'WRITE', this.#realmPath('config'))
    return this.#store.setQuota(checked)
  }

  // -------------------------------------------------------------------------------------------------

  #realmPath(area: string): string {
    return `/${this.realmId}/admin/${area}`
  }

  #groupPath(groupId: string, area: string): string {
    return `/${this.realmId}/g/${groupId}/admin/${area}`
  }

  #rolesPath(groupId: string | undefined): string {
    return groupId === undefined ? this.#realmPath('roles') : this.#groupPath(groupId, 'roles')
  }

  /** The check for an existing role: its scope's roles path; for no role, the realm's, then NotFound. */
  async #checkRole(caller: Principal, operation: OrgaOperation, roleId: string): Promise<void> {
    let role: RoleRecord
    try {
      role = await this.#store.getRole(roleId)
    } catch (err) {
      if (!isOrgaError(err, 'NotFound')) throw err
      await this.#check(caller, operation, 'WRITE', this.#rolesPath(undefined))
      throw err
    }
    await this.#check(caller, operation, 'WRITE', this.#rolesPath(role.scope.group))
  }

  async #check(caller: Principal, operation: OrgaOperation, access: Access, path: string): Promise<void> {
    if (typeof caller !== 'object' || caller === null || typeof caller.userId !== 'string') {
      throw invalid(`${operation}: the caller must be a principal with a user id`)
    }
    try {
      await this.#authorizer.check(caller, access, path)
    } catch (err) {
      if (isAuthError(err, 'AccessDenied')) {
        throw new OrgaError('PermissionDenied', `${operation}: ${access} on ${path} refused`, { cause: err })
      }
      if (isAuthError(err, 'InvalidPath')) {
        throw new OrgaError('InvalidInput', `${operation}: ${path} is not a resource path`, { cause: err })
      }
      throw err
    }
  }
}

function invalid(message: string): OrgaError {
  return new OrgaError('InvalidInput', message)
}

function field(input: unknown, name: string): unknown {
  if (typeof input !== 'object' || input === null) throw invalid('input must be an object')
  return (input as Record<string, unknown>)[name]
}

/** The list shape only; patterns and their scope are the store's to check (`InvalidPattern`, …). */
function requireRules(value: unknown): PermissionRule[] {
  if (!Array.isArray(value)) throw invalid('rules must be a list')
  return value.map((rule, i) => {
    if (typeof rule !== 'object' || rule === null) throw invalid(`rule ${i} must be an object`)
    const { pattern, permission } = rule as Record<string, unknown>
    if (permission !== 'READ' && permission !== 'WRITE' && permission !== 'DENY') {
      throw invalid(`rule ${i}: permission must be READ, WRITE or DENY`)
    }
    return { pattern: pattern as string, permission }
  })
}
