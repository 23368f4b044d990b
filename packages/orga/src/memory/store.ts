/**
 * `MemoryOrgaStore`: the in-memory mock of `OrgaStore`. It checks input exactly as the real store
 * does, keeps state in plain maps, and can stand for several replicas of one realm (`pull`, or
 * `createMemoryReplicas`) that converge deterministically once they have exchanged operations.
 */

import { createHash, randomBytes } from 'node:crypto'
import { type UlidFactory, ulidFactory } from '@aruna/platform'
import { OrgaError } from '../errors.js'
import { checkRules } from '../path-pattern.js'
import type { OrgaStore } from '../port.js'
import { checkQuotaUpdate, groupCapError, quotaUpdateGroups } from '../quota.js'
import {
  checkFactor,
  checkResolution,
  checkTarget,
  checkUpdate,
  configWarnings,
  resolveFactor,
  warningsFor,
  withoutRemovals,
} from '../replication.js'
import type {
  AccessKeyRecord,
  CreatedInvite,
  Group,
  GroupInit,
  InviteOptions,
  InviteRecord,
  JoiningNode,
  NodeInit,
  NodeRecord,
  OidcSubject,
  OrgaChange,
  OrgaChangeListener,
  QuotaConfig,
  QuotaUpdate,
  RealmInfo,
  Registration,
  ReplicationFactors,
  ReplicationKind,
  ReplicationResult,
  ReplicationTarget,
  ReplicationUpdate,
  ReplicationWarning,
  RoleInit,
  RolePatch,
  RoleRecord,
  User,
  UserPatch,
  UserRegistration,
} from '../types.js'
import * as input from '../validation.js'
import { OperationLog } from './operation-log.js'
import type { OrgaOp } from './ops.js'
import * as view from './state.js'

export interface MemoryOrgaStoreInit {
  /** The realm id (its public key, base32/base64url). */
  readonly realmId: string
  /** Default: the realm id. */
  readonly realmName?: string
  /** Default replication factors. Default: 3 copies of data, metadata on every node. */
  readonly replication?: Partial<ReplicationFactors>
  /** When the realm was created. Default: now. Replicas of one realm must agree on it. */
  readonly createdAt?: number
  /** The clock. Default: `Date.now`. */
  readonly now?: () => number
  /** This replica's name in the operation order. Default: a fresh ULID. */
  readonly replicaId?: string
  /** Called when a change listener throws. Default: the error is dropped. */
  readonly onListenerError?: (err: unknown, change: OrgaChange) => void
}

export class MemoryOrgaStore implements OrgaStore {
  private readonly log: OperationLog
  private readonly now: () => number
  private readonly nextId: UlidFactory

  constructor(init: MemoryOrgaStoreInit) {
    this.now = init.now ?? Date.now
    this.nextId = ulidFactory({ now: this.now })
    const realmId = input.requireRealmId(init.realmId)
    const replication = {
      data: checkFactor(init.replication?.data ?? 3, false),
      metadata: checkFactor(init.replication?.metadata ?? 'all', false),
    } as ReplicationFactors
    const genesis = {
      realmId,
      name: input.requireName(init.realmName ?? realmId, 'realm name'),
      createdAt: init.createdAt ?? this.now(),
      replication,
    }
    this.log = new OperationLog(genesis, init.replicaId ?? this.nextId(), init.onListenerError ?? (() => {}))
  }

  /** This replica's name in the operation order. */
  get replicaId(): string {
    return this.log.replica
  }

  /** Takes in what other replicas of the same realm hold, as a sync with them would. */
  pull(...others: MemoryOrgaStore[]): void {
    this.log.pull(others.map((other) => other.log))
  }

  private get state() {
    return this.log.state
  }

  private commit(op: OrgaOp, at = this.now()): void {
    this.log.commit(op, at)
  }

  // Realm --------------------------------------------------------------------------------------------

  async getRealm(): Promise<RealmInfo> {
    return view.realmSnapshot(this.state)
  }

  async renameRealm(name: string): Promise<RealmInfo> {
    this.commit({ type: 'rename-realm', name: input.requireName(name, 'realm name') })
    return this.getRealm()
  }

  // Nodes --------------------------------------------------------------------------------------------

  async addNode(node: NodeInit): Promise<NodeRecord> {
    const checked = input.requireNodeInit(node)
    this.commit({ type: 'add-node', node: checked })
    return this.getNode(checked.peerId)
  }

