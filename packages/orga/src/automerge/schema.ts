/**
 * The Automerge documents of a realm's organisation, as stored: one realm document, one per group,
 * one per user. Strings nobody edits character by character (ids, names, hashes, URLs) are
 * `ImmutableString`s, so concurrent writes of one field resolve last-writer-wins instead of merging
 * text. Sets are maps to `true`, so concurrent additions both survive.
 *
 * Every nested map is created with its document: Automerge resolves two concurrent creations of one
 * key by keeping only one of the two objects, so nothing here is created lazily. The exceptions:
 * `accessKeys` and `revokedAccessKeys` came later, so a realm document made before them gets them in
 * the first change that needs them; readers take the union of every concurrently created copy
 * (`Automerge.getConflicts`), so nothing written into a losing copy is lost. `quota` came later too
 * and is created the same way; writers write every copy and readers take each field from the first
 * copy (in op id order) that has it, so replicas agree.
 */

import type { ImmutableString } from '@automerge/automerge-repo'

export const SCHEMA_VERSION = 1
export const REALM_DOC_KIND = 'aruna-orga-realm'
export const GROUP_DOC_KIND = 'aruna-orga-group'
export const USER_DOC_KIND = 'aruna-orga-user'

/** `'all'` is stored as an `ImmutableString`. */
export type StoredFactor = number | ImmutableString

/** One map per kind, so setting data and metadata of one target concurrently keeps both. */
export interface StoredOverrides {
  data: Record<string, StoredFactor>
  metadata: Record<string, StoredFactor>
}

export interface StoredNode {
  kind: ImmutableString
  delegation: ImmutableString
  addresses: ImmutableString[]
  addedAt: number
  /** The invite this node redeemed; it counts only while it is the invite's winning redemption. */
  invite?: ImmutableString
}

export interface StoredInvite {
  secretHash: ImmutableString
  createdAt: number
  expiresAt: number
  /** Kept as a tombstone, so a redemption made concurrently with the cancel still has a rival. */
  cancelled: boolean
  /** Peer id → when it redeemed. The earliest (then the smallest peer id) wins. */
  redemptions: Record<string, number>
}

export interface StoredRule {
  pattern: ImmutableString
  permission: ImmutableString
}

export interface StoredRole {
  name: ImmutableString
  createdAt: number
  rules: StoredRule[]
  members: Record<string, true>
}

/** An access key's sealed secret (AES-GCM, by `@aruna/auth`): opaque base64url text. */
export interface StoredSealedSecret {
  keyId: ImmutableString
  iv: ImmutableString
  ciphertext: ImmutableString
  tag: ImmutableString
}

/** One S3 access key; the map key is its id. Written once, never edited: revoking removes it. */
export interface StoredAccessKey {
  userId: ImmutableString
  /** Seconds since the epoch (as `@aruna/auth` counts). */
  createdAt: number
  description?: ImmutableString
  sealed: StoredSealedSecret
}

/**
 * The storage quota config. Absent values are the defaults (no limit; grace 0 %, warning at 90 %).
 * Group overrides are one map per kind, so setting bytes and objects of one group concurrently keeps
 * both; deleting a group deletes its entries.
 */
export interface StoredQuota {
  defaultGroup: { bytes?: number; objects?: number }
  groups: { bytes: Record<string, number>; objects: Record<string, number> }
  gracePercent?: number
  warnPercent?: number
  maxGroupsPerUser?: number
}

export interface RealmDoc {
  kind: ImmutableString
  schema: number
  realmId: ImmutableString
  name: ImmutableString
  createdAt: number
  replication: {
    default: { data: StoredFactor; metadata: StoredFactor }
    groups: StoredOverrides
    paths: StoredOverrides
  }
  nodes: Record<string, StoredNode>
  invites: Record<string, StoredInvite>
  revokedTokens: Record<string, true>
  /** Group id → the group document's URL. Deleting a group removes its entry. */
  groups: Record<string, ImmutableString>
  /** User id → the user document's URL. */
  users: Record<string, ImmutableString>
  /** The realm's roles. */
  roles: Record<string, StoredRole>
  /**
   * S3 access keys by id. Optional: absent from realm documents made before access keys existed
   * (created by the first change that adds one).
   */
  accessKeys?: Record<string, StoredAccessKey>
  /** Revoked access key ids: a set that only grows, so a revocation survives every merge. Optional too. */
  revokedAccessKeys?: Record<string, true>
  /** Storage quotas. Optional: absent from realm documents made before quotas (read as the defaults). */
  quota?: StoredQuota
}

export interface GroupDoc {
  kind: ImmutableString
  schema: number
  id: ImmutableString
  name: ImmutableString
  createdAt: number
  members: Record<string, true>
  roles: Record<string, StoredRole>
}

export interface StoredIdentity {
  issuer: ImmutableString
  subject: ImmutableString
}

export interface UserDoc {
  kind: ImmutableString
  schema: number
  id: ImmutableString
  displayName: ImmutableString
  createdAt: number
  identities: StoredIdentity[]
  attributes: Record<string, ImmutableString>
}
