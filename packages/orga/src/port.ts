/**
 * The port of `@aruna/orga`: the realm's organisation as the layers above read and write it. The real
 * implementation, `AutomergeOrgaStore`, keeps it in Automerge documents (one realm document, one per group, one per
 * user) replicated to every node; `MemoryOrgaStore` is the in-memory mock. Both must pass
 * `runOrgaStoreTests` (and, with several replicas, `runOrgaReplicaTests`) from `@aruna/orga/testing`.
 *
 * Rules every method follows:
 * - Input is checked first; a malformed id (not a ULID), name, peer id or option fails with
 *   `InvalidInput`, a well-formed id that names nothing with `NotFound`.
 * - The lookups security layers make on every request (`isMember`, `isRevoked`, `rolesForUser`,
 *   `getAccessKey`) never throw: anything that is not a listed peer, a revoked id, a known user or an
 *   active access key gets `false`, `[]` or `undefined`; they answer from memory.
 * - A failed call changes nothing and notifies nobody.
 * - The store does not check who calls: a service layer above does that (with `@aruna/auth`).
 * - Listings are sorted as each method says, so every replica lists in the same order.
 * - Change listeners have been called by the time a mutating call resolves; a call that changes
 *   nothing (adding a member twice) notifies nobody.
 * - Replicas converge: once they have exchanged changes, every read answers the same on all of them.
 */

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
  OrgaChangeListener,
  QuotaConfig,
  QuotaUpdate,
  RealmInfo,
  Registration,
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
} from './types.js'

export interface OrgaStore {
  // -------------------------------------------------------------------------------------------------
  // Realm

  /** The realm's id, name, creation time and config. */
  getRealm(): Promise<RealmInfo>

  /** Renames the realm (its id never changes). `InvalidInput` for a bad name. */
  renameRealm(name: string): Promise<RealmInfo>

  // -------------------------------------------------------------------------------------------------
  // Nodes

  /**
   * Adds a node to the realm's node list, e.g. the first node at `aruna init`.
   * @throws `AlreadyExists` when the peer id is listed; `InvalidInput` for a malformed peer id, kind,
   *   delegation or address.
   */
  addNode(node: NodeInit): Promise<NodeRecord>

  /** Replaces a node's addresses. `NotFound` for an unlisted peer id. */
  updateNodeAddresses(peerId: string, addresses: readonly string[]): Promise<NodeRecord>

  /** Removes a node: it stops being a member at once. `NotFound` for an unlisted peer id. */
  removeNode(peerId: string): Promise<void>

  /** `NotFound` for an unlisted peer id. */
  getNode(peerId: string): Promise<NodeRecord>

  /** All nodes, by peer id ascending. */
  listNodes(): Promise<NodeRecord[]>

  /**
   * Whether the peer is in the node list: the network layer's membership predicate (it checks the
   * delegation itself). False, never an error, for any string that is not a listed peer id.
   */
  isMember(peerId: string): Promise<boolean>

  // -------------------------------------------------------------------------------------------------
  // Invites

  /** Makes a one-time invite. `InvalidInput` for a ttl that is not an integer from 1 ms to 30 days. */
  createInvite(options: InviteOptions): Promise<CreatedInvite>

  /** Every invite not cancelled (expired and redeemed ones too), by id: creation order. */
  listInvites(): Promise<InviteRecord[]>

  /** Withdraws an invite so it cannot be redeemed. `NotFound` if unknown or already cancelled. */
  cancelInvite(inviteId: string): Promise<void>

  /**
   * Consumes the invite and adds the node as a `server` node, in one change: either both happen or
   * neither. Redeeming one invite twice (even concurrently, even on two replicas) admits one node.
   * @throws `InvalidInput` (malformed secret or node), `NotFound` (no such invite, or cancelled),
   *   `InviteUsed`, `InviteExpired`, `AlreadyExists` (the peer is already a node; the invite stays
   *   unused) — checked in that order.
   */
  redeemInvite(secret: string, node: JoiningNode): Promise<NodeRecord>