  async updateNodeAddresses(peerId: string, addresses: readonly string[]): Promise<NodeRecord> {
    const id = input.requirePeerId(peerId)
    this.commit({ type: 'set-node-addresses', peerId: id, addresses: input.requireAddresses(addresses) })
    return this.getNode(id)
  }

  async removeNode(peerId: string): Promise<void> {
    this.commit({ type: 'remove-node', peerId: input.requirePeerId(peerId) })
  }

  async getNode(peerId: string): Promise<NodeRecord> {
    const node = this.state.nodes.get(input.requirePeerId(peerId))
    if (node === undefined) throw new OrgaError('NotFound', `no node ${peerId}`)
    return view.nodeSnapshot(node)
  }

  async listNodes(): Promise<NodeRecord[]> {
    return [...this.state.nodes.values()]
      .sort((a, b) => view.ascending(a.peerId, b.peerId))
      .map(view.nodeSnapshot)
  }

  async isMember(peerId: string): Promise<boolean> {
    return typeof peerId === 'string' && this.state.nodes.has(peerId)
  }

  // Invites ------------------------------------------------------------------------------------------

  async createInvite(options: InviteOptions): Promise<CreatedInvite> {
    const ttlMs = input.requireTtl(options?.ttlMs)
    const secret = randomBytes(32).toString('base64url')
    const at = this.now()
    const invite = { id: this.nextId(), secret, expiresAt: at + ttlMs }
    this.commit(
      {
        type: 'create-invite',
        inviteId: invite.id,
        secretHash: hashSecret(secret),
        expiresAt: invite.expiresAt,
      },
      at,
    )
    return invite
  }

  async listInvites(): Promise<InviteRecord[]> {
    return [...this.state.invites.values()].sort(view.byId).map(view.inviteSnapshot)
  }

  async cancelInvite(inviteId: string): Promise<void> {
    this.commit({ type: 'cancel-invite', inviteId: input.requireUlid(inviteId, 'invite id') })
  }

  async redeemInvite(secret: string, node: JoiningNode): Promise<NodeRecord> {
    const secretHash = hashSecret(input.requireInviteSecret(secret))
    const joining = input.requireJoiningNode(node)
    this.commit({ type: 'redeem-invite', secretHash, node: joining })
    return this.getNode(joining.peerId)
  }

  // Groups -------------------------------------------------------------------------------------------

  async createGroup(init: GroupInit): Promise<Group> {
    const groupId = this.nextId()
    this.commit({ type: 'create-group', groupId, name: input.requireName(init?.name, 'group name') })
    return this.getGroup(groupId)
  }

  async getGroup(groupId: string): Promise<Group> {
    return view.groupSnapshot(this.group(groupId))
  }

  async listGroups(options?: { readonly member?: string }): Promise<Group[]> {
    const member = options?.member === undefined ? undefined : input.requireUlid(options.member, 'user id')
    return [...this.state.groups.values()]
      .filter((group) => member === undefined || group.members.has(member))
      .sort(view.byName)
      .map(view.groupSnapshot)
  }

  async renameGroup(groupId: string, name: string): Promise<Group> {
    const id = input.requireUlid(groupId, 'group id')
    this.commit({ type: 'rename-group', groupId: id, name: input.requireName(name, 'group name') })
    return this.getGroup(id)
  }

  async deleteGroup(groupId: string): Promise<void> {
    this.commit({ type: 'delete-group', groupId: input.requireUlid(groupId, 'group id') })
  }

  async addMember(groupId: string, userId: string): Promise<Group> {
    const ids = {
      groupId: input.requireUlid(groupId, 'group id'),
      userId: input.requireUlid(userId, 'user id'),
    }
    this.checkGroupCap(ids.groupId, ids.userId)
    this.commit({ type: 'add-member', ...ids })
    return this.getGroup(ids.groupId)
  }

  async removeMember(groupId: string, userId: string): Promise<Group> {
    const ids = {
      groupId: input.requireUlid(groupId, 'group id'),
      userId: input.requireUlid(userId, 'user id'),
    }
    this.commit({ type: 'remove-member', ...ids })
    return this.getGroup(ids.groupId)
  }

