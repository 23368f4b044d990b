/**
 * @aruna/orga: a realm's organisation — the realm itself and its config, its nodes and the invites
 * that admit new ones, groups with their members, users with their OIDC identities, roles with their
 * path rules, and revoked realm tokens. The `OrgaStore` port is what the network layer asks about
 * membership, the authorizer about roles, and the REST edge about everything else. The real store (to
 * come) keeps this in Automerge documents replicated to every node; `MemoryOrgaStore` is the in-memory
 * mock, and `@aruna/orga/testing` holds the compliance suites both must pass.
 */

export { isOrgaError, OrgaError, type OrgaErrorCode } from './errors.js'
export { createMemoryReplicas, type MemoryReplicas, syncReplicas } from './memory/replicas.js'
export { MemoryOrgaStore, type MemoryOrgaStoreInit } from './memory/store.js'
export type { OrgaStore } from './port.js'
export type * from './types.js'
export { isUlid, type UlidFactory, type UlidFactoryOptions, ulidFactory, ulidTime } from './ulid.js'