  // -------------------------------------------------------------------------------------------------
  // Groups

  /** Creates a group with a new ULID and no members. `InvalidInput` for a bad name. */
  createGroup(init: GroupInit): Promise<Group>

  getGroup(groupId: string): Promise<Group>

  /**
   * Groups ordered by name (ignoring case, then by code unit), then by id; with `member`, only the
   * groups that user belongs to (an unknown user belongs to none).
   */
  listGroups(options?: { readonly member?: string }): Promise<Group[]>

  renameGroup(groupId: string, name: string): Promise<Group>

  /** Deletes the group with its roles (and their assignments) and its replication override. */
  deleteGroup(groupId: string): Promise<void>

  /**
   * Adds a member. Idempotent. `NotFound` for an unknown group or user; `LimitExceeded` when the user
   * is already a member of `maxGroupsPerUser` groups (the quota config's cap, checked on this replica:
   * members added concurrently on two replicas may exceed it once merged).
   */
  addMember(groupId: string, userId: string): Promise<Group>

  /**
   * Removes a member and revokes the user's roles of this group. Idempotent for a non-member.
   * `NotFound` for an unknown group or user.
   */
  removeMember(groupId: string, userId: string): Promise<Group>

  // -------------------------------------------------------------------------------------------------
  // Users

  /**
   * Maps an OIDC login to a user: the user bound to (`issuer`, `subject`) if there is one (unchanged),
   * else a new user with that identity. Concurrent registrations of one identity yield one user.
   */
  registerUser(registration: UserRegistration): Promise<Registration>

  getUser(userId: string): Promise<User>

  /** The user bound to the identity, or `undefined`. `InvalidInput` for a malformed issuer/subject. */
  findUserByIdentity(identity: OidcSubject): Promise<User | undefined>

  /** All users by id (creation order). */
  listUsers(): Promise<User[]>

  /** Changes a user's display name and attributes. */
  updateUser(userId: string, patch: UserPatch): Promise<User>

  /**
   * Binds another identity to a user (a second identity provider). Idempotent for an identity already
   * bound to this user; `AlreadyExists` when it is bound to another user.
   */
  addIdentity(userId: string, identity: OidcSubject): Promise<User>

  // -------------------------------------------------------------------------------------------------
  // Roles

  /**
   * Creates a role in a group (`init.group`) or in the realm.
   * @throws `NotFound` (group), `InvalidInput` (name, rules list, permission, duplicate pattern),
   *   `InvalidPattern`, `PatternOutsideGroup`, `PatternOutsideRealm`, `AlreadyExists` (name in scope).
   */
  createRole(init: RoleInit): Promise<RoleRecord>

  getRole(roleId: string): Promise<RoleRecord>

  /**
   * A group's roles, or without `group` the realm's roles; by name (ignoring case), then id.
   * `NotFound` for an unknown group.
   */
  listRoles(options?: { readonly group?: string }): Promise<RoleRecord[]>

  /** Renames a role and/or replaces its rules, checked as in `createRole`. */
  updateRole(roleId: string, patch: RolePatch): Promise<RoleRecord>

  /** Deletes a role and its assignments. */
  deleteRole(roleId: string): Promise<void>

  /**
   * Assigns a role to a user. Idempotent. `NotFound` for an unknown role or user; `NotMember` when a
   * group role's user is not a member of the group.
   */
  assignRole(roleId: string, userId: string): Promise<RoleRecord>

  /** Takes a role from a user. Idempotent. `NotFound` for an unknown role or user. */
  revokeRole(roleId: string, userId: string): Promise<RoleRecord>

  /**
   * Every role the user holds: realm roles first, then group roles by group id; by name within each.
   * A group role counts only while the user is a member of its group. An unknown user has none (`[]`).
   * This is what the authorizer's `RoleSource` answers from.
   */
  rolesForUser(userId: string): Promise<RoleRecord[]>

  // -------------------------------------------------------------------------------------------------
  // Revoked realm tokens

  /** Adds a token id to the realm's revoked set. Idempotent. `InvalidInput` for a malformed id. */
  revokeToken(jti: string): Promise<void>