  /** `LimitExceeded` when the user would join one group more than `maxGroupsPerUser` allows. */
  private checkGroupCap(groupId: string, userId: string): void {
    const cap = this.state.quota.maxGroupsPerUser
    const group = this.state.groups.get(groupId)
    // Unknown groups and users are the operation's NotFound; a member already in is a no-op.
    if (cap === undefined || group === undefined || !this.state.users.has(userId)) return
    if (group.members.has(userId)) return
    const joined = [...this.state.groups.values()].filter((candidate) => candidate.members.has(userId))
    if (joined.length >= cap) throw groupCapError(userId, cap)
  }

  private group(groupId: string): view.GroupState {
    const group = this.state.groups.get(input.requireUlid(groupId, 'group id'))
    if (group === undefined) throw new OrgaError('NotFound', `no group ${groupId}`)
    return group
  }

  // Users --------------------------------------------------------------------------------------------

  async registerUser(registration: UserRegistration): Promise<Registration> {
    const identity = input.requireIdentity(registration)
    const displayName = input.requireName(registration.displayName, 'display name')
    const attributes =
      registration.attributes === undefined ? {} : input.requireAttributes(registration.attributes, false)
    const existing = this.state.identities.get(view.identityKey(identity))
    if (existing !== undefined) return { user: await this.getUser(existing), created: false }
    const userId = this.nextId()
    this.commit({ type: 'register-user', userId, identity, displayName, attributes })
    return { user: await this.getUser(userId), created: true }
  }

  async getUser(userId: string): Promise<User> {
    const user = this.state.users.get(input.requireUlid(userId, 'user id'))
    if (user === undefined) throw new OrgaError('NotFound', `no user ${userId}`)
    return view.userSnapshot(user)
  }

  async findUserByIdentity(identity: OidcSubject): Promise<User | undefined> {
    const userId = this.state.identities.get(view.identityKey(input.requireIdentity(identity)))
    return userId === undefined ? undefined : this.getUser(userId)
  }

  async listUsers(): Promise<User[]> {
    return [...this.state.users.values()].sort(view.byId).map(view.userSnapshot)
  }

  async updateUser(userId: string, patch: UserPatch): Promise<User> {
    const id = input.requireUlid(userId, 'user id')
    if (typeof patch !== 'object' || patch === null)
      throw new OrgaError('InvalidInput', 'patch must be an object')
    const checked: UserPatch = {
      ...(patch.displayName === undefined
        ? {}
        : { displayName: input.requireName(patch.displayName, 'display name') }),
      ...(patch.attributes === undefined
        ? {}
        : { attributes: input.requireAttributes(patch.attributes, true) }),
    }
    this.commit({ type: 'update-user', userId: id, patch: checked })
    return this.getUser(id)
  }

  async addIdentity(userId: string, identity: OidcSubject): Promise<User> {
    const id = input.requireUlid(userId, 'user id')
    this.commit({ type: 'add-identity', userId: id, identity: input.requireIdentity(identity) })
    return this.getUser(id)
  }

  // Roles --------------------------------------------------------------------------------------------

  async createRole(init: RoleInit): Promise<RoleRecord> {
    if (typeof init !== 'object' || init === null)
      throw new OrgaError('InvalidInput', 'role must be an object')
    const name = input.requireName(init.name, 'role name')
    const groupId = init.group === undefined ? undefined : input.requireUlid(init.group, 'group id')
    const rules = checkRules(init.rules, this.state.realmId, groupId)
    const roleId = this.nextId()
    this.commit({ type: 'create-role', roleId, name, groupId, rules })
    return this.getRole(roleId)
  }

  async getRole(roleId: string): Promise<RoleRecord> {
    return view.roleSnapshot(this.state, this.role(roleId))
  }

  async listRoles(options?: { readonly group?: string }): Promise<RoleRecord[]> {
    const groupId = options?.group === undefined ? undefined : this.group(options.group).id
    return [...this.state.roles.values()]
      .filter((role) => role.groupId === groupId)
      .sort(view.byName)
      .map((role) => view.roleSnapshot(this.state, role))
  }

  async updateRole(roleId: string, patch: RolePatch): Promise<RoleRecord> {
    const role = this.role(roleId)
    if (typeof patch !== 'object' || patch === null)
      throw new OrgaError('InvalidInput', 'patch must be an object')
    const name = patch.name === undefined ? undefined : input.requireName(patch.name, 'role name')
    const rules =
      patch.rules === undefined ? undefined : checkRules(patch.rules, this.state.realmId, role.groupId)
    this.commit({ type: 'update-role', roleId: role.id, name, rules })
    return this.getRole(role.id)
  }

