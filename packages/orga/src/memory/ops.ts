/**
 * Every change the memory store makes, as data. A replica applies its own operations as they happen
 * and replays everyone's in one total order after a sync, so replicas that hold the same operations hold
 * the same state. An operation carries everything it needs (ids, times), so replaying it elsewhere
 * gives the same result.
 */

import type {
  AccessKeyRecord,
  JoiningNode,
  NodeInit,
  OidcSubject,
  PermissionRule,
  QuotaUpdate,
  ReplicationTarget,
  ReplicationUpdate,
  UserPatch,
} from '../types.js'

export type OrgaOp =
  | { readonly type: 'rename-realm'; readonly name: string }
  | {
      readonly type: 'set-replication'
      readonly target: ReplicationTarget
      readonly update: ReplicationUpdate
    }
  | { readonly type: 'set-quota'; readonly update: QuotaUpdate }
  | { readonly type: 'add-node'; readonly node: NodeInit }
  | { readonly type: 'set-node-addresses'; readonly peerId: string; readonly addresses: readonly string[] }
  | { readonly type: 'remove-node'; readonly peerId: string }
  | {
      readonly type: 'create-invite'
      readonly inviteId: string
      readonly secretHash: string
      readonly expiresAt: number
    }
  | { readonly type: 'cancel-invite'; readonly inviteId: string }
  | { readonly type: 'redeem-invite'; readonly secretHash: string; readonly node: JoiningNode }
  | { readonly type: 'revoke-token'; readonly jti: string }
  | { readonly type: 'add-access-key'; readonly record: AccessKeyRecord }
  | { readonly type: 'revoke-access-key'; readonly accessKeyId: string }
  | { readonly type: 'create-group'; readonly groupId: string; readonly name: string }
  | { readonly type: 'rename-group'; readonly groupId: string; readonly name: string }
  | { readonly type: 'delete-group'; readonly groupId: string }
  | { readonly type: 'add-member'; readonly groupId: string; readonly userId: string }
  | { readonly type: 'remove-member'; readonly groupId: string; readonly userId: string }
  | {
      readonly type: 'register-user'
      readonly userId: string
      readonly identity: OidcSubject
      readonly displayName: string
      readonly attributes: Readonly<Record<string, string>>
    }
  | { readonly type: 'update-user'; readonly userId: string; readonly patch: UserPatch }
  | { readonly type: 'add-identity'; readonly userId: string; readonly identity: OidcSubject }
  | {
      readonly type: 'create-role'
      readonly roleId: string
      readonly name: string
      readonly groupId: string | undefined
      readonly rules: readonly PermissionRule[]
    }
  | {
      readonly type: 'update-role'
      readonly roleId: string
      readonly name: string | undefined
      readonly rules: readonly PermissionRule[] | undefined
    }
  | { readonly type: 'delete-role'; readonly roleId: string }
  | { readonly type: 'assign-role'; readonly roleId: string; readonly userId: string }
  | { readonly type: 'revoke-role'; readonly roleId: string; readonly userId: string }

/** An operation as a replica logged it: when (its clock), where, and its position there. */
export interface StampedOp {
  /** Lamport clock: greater than every clock the replica had seen when it made the operation. */
  readonly clock: number
  readonly replica: string
  readonly seq: number
  /** Milliseconds since the Unix epoch at the origin; replays use it instead of their own clock. */
  readonly at: number
  readonly op: OrgaOp
}

/** The total order every replica replays in: clock, then replica, then sequence. */
export function compareStamped(a: StampedOp, b: StampedOp): number {
  if (a.clock !== b.clock) return a.clock - b.clock
  if (a.replica !== b.replica) return a.replica < b.replica ? -1 : 1
  return a.seq - b.seq
}

export function stampKey(op: StampedOp): string {
  return `${op.replica}:${op.seq}`
}
