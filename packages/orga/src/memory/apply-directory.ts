/**
 * Applying group, user and role operations to the state, under the same rules as the realm ones:
 * check first, then change, and report what changed.
 */

import { OrgaError } from '../errors.js'
import { applyQuotaUpdate } from '../quota.js'
import { nameKey } from '../validation.js'
import type { ChangeTarget } from './apply-realm.js'
import type { OrgaOp } from './ops.js'
import { type GroupState, identityKey, type OrgaState, type RoleState, type UserState } from './state.js'

type Op<T extends OrgaOp['type']> = Extract<OrgaOp, { type: T }>

function group(state: OrgaState, groupId: string): GroupState {
  const found = state.groups.get(groupId)
  if (found === undefined) throw new OrgaError('NotFound', `no group ${groupId}`)
  return found
}

function user(state: OrgaState, userId: string): UserState {
  const found = state.users.get(userId)
  if (found === undefined) throw new OrgaError('NotFound', `no user ${userId}`)
  return found
}

function role(state: OrgaState, roleId: string): RoleState {
  const found = state.roles.get(roleId)
  if (found === undefined) throw new OrgaError('NotFound', `no role ${roleId}`)
  return found
}

export function createGroup(state: OrgaState, op: Op<'create-group'>, at: number): ChangeTarget[] {
  if (state.groups.has(op.groupId)) throw new OrgaError('AlreadyExists', `group ${op.groupId} exists`)
  state.groups.set(op.groupId, { id: op.groupId, name: op.name, createdAt: at, members: new Set() })
  return [{ kind: 'group', id: op.groupId }]
}

export function renameGroup(state: OrgaState, op: Op<'rename-group'>): ChangeTarget[] {
  const found = group(state, op.groupId)
  if (found.name === op.name) return []
  found.name = op.name
  return [{ kind: 'group', id: op.groupId }]
}

export function deleteGroup(state: OrgaState, op: Op<'delete-group'>): ChangeTarget[] {
  group(state, op.groupId)
  const changes: ChangeTarget[] = [{ kind: 'group', id: op.groupId }]
  state.groups.delete(op.groupId)
  for (const [roleId, candidate] of state.roles) {
    if (candidate.groupId !== op.groupId) continue
    state.roles.delete(roleId)
    changes.push({ kind: 'role', id: roleId })
  }
  if (state.groupReplication.delete(op.groupId)) changes.push({ kind: 'config', id: op.groupId })
  if (Object.hasOwn(state.quota.groups, op.groupId)) {
    state.quota = applyQuotaUpdate(state.quota, { groups: { [op.groupId]: null } })
    changes.push({ kind: 'config', id: state.realmId })
  }
  return changes
}

export function addMember(state: OrgaState, op: Op<'add-member'>): ChangeTarget[] {
  const found = group(state, op.groupId)
  user(state, op.userId)
  if (found.members.has(op.userId)) return []
  found.members.add(op.userId)
  return [{ kind: 'group', id: op.groupId, userId: op.userId }]
}

export function removeMember(state: OrgaState, op: Op<'remove-member'>): ChangeTarget[] {
  const found = group(state, op.groupId)
  user(state, op.userId)
  if (!found.members.delete(op.userId)) return []
  const changes: ChangeTarget[] = [{ kind: 'group', id: op.groupId, userId: op.userId }]
  // A member who leaves loses the group's roles with the membership.
  for (const candidate of state.roles.values()) {
    if (candidate.groupId === op.groupId && candidate.members.delete(op.userId)) {
      changes.push({ kind: 'role', id: candidate.id, userId: op.userId })
    }
  }
  return changes
}

export function registerUser(state: OrgaState, op: Op<'register-user'>, at: number): ChangeTarget[] {
  const key = identityKey(op.identity)
  if (state.identities.has(key)) throw new OrgaError('AlreadyExists', 'the identity is bound to a user')
  if (state.users.has(op.userId)) throw new OrgaError('AlreadyExists', `user ${op.userId} exists`)
  state.users.set(op.userId, {
    id: op.userId,
    displayName: op.displayName,
    createdAt: at,
    identities: [{ ...op.identity }],
    attributes: new Map(Object.entries(op.attributes)),
  })
  state.identities.set(key, op.userId)
  return [{ kind: 'user', id: op.userId }]
}