  async deleteRole(roleId: string): Promise<void> {
    this.commit({ type: 'delete-role', roleId: input.requireUlid(roleId, 'role id') })
  }

  async assignRole(roleId: string, userId: string): Promise<RoleRecord> {
    const ids = { roleId: input.requireUlid(roleId, 'role id'), userId: input.requireUlid(userId, 'user id') }
    this.commit({ type: 'assign-role', ...ids })
    return this.getRole(ids.roleId)
  }

  async revokeRole(roleId: string, userId: string): Promise<RoleRecord> {
    const ids = { roleId: input.requireUlid(roleId, 'role id'), userId: input.requireUlid(userId, 'user id') }
    this.commit({ type: 'revoke-role', ...ids })
    return this.getRole(ids.roleId)
  }

  async rolesForUser(userId: string): Promise<RoleRecord[]> {
    const held = [...this.state.roles.values()].filter(
      (role) =>
        role.members.has(userId) &&
        (role.groupId === undefined || this.state.groups.get(role.groupId)?.members.has(userId) === true),
    )
    return held
      .sort((a, b) => view.ascending(a.groupId ?? '', b.groupId ?? '') || view.byName(a, b))
      .map((role) => view.roleSnapshot(this.state, role))
  }

  private role(roleId: string): view.RoleState {
    const role = this.state.roles.get(input.requireUlid(roleId, 'role id'))
    if (role === undefined) throw new OrgaError('NotFound', `no role ${roleId}`)
    return role
  }

  // Revoked tokens -----------------------------------------------------------------------------------

  async revokeToken(jti: string): Promise<void> {
    this.commit({ type: 'revoke-token', jti: input.requireJti(jti) })
  }

  async isRevoked(jti: string): Promise<boolean> {
    return typeof jti === 'string' && this.state.revokedTokens.has(jti)
  }

  // Access keys --------------------------------------------------------------------------------------

  async addAccessKey(record: AccessKeyRecord): Promise<AccessKeyRecord> {
    const checked = input.requireAccessKeyRecord(record)
    this.commit({ type: 'add-access-key', record: checked })
    return view.accessKeySnapshot(checked)
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const record = typeof accessKeyId === 'string' ? this.state.accessKeys.get(accessKeyId) : undefined
    return record === undefined ? undefined : view.accessKeySnapshot(record)
  }

  async listAccessKeys(options?: { readonly user?: string }): Promise<AccessKeyRecord[]> {
    const user = options?.user === undefined ? undefined : input.requireUlid(options.user, 'user id')
    return [...this.state.accessKeys.values()]
      .filter((record) => user === undefined || record.userId === user)
      .sort((a, b) => view.ascending(a.accessKeyId, b.accessKeyId))
      .map(view.accessKeySnapshot)
  }

  async revokeAccessKey(accessKeyId: string): Promise<void> {
    this.commit({ type: 'revoke-access-key', accessKeyId: input.requireAccessKeyId(accessKeyId) })
  }

  // Config -------------------------------------------------------------------------------------------

  async setReplication(target: ReplicationTarget, update: ReplicationUpdate): Promise<ReplicationResult> {
    const checkedTarget = checkTarget(target, this.state.realmId)
    const checked = checkUpdate(update, checkedTarget)
    this.commit({ type: 'set-replication', target: checkedTarget, update: checked })
    return { warnings: warningsFor(checkedTarget, withoutRemovals(checked), this.state.nodes.size) }
  }

  async replicationFactor(kind: ReplicationKind, path: string): Promise<number> {
    const checked = checkResolution(kind, path)
    const { replication } = view.realmSnapshot(this.state).config
    return resolveFactor(replication, this.state.realmId, checked.kind, checked.path, this.state.nodes.size)
  }

  async replicationWarnings(): Promise<ReplicationWarning[]> {
    return configWarnings(view.realmSnapshot(this.state).config.replication, this.state.nodes.size)
  }

  async setQuota(update: QuotaUpdate): Promise<QuotaConfig> {
    const checked = checkQuotaUpdate(update)
    for (const groupId of quotaUpdateGroups(checked)) {
      if (!this.state.groups.has(groupId)) throw new OrgaError('NotFound', `no group ${groupId}`)
    }
    this.commit({ type: 'set-quota', update: checked })
    return view.realmSnapshot(this.state).config.quota
  }

  // Changes ------------------------------------------------------------------------------------------

  onChange(listener: OrgaChangeListener): () => void {
    return this.log.subscribe(listener)
  }
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}