  /** Whether the token id is revoked (the authorizer's `RevocationSource`). */
  isRevoked(jti: string): Promise<boolean>

  // -------------------------------------------------------------------------------------------------
  // S3 access keys (sealed secrets, replicated so every node can verify SigV4 for them)

  /**
   * Adds an access key record as `@aruna/auth`'s `EncryptedAccessKeyStore` made it: only its fields are
   * kept (the secret stays sealed). A revoked id stays taken.
   * @throws `InvalidInput` (id not `AK` + 18 base32 characters, user id not a ULID, `createdAt` not a
   *   finite number ≥ 0, a sealed field not a string of 1–1024 characters, a description over 256
   *   characters, control characters), `NotFound` (no such user), `AlreadyExists` (the id is taken) —
   *   checked in that order.
   */
  addAccessKey(record: AccessKeyRecord): Promise<AccessKeyRecord>

  /**
   * The active key with that id, or `undefined`: never an error (any string that is not an active key
   * of a known user gets `undefined`). On the path of every signed S3 request: answered from memory.
   */
  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>

  /**
   * Active keys by id; with `user`, only that user's (an unknown user has none). Keys of a revoked id
   * or of an unknown or hidden user are never listed. `InvalidInput` for a `user` that is not a ULID.
   */
  listAccessKeys(options?: { readonly user?: string }): Promise<AccessKeyRecord[]>

  /**
   * Revokes a key for good: no replica lists it again, even one that merges changes made while it
   * still had the key. Idempotent for a revoked key; `NotFound` for an id never added; `InvalidInput`
   * for a malformed id.
   */
  revokeAccessKey(accessKeyId: string): Promise<void>

  // -------------------------------------------------------------------------------------------------
  // Config

  /**
   * Sets replication factors of the realm default, a group or a path prefix. Factors are integers ≥ 1
   * or `'all'`; `null` removes a group's or prefix's override of that kind (the realm default cannot be
   * removed); an override left with no kind disappears.
   * @returns warnings for set factors above the current node count (the setting is still applied).
   * @throws `InvalidInput` (factor, prefix not inside `/{realm}`, empty update, `null` on the realm),
   *   `NotFound` (group).
   */
  setReplication(target: ReplicationTarget, update: ReplicationUpdate): Promise<ReplicationResult>

  /**
   * The factor for a resource path: the override with the longest prefix that matches whole segments
   * and sets this kind (a group override is the prefix `/{realm}/g/{group}`; a path override wins a
   * tie), else the realm default. `'all'` resolves to the node count (at least 1).
   * `InvalidInput` for a path that does not start with `/`.
   */
  replicationFactor(kind: ReplicationKind, path: string): Promise<number>

  /** Every configured factor above the current node count (e.g. after nodes were removed). */
  replicationWarnings(): Promise<ReplicationWarning[]>

  /**
   * Changes the storage quota config (`getRealm().config.quota`): a value sets, `null` removes (a
   * group's whole override with `groups: { [id]: null }`); fields not named stay. Limits are
   * non-negative safe integers (bytes, objects; 0 allows nothing), `gracePercent` an integer 0–100,
   * `warnPercent` 1–100, `maxGroupsPerUser` an integer ≥ 1. A group override left with no kind
   * disappears, and deleting a group deletes its override. Concurrent updates merge per field (last
   * writer wins), the same on every replica.
   * @returns the quota config after the update.
   * @throws `InvalidInput` (a value out of range, a group id that is not a ULID, an unknown field, an
   *   update that changes nothing), `NotFound` (a group that does not exist) — checked in that order.
   */
  setQuota(update: QuotaUpdate): Promise<QuotaConfig>

  // -------------------------------------------------------------------------------------------------
  // Changes

  /**
   * Calls `listener` for every change, local or arriving from another replica, after it is visible to
   * reads. A throwing listener affects neither the change nor other listeners. Returns the unsubscribe
   * function (calling it twice is harmless).
   */
  onChange(listener: OrgaChangeListener): () => void
}