export function updateUser(state: OrgaState, op: Op<'update-user'>): ChangeTarget[] {
  const found = user(state, op.userId)
  let changed = false
  const { displayName, attributes } = op.patch
  if (displayName !== undefined && displayName !== found.displayName) {
    found.displayName = displayName
    changed = true
  }
  for (const [key, value] of Object.entries(attributes ?? {})) {
    if (value === null) changed = found.attributes.delete(key) || changed
    else if (found.attributes.get(key) !== value) {
      found.attributes.set(key, value)
      changed = true
    }
  }
  return changed ? [{ kind: 'user', id: op.userId }] : []
}

export function addIdentity(state: OrgaState, op: Op<'add-identity'>): ChangeTarget[] {
  const found = user(state, op.userId)
  const key = identityKey(op.identity)
  const owner = state.identities.get(key)
  if (owner === op.userId) return []
  if (owner !== undefined) throw new OrgaError('AlreadyExists', 'the identity is bound to another user')
  found.identities.push({ ...op.identity })
  state.identities.set(key, op.userId)
  return [{ kind: 'user', id: op.userId }]
}

function checkRoleName(state: OrgaState, name: string, groupId: string | undefined, self?: string): void {
  const key = nameKey(name)
  for (const other of state.roles.values()) {
    if (other.id !== self && other.groupId === groupId && nameKey(other.name) === key) {
      throw new OrgaError('AlreadyExists', `a role named ${other.name} exists in this scope`)
    }
  }
}

export function createRole(state: OrgaState, op: Op<'create-role'>, at: number): ChangeTarget[] {
  if (op.groupId !== undefined) group(state, op.groupId)
  if (state.roles.has(op.roleId)) throw new OrgaError('AlreadyExists', `role ${op.roleId} exists`)
  checkRoleName(state, op.name, op.groupId)
  state.roles.set(op.roleId, {
    id: op.roleId,
    name: op.name,
    groupId: op.groupId,
    rules: op.rules.map((rule) => ({ ...rule })),
    members: new Set(),
    createdAt: at,
  })
  return [{ kind: 'role', id: op.roleId }]
}

export function updateRole(state: OrgaState, op: Op<'update-role'>): ChangeTarget[] {
  const found = role(state, op.roleId)
  if (op.name !== undefined) checkRoleName(state, op.name, found.groupId, found.id)
  const before = JSON.stringify([found.name, found.rules])
  if (op.name !== undefined) found.name = op.name
  if (op.rules !== undefined) found.rules = op.rules.map((rule) => ({ ...rule }))
  return JSON.stringify([found.name, found.rules]) === before ? [] : [{ kind: 'role', id: op.roleId }]
}

export function deleteRole(state: OrgaState, op: Op<'delete-role'>): ChangeTarget[] {
  role(state, op.roleId)
  state.roles.delete(op.roleId)
  return [{ kind: 'role', id: op.roleId }]
}

export function assignRole(state: OrgaState, op: Op<'assign-role'>): ChangeTarget[] {
  const found = role(state, op.roleId)
  user(state, op.userId)
  if (found.groupId !== undefined && !state.groups.get(found.groupId)?.members.has(op.userId)) {
    throw new OrgaError('NotMember', `user ${op.userId} is not a member of group ${found.groupId}`)
  }
  if (found.members.has(op.userId)) return []
  found.members.add(op.userId)
  return [{ kind: 'role', id: op.roleId, userId: op.userId }]
}

export function revokeRole(state: OrgaState, op: Op<'revoke-role'>): ChangeTarget[] {
  const found = role(state, op.roleId)
  user(state, op.userId)
  if (!found.members.delete(op.userId)) return []
  return [{ kind: 'role', id: op.roleId, userId: op.userId }]
}
