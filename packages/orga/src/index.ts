/**
 * @aruna/orga: a realm's organisation — the realm itself and its config, its nodes and the invites
 * that admit new ones, groups with their members, users with their OIDC identities, roles with their
 * path rules, revoked realm tokens, the sealed S3 access keys every node verifies, and the replication
 * and storage quota settings. The `OrgaStore`
 * port is what the network layer asks about membership, the authorizer about roles, and the REST edge
 * about everything else. `AutomergeOrgaStore` is the real store: Automerge documents (automerge-repo)
 * replicated to every node, kept on disk by `@aruna/platform`'s crash-safe `FsyncStorageAdapter`. `MemoryOrgaStore` is
 * the in-memory mock, and `@aruna/orga/testing` holds the compliance suites both must pass.
 */

export {
  type DirectoryOrgaStoreOptions,
  openDirectoryOrgaStore,
} from './automerge/directory.js'
export type { SyncStatus } from './automerge/documents.js'
export { InProcessSyncAdapter, InProcessSyncNetwork } from './automerge/in-process-network.js'
export {
  type AutomergeReplicas,
  type AutomergeReplicasInit,
  createAutomergeReplicas,
  settleReplicas,
} from './automerge/replicas.js'
export type {
  GroupDoc,
  RealmDoc,
  StoredAccessKey,
  StoredFactor,
  StoredIdentity,
  StoredInvite,
  StoredNode,
  StoredOverrides,
  StoredQuota,
  StoredRole,
  StoredRule,
  StoredSealedSecret,
  UserDoc,
} from './automerge/schema.js'
export {
  AutomergeOrgaStore,
  type AutomergeOrgaStoreOptions,
  type OpenAutomergeOrgaStoreOptions,
  type RealmGenesis,
} from './automerge/store.js'
export { isOrgaError, OrgaError, type OrgaErrorCode } from './errors.js'
export {
  joinRealmNetwork,
  type LiveNodesListener,
  type MembershipNetwork,
  RealmMembership,
  type RealmMembershipInit,
} from './federation/realm-membership.js'
export { keptUntilChange } from './kept-answers.js'
export { createMemoryReplicas, type MemoryReplicas, syncReplicas } from './memory/replicas.js'
export { MemoryOrgaStore, type MemoryOrgaStoreInit } from './memory/store.js'
export type { OrgaStore } from './port.js'
export {
  DEFAULT_GRACE_PERCENT,
  DEFAULT_WARN_PERCENT,
  defaultQuotaConfig,
  groupQuota,
  isQuotaLimit,
} from './quota.js'
export {
  DelegationRealmCredentials,
  type DelegationRealmCredentialsInit,
  delegatePeer,
  ed25519KeyOfPeerId,
  type NodeListPredicate,
  nodeKeyIdOfPeer,
} from './realm-credentials.js'
export {
  isReplicationFactor,
  MAX_REPLICATION_FACTOR,
  REPLICATION_FACTOR_RULE,
} from './replication.js'
export {
  type ConfigView,
  type CreateRoleInput,
  DEFAULT_DELEGATION_TTL_SECONDS,
  type JoinedNode,
  type LoginInput,
  NoRealmKeyError,
  type OrgaOperation,
  OrgaService,
  type OrgaServiceInit,
  orgaRoleSource,
  type RedeemInviteInput,
  type UpdateRoleInput,
} from './service/orga-service.js'
export {
  type InitializedRealm,
  type InitRealmOptions,
  initRealm,
  loadRealmKey,
  REALM_KEY_FILE,
} from './service/realm-init.js'
export type * from './types.js'
