/**
 * Applying realm-document operations (name, config, nodes, invites, revoked tokens, access keys) to
 * the state. Each function checks against the state first and throws an `OrgaError` before touching
 * anything, so a refused operation leaves the state as it was. It returns what changed (nothing for a
 * no-op).
 */

import { OrgaError } from '../errors.js'
import { applyQuotaUpdate } from '../quota.js'
import { applyOverride, REPLICATION_KINDS } from '../replication.js'
import type { OrgaChange, ReplicationFactors, ReplicationOverride } from '../types.js'
import type { OrgaOp } from './ops.js'
import type { OrgaState } from './state.js'

export type ChangeTarget = Omit<OrgaChange, 'origin'>

type Op<T extends OrgaOp['type']> = Extract<OrgaOp, { type: T }>

export function renameRealm(state: OrgaState, op: Op<'rename-realm'>): ChangeTarget[] {
  if (state.realmName === op.name) return []
  state.realmName = op.name
  return [{ kind: 'realm', id: state.realmId }]
}

export function setReplication(state: OrgaState, op: Op<'set-replication'>): ChangeTarget[] {
  const { target, update } = op
  if (target.scope === 'realm') {
    const next = { ...state.replicationDefault, ...applyOverride(state.replicationDefault, update) }
    if (sameFactors(next, state.replicationDefault)) return []
    state.replicationDefault = next as ReplicationFactors
    return [{ kind: 'config', id: state.realmId }]
  }
  const [map, key] =
    target.scope === 'group'
      ? [state.groupReplication, target.groupId]
      : [state.pathReplication, target.prefix]
  if (target.scope === 'group' && !state.groups.has(target.groupId)) {
    throw new OrgaError('NotFound', `no group ${target.groupId}`)
  }
  const before = map.get(key)
  const next = applyOverride(before, update)
  if (sameFactors(before, next)) return []
  if (next === undefined) map.delete(key)
  else map.set(key, next)
  return [{ kind: 'config', id: key }]
}

/** Group overrides for groups that are gone (deleted by an operation ordered first) are left out. */
export function setQuota(state: OrgaState, op: Op<'set-quota'>): ChangeTarget[] {
  const next = applyQuotaUpdate(state.quota, op.update, (groupId) => state.groups.has(groupId))
  if (JSON.stringify(next) === JSON.stringify(state.quota)) return []
  state.quota = next
  return [{ kind: 'config', id: state.realmId }]
}

function sameFactors(a: ReplicationOverride | undefined, b: ReplicationOverride | undefined): boolean {
  return (a === undefined) === (b === undefined) && REPLICATION_KINDS.every((kind) => a?.[kind] === b?.[kind])
}

export function addNode(state: OrgaState, op: Op<'add-node'>, at: number): ChangeTarget[] {
  if (state.nodes.has(op.node.peerId))
    throw new OrgaError('AlreadyExists', `node ${op.node.peerId} is listed`)
  state.nodes.set(op.node.peerId, { ...op.node, addresses: [...op.node.addresses], addedAt: at })
  return [{ kind: 'node', id: op.node.peerId }]
}

export function setNodeAddresses(state: OrgaState, op: Op<'set-node-addresses'>): ChangeTarget[] {
  const node = state.nodes.get(op.peerId)
  if (node === undefined) throw new OrgaError('NotFound', `no node ${op.peerId}`)
  if (JSON.stringify(node.addresses) === JSON.stringify(op.addresses)) return []
  state.nodes.set(op.peerId, { ...node, addresses: [...op.addresses] })
  return [{ kind: 'node', id: op.peerId }]
}

export function removeNode(state: OrgaState, op: Op<'remove-node'>): ChangeTarget[] {
  if (!state.nodes.delete(op.peerId)) throw new OrgaError('NotFound', `no node ${op.peerId}`)
  return [{ kind: 'node', id: op.peerId }]
}

export function createInvite(state: OrgaState, op: Op<'create-invite'>, at: number): ChangeTarget[] {
  state.invites.set(op.inviteId, {
    id: op.inviteId,
    secretHash: op.secretHash,
    createdAt: at,
    expiresAt: op.expiresAt,
  })
  return [{ kind: 'invite', id: op.inviteId }]
}

export function cancelInvite(state: OrgaState, op: Op<'cancel-invite'>): ChangeTarget[] {
  if (!state.invites.delete(op.inviteId)) throw new OrgaError('NotFound', `no invite ${op.inviteId}`)
  return [{ kind: 'invite', id: op.inviteId }]
}

export function redeemInvite(state: OrgaState, op: Op<'redeem-invite'>, at: number): ChangeTarget[] {
  const invite = [...state.invites.values()].find((candidate) => candidate.secretHash === op.secretHash)
  if (invite === undefined) throw new OrgaError('NotFound', 'no such invite')
  if (invite.redeemedBy !== undefined) throw new OrgaError('InviteUsed', 'the invite has been used')
  if (at >= invite.expiresAt) throw new OrgaError('InviteExpired', 'the invite has expired')
  const { peerId } = op.node
  if (state.nodes.has(peerId)) throw new OrgaError('AlreadyExists', `node ${peerId} is listed`)
  invite.redeemedBy = peerId
  invite.redeemedAt = at
  state.nodes.set(peerId, { ...op.node, addresses: [...op.node.addresses], kind: 'server', addedAt: at })
  return [
    { kind: 'invite', id: invite.id },
    { kind: 'node', id: peerId },
  ]
}

export function revokeToken(state: OrgaState, op: Op<'revoke-token'>): ChangeTarget[] {
  if (state.revokedTokens.has(op.jti)) return []
  state.revokedTokens.add(op.jti)
  return [{ kind: 'token', id: op.jti }]
}

export function addAccessKey(state: OrgaState, op: Op<'add-access-key'>): ChangeTarget[] {
  const { accessKeyId, userId } = op.record
  if (!state.users.has(userId)) throw new OrgaError('NotFound', `no user ${userId}`)
  if (state.accessKeys.has(accessKeyId) || state.revokedAccessKeys.has(accessKeyId)) {
    throw new OrgaError('AlreadyExists', `access key ${accessKeyId} exists`)
  }
  state.accessKeys.set(accessKeyId, op.record)
  return [{ kind: 'accessKey', id: accessKeyId, userId }]
}

export function revokeAccessKey(state: OrgaState, op: Op<'revoke-access-key'>): ChangeTarget[] {
  if (state.revokedAccessKeys.has(op.accessKeyId)) return []
  const record = state.accessKeys.get(op.accessKeyId)
  if (record === undefined) throw new OrgaError('NotFound', `no access key ${op.accessKeyId}`)
  state.accessKeys.delete(op.accessKeyId)
  state.revokedAccessKeys.add(op.accessKeyId)
  return [{ kind: 'accessKey', id: op.accessKeyId, userId: record.userId }]
}
