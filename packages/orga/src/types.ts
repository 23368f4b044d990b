/**
 * The records and inputs of the `OrgaStore` port. Every record a store returns is a snapshot: changing
 * it changes nothing in the store. Ids are ULIDs (26 characters, Crockford base32, upper case); times
 * are milliseconds since the Unix epoch.
 *
 * The permission types are structurally those of `@aruna/auth` (`Permission`, `PermissionRule`,
 * `RoleScope`, and `RoleRecord` is assignable to its `Role`), declared here until orga imports auth.
 */

// ---------------------------------------------------------------------------------------------------
// Realm and config

/** Data (object chunks) or metadata (RO-Crate documents). */
export type ReplicationKind = 'data' | 'metadata'

/** How many nodes hold a copy: an integer ≥ 1, or every node of the realm. */
export type ReplicationFactor = number | 'all'

export interface ReplicationFactors {
  readonly data: ReplicationFactor
  readonly metadata: ReplicationFactor
}

/** An override sets either kind, or both; an unset kind falls through to the next shorter prefix. */
export interface ReplicationOverride {
  readonly data?: ReplicationFactor
  readonly metadata?: ReplicationFactor
}

export interface ReplicationConfig {
  readonly default: ReplicationFactors
  /** Overrides per group id; a group override acts as the prefix `/{realm}/g/{group}`. */
  readonly groups: Readonly<Record<string, ReplicationOverride>>
  /** Overrides per path prefix (`/{realm}/…`, no trailing slash, no wildcards). */
  readonly paths: Readonly<Record<string, ReplicationOverride>>
}

/** Storage limits of one group; an absent kind is no limit. */
export interface GroupQuota {
  readonly bytes?: number
  readonly objects?: number
}

export interface QuotaConfig {
  /** Bytes / objects every group may store unless overridden; absent: no limit. */
  readonly defaultGroup: GroupQuota
  /** Per group id; a kind set here replaces the default's, absent kinds fall through to the default. */
  readonly groups: Readonly<Record<string, GroupQuota>>
  /** Percent above a quota still accepted (0..100, default 0). */
  readonly gracePercent: number
  /** Percent of a quota at which usage is reported as a warning (1..100, default 90). */
  readonly warnPercent: number
  /** Groups one user may be a member of at most; absent: no cap. */
  readonly maxGroupsPerUser?: number
}

export interface RealmConfig {
  readonly replication: ReplicationConfig
  readonly quota: QuotaConfig
}

export interface RealmInfo {
  /** The realm's Ed25519 public key in its base32/base64url form; also the first segment of paths. */
  readonly id: string
  readonly name: string
  readonly createdAt: number
  readonly config: RealmConfig
}

/** Where a replication setting applies. */
export type ReplicationTarget =
  | { readonly scope: 'realm' }
  | { readonly scope: 'group'; readonly groupId: string }
  | { readonly scope: 'path'; readonly prefix: string }

/** A change to one target's factors: a value sets the kind, `null` removes an override's kind. */
export interface ReplicationUpdate {
  readonly data?: ReplicationFactor | null
  readonly metadata?: ReplicationFactor | null
}

/** A setting the realm cannot honour yet: more copies than nodes. Not a failure. */
export interface ReplicationWarning {
  readonly code: 'FactorAboveNodeCount'
  readonly target: ReplicationTarget
  readonly kind: ReplicationKind
  readonly factor: number
  readonly nodes: number
  readonly message: string
}

export interface ReplicationResult {
  readonly warnings: readonly ReplicationWarning[]
}

/** A limit to set, or `null` to remove it. */
export interface GroupQuotaUpdate {
  readonly bytes?: number | null
  readonly objects?: number | null
}

/** A change: a value sets, `null` removes (a group's whole entry with `groups: { id: null }`). */
export interface QuotaUpdate {
  readonly defaultGroup?: GroupQuotaUpdate
  readonly groups?: Readonly<Record<string, GroupQuotaUpdate | null>>
  readonly gracePercent?: number
  readonly warnPercent?: number
  readonly maxGroupsPerUser?: number | null
}

/** The limits that apply to one group: its override's kinds, else the default's, and the percents. */
export interface EffectiveGroupQuota {
  bytes?: number
  objects?: number
  gracePercent: number
  warnPercent: number
}

// ---------------------------------------------------------------------------------------------------
// Nodes and invites

/** A management node holds the realm signing key; a server node holds a delegation from it. */
export type NodeKind = 'management' | 'server'

export interface NodeInit {
  /** The node's libp2p peer id (its Ed25519 key), letters and digits only. */
  readonly peerId: string
  readonly kind: NodeKind
  /** The realm's signature over the node's key, encoded by `@aruna/auth`; the store keeps it opaque. */
  readonly delegation: string
  /** Multiaddrs the node listens on (each starts with `/`); may be empty. */
  readonly addresses: readonly string[]
}

export interface NodeRecord extends NodeInit {
  readonly addedAt: number
}

/** A node joining with an invite; it becomes a `server` node. */
export interface JoiningNode {
  readonly peerId: string
  readonly delegation: string
  readonly addresses: readonly string[]
}

export interface InviteOptions {
  /** Lifetime in milliseconds: an integer from 1 to 30 days. */
  readonly ttlMs: number
}

/** A new invite. The secret is shown only here: the store keeps its hash. */
export interface CreatedInvite {
  readonly id: string
  /** 32 random bytes, base64url without padding (43 characters). */
  readonly secret: string
  readonly expiresAt: number
}

