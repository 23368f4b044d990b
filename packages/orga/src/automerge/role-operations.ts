/**
 * Role operations. A realm role lives in the realm document, a group role in its group's document (so
 * deleting a group deletes its roles); either way a role is `{ name, rules, members }` under its id.
 */

import { OrgaError } from '../errors.js'
import { checkRules } from '../path-pattern.js'
import type { PermissionRule, RoleInit, RolePatch, RoleRecord } from '../types.js'
import * as input from '../validation.js'
import { groupRecord, is, type OrgaEditContext, roleView, userRecord } from './context.js'
import type { StoredRole } from './schema.js'
import { ascending, byName, copy } from './view.js'

export async function createRole(ctx: OrgaEditContext, init: RoleInit): Promise<RoleRecord> {
  if (typeof init !== 'object' || init === null) {
    throw new OrgaError('InvalidInput', 'role must be an object')
  }
  const name = input.requireName(init.name, 'role name')
  const groupId = init.group === undefined ? undefined : input.requireUlid(init.group, 'group id')
  const rules = checkRules(init.rules, ctx.view.realm.id, groupId)
  if (groupId !== undefined) groupRecord(ctx, groupId)
  checkRoleName(ctx, name, groupId)
  const roleId = ctx.nextId()
  const role: StoredRole = {
    name: is(name),
    createdAt: ctx.now(),
    rules: rules.map((rule) => ({ pattern: is(rule.pattern), permission: is(rule.permission) })),
    members: {},
  }
  const handle =
    groupId === undefined
      ? ctx.changeRealm((doc) => (doc.roles[roleId] = role))
      : ctx.changeGroup(groupId, (doc) => (doc.roles[roleId] = role))
  const created = roleView(ctx, roleId).record
  await ctx.persist(handle)
  return copy(created)
}

export async function getRole(ctx: OrgaEditContext, roleId: string): Promise<RoleRecord> {
  return copy(roleView(ctx, input.requireUlid(roleId, 'role id')).record)
}

export async function listRoles(
  ctx: OrgaEditContext,
  options?: { readonly group?: string },
): Promise<RoleRecord[]> {
  const groupId = options?.group === undefined ? undefined : input.requireUlid(options.group, 'group id')
  if (groupId !== undefined) groupRecord(ctx, groupId)
  return [...ctx.view.roles.values()]
    .filter((role) => role.groupId === groupId)
    .map((role) => role.record)
    .sort(byName)
    .map((role) => copy(role))
}

export async function updateRole(
  ctx: OrgaEditContext,
  roleId: string,
  patch: RolePatch,
): Promise<RoleRecord> {
  const role = roleView(ctx, input.requireUlid(roleId, 'role id'))
  if (typeof patch !== 'object' || patch === null) {
    throw new OrgaError('InvalidInput', 'patch must be an object')
  }
  const name = patch.name === undefined ? undefined : input.requireName(patch.name, 'role name')
  const rules =
    patch.rules === undefined ? undefined : checkRules(patch.rules, ctx.view.realm.id, role.groupId)
  if (name !== undefined) checkRoleName(ctx, name, role.groupId, role.record.id)
  const nameChanges = name !== undefined && name !== role.record.name
  const rulesChange = rules !== undefined && JSON.stringify(rules) !== JSON.stringify(role.record.rules)
  if (!nameChanges && !rulesChange) return copy(role.record)
  const handle = ctx.changeRole(role, (stored) => {
    if (nameChanges) stored.name = is(name as string)
    if (rulesChange) {
      stored.rules = (rules as PermissionRule[]).map((rule) => ({
        pattern: is(rule.pattern),
        permission: is(rule.permission),
      }))
    }
  })
  const updated = roleView(ctx, role.record.id).record
  await ctx.persist(handle)
  return copy(updated)
}

export async function deleteRole(ctx: OrgaEditContext, roleId: string): Promise<void> {
  const role = roleView(ctx, input.requireUlid(roleId, 'role id'))
  const id = role.record.id
  const handle =
    role.groupId === undefined
      ? ctx.changeRealm((doc) => delete doc.roles[id])
      : ctx.changeGroup(role.groupId, (doc) => delete doc.roles[id])
  await ctx.persist(handle)
}

export async function assignRole(ctx: OrgaEditContext, roleId: string, userId: string): Promise<RoleRecord> {
  const id = input.requireUlid(roleId, 'role id')
  const user = input.requireUlid(userId, 'user id')
  const role = roleView(ctx, id)
  userRecord(ctx, user)
  if (role.groupId !== undefined && !ctx.view.groups.get(role.groupId)?.members.includes(user)) {
    throw new OrgaError('NotMember', `user ${user} is not a member of group ${role.groupId}`)
  }
  if (role.record.members.includes(user)) return copy(role.record)
  const handle = ctx.changeRole(role, (stored) => (stored.members[user] = true))
  const updated = roleView(ctx, id).record
  await ctx.persist(handle)
  return copy(updated)
}

export async function revokeRole(ctx: OrgaEditContext, roleId: string, userId: string): Promise<RoleRecord> {
  const id = input.requireUlid(roleId, 'role id')
  const user = input.requireUlid(userId, 'user id')
  const role = roleView(ctx, id)
  userRecord(ctx, user)
  if (!role.record.members.includes(user)) return copy(role.record)
  const handle = ctx.changeRole(role, (stored) => delete stored.members[user])
  const updated = roleView(ctx, id).record
  await ctx.persist(handle)
  return copy(updated)
}

export async function rolesForUser(ctx: OrgaEditContext, userId: string): Promise<RoleRecord[]> {
  return [...ctx.view.roles.values()]
    .filter((role) => role.record.members.includes(userId))
    .sort((a, b) => ascending(a.groupId ?? '', b.groupId ?? '') || byName(a.record, b.record))
    .map((role) => copy(role.record))
}

function checkRoleName(ctx: OrgaEditContext, name: string, groupId: string | undefined, self?: string): void {
  const key = input.nameKey(name)
  for (const other of ctx.view.roles.values()) {
    if (other.record.id !== self && other.groupId === groupId && input.nameKey(other.record.name) === key) {
      throw new OrgaError('AlreadyExists', `a role named ${other.record.name} exists in this scope`)
    }
  }
}