export interface InviteRecord {
  readonly id: string
  readonly createdAt: number
  readonly expiresAt: number
  /** The peer id that redeemed the invite, once redeemed. */
  readonly redeemedBy?: string
  readonly redeemedAt?: number
}

// ---------------------------------------------------------------------------------------------------
// Groups and users

export interface GroupInit {
  /** Display name: 1–128 characters, no control characters; stored trimmed; need not be unique. */
  readonly name: string
}

export interface Group {
  readonly id: string
  readonly name: string
  /** Member user ids, ascending. */
  readonly members: readonly string[]
  readonly createdAt: number
}

/** An OIDC identity: the issuer (exactly as in `iss`) and the subject (`sub`). */
export interface OidcSubject {
  readonly issuer: string
  readonly subject: string
}

export interface User {
  readonly id: string
  readonly displayName: string
  /** The identities that log in as this user, in the order they were bound. */
  readonly identities: readonly OidcSubject[]
  /**
   * Free attributes (e.g. mapped from OIDC claims): keys of 1–64 characters `[A-Za-z0-9_.:-]` starting
   * with a letter; string values of at most 1024 characters.
   */
  readonly attributes: Readonly<Record<string, string>>
  readonly createdAt: number
}

/** A first (or a repeated) OIDC login. */
export interface UserRegistration extends OidcSubject {
  readonly displayName: string
  readonly attributes?: Readonly<Record<string, string>>
}

export interface Registration {
  readonly user: User
  /** True when this call created the user; false when the identity already had one. */
  readonly created: boolean
}

export interface UserPatch {
  readonly displayName?: string
  /** Keys to set; a `null` value removes the key. Keys not named stay as they are. */
  readonly attributes?: Readonly<Record<string, string | null>>
}

// ---------------------------------------------------------------------------------------------------
// Roles

/** What a rule says about the paths its pattern matches. WRITE implies READ; DENY wins. */
export type Permission = 'READ' | 'WRITE' | 'DENY'

/**
 * A path pattern and its permission. Patterns start with `/`, have no empty, `.` or `..` segments, and
 * use `**` only as a whole segment; `*` matches one segment (auth evaluates them).
 */
export interface PermissionRule {
  readonly pattern: string
  readonly permission: Permission
}

/** A group role's scope names its group; a realm role's scope has none. */
export interface RoleScope {
  readonly realm: string
  readonly group?: string
}

export interface RoleInit {
  /** 1–128 characters, no control characters, stored trimmed; unique (ignoring case) in its scope. */
  readonly name: string
  /** The group the role belongs to; without it, a realm role. */
  readonly group?: string
  /** At most 256 rules, no pattern twice. */
  readonly rules: readonly PermissionRule[]
}

export interface RolePatch {
  readonly name?: string
  /** Replaces all rules. */
  readonly rules?: readonly PermissionRule[]
}

export interface RoleRecord {
  readonly id: string
  readonly name: string
  readonly scope: RoleScope
  readonly rules: readonly PermissionRule[]
  /** Assigned user ids, ascending. */
  readonly members: readonly string[]
  readonly createdAt: number
}

// ---------------------------------------------------------------------------------------------------
// S3 access keys

/**
 * An access key's secret as `@aruna/auth` seals it (AES-256-GCM under the realm-wide access key
 * encryption key): opaque text to the store, which never sees the secret itself. Structurally
 * `@aruna/auth`'s `SealedSecret`.
 */
export interface SealedAccessKeySecret {
  /** Which encryption key sealed it (a fingerprint). */
  readonly keyId: string
  readonly iv: string
  readonly ciphertext: string
  readonly tag: string
}

/**
 * One S3 access key, replicated to every node so any of them can verify SigV4 for it. Structurally
 * `@aruna/auth`'s `AccessKeyRecord`: the id (`AK` + 18 base32 characters), the user it belongs to, its
 * creation time in **seconds** since the epoch, an optional description (at most 256 characters, may be
 * empty) and the sealed secret (each field 1–1024 characters).
 */
export interface AccessKeyRecord {
  readonly accessKeyId: string
  readonly userId: string
  readonly createdAt: number
  readonly description?: string
  readonly sealed: SealedAccessKeySecret
}

// ---------------------------------------------------------------------------------------------------
// Changes

/**
 * What changed. `id` is the realm id (`realm`), the target's key (`config`: realm id, group id or
 * prefix), a peer id (`node`), an invite id, a group id (also for member changes, with `userId`), a user
 * id, a role id (also for assignments, with `userId`), a token id (`token`) or an access key id
 * (`accessKey`, always with the key's `userId`: added, revoked, or gone with its user).
 */
export type OrgaChangeKind =
  | 'realm'
  | 'config'
  | 'node'
  | 'invite'
  | 'group'
  | 'user'
  | 'role'
  | 'token'
  | 'accessKey'

/**
 * A notice that an entity changed (was created, updated or removed): listeners re-read what they need.
 * Notices carry no before/after values because merged replicas may reach a state no single operation
 * produced.
 */
export interface OrgaChange {
  readonly kind: OrgaChangeKind
  readonly id: string
  readonly userId?: string
  /** `local` for an operation on this replica, `remote` for one that arrived from another. */
  readonly origin: 'local' | 'remote'
}

export type OrgaChangeListener = (change: OrgaChange) => void
