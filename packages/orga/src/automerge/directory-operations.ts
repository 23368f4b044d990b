/**
 * Group and user operations. A group or user is its own document, listed (id → URL) in the realm
 * document; creating one writes its document before the realm document lists it.
 */

import { OrgaError } from '../errors.js'
import { groupCapError } from '../quota.js'
import { REPLICATION_KINDS } from '../replication.js'
import type {
  Group,
  GroupInit,
  OidcSubject,
  Registration,
  User,
  UserPatch,
  UserRegistration,
} from '../types.js'
import * as input from '../validation.js'
import { groupRecord, is, type OrgaEditContext, userRecord } from './context.js'
import { deleteGroupQuota } from './quota-document.js'
import { GROUP_DOC_KIND, type GroupDoc, SCHEMA_VERSION, USER_DOC_KIND, type UserDoc } from './schema.js'
import { byName, copy, identityKey } from './view.js'

export async function createGroup(ctx: OrgaEditContext, init: GroupInit): Promise<Group> {
  const name = input.requireName(init?.name, 'group name')
  const groupId = ctx.nextId()
  const group = ctx.createDocument<GroupDoc>({
    kind: is(GROUP_DOC_KIND),
    schema: SCHEMA_VERSION,
    id: is(groupId),
    name: is(name),
    createdAt: ctx.now(),
    members: {},
    roles: {},
  })
  const realm = ctx.changeRealm((doc) => (doc.groups[groupId] = is(group.url)))
  const created = groupRecord(ctx, groupId)
  // The group's document first: the realm document must never list a document storage lacks.
  await ctx.persist(group)
  await ctx.persist(realm)
  return created
}

export async function getGroup(ctx: OrgaEditContext, groupId: string): Promise<Group> {
  return groupRecord(ctx, input.requireUlid(groupId, 'group id'))
}

export async function listGroups(
  ctx: OrgaEditContext,
  options?: { readonly member?: string },
): Promise<Group[]> {
  const member = options?.member === undefined ? undefined : input.requireUlid(options.member, 'user id')
  return [...ctx.view.groups.values()]
    .filter((group) => member === undefined || group.members.includes(member))
    .sort(byName)
    .map((group) => copy(group))
}

export async function renameGroup(ctx: OrgaEditContext, groupId: string, name: string): Promise<Group> {
  const id = input.requireUlid(groupId, 'group id')
  const checked = input.requireName(name, 'group name')
  const group = groupRecord(ctx, id)
  if (group.name === checked) return group
  const handle = ctx.changeGroup(id, (doc) => (doc.name = is(checked)))
  const renamed = groupRecord(ctx, id)
  await ctx.persist(handle)
  return renamed
}

export async function deleteGroup(ctx: OrgaEditContext, groupId: string): Promise<void> {
  const id = input.requireUlid(groupId, 'group id')
  groupRecord(ctx, id)
  const handle = ctx.changeRealm((doc) => {
    delete doc.groups[id]
    for (const kind of REPLICATION_KINDS) {
      if (id in doc.replication.groups[kind]) delete doc.replication.groups[kind][id]
    }
    deleteGroupQuota(doc, id)
  })
  await ctx.persist(handle)
}

export async function addMember(ctx: OrgaEditContext, groupId: string, userId: string): Promise<Group> {
  const id = input.requireUlid(groupId, 'group id')
  const user = input.requireUlid(userId, 'user id')
  const group = groupRecord(ctx, id)
  userRecord(ctx, user)
  if (group.members.includes(user)) return group
  const cap = ctx.view.realm.config.quota.maxGroupsPerUser
  if (cap !== undefined) {
    let joined = 0
    for (const candidate of ctx.view.groups.values()) if (candidate.members.includes(user)) joined++
    if (joined >= cap) throw groupCapError(user, cap)
  }
  const handle = ctx.changeGroup(id, (doc) => {
    doc.members[user] = true
    // A concurrent assignment may have outlived an earlier departure: joining starts without roles.
    for (const role of Object.values(doc.roles)) if (user in role.members) delete role.members[user]
  })
  const updated = groupRecord(ctx, id)
  await ctx.persist(handle)
  return updated
}

export async function removeMember(ctx: OrgaEditContext, groupId: string, userId: string): Promise<Group> {
  const id = input.requireUlid(groupId, 'group id')
  const user = input.requireUlid(userId, 'user id')
  const group = groupRecord(ctx, id)
  userRecord(ctx, user)
  if (!group.members.includes(user)) return group
  const handle = ctx.changeGroup(id, (doc) => {
    delete doc.members[user]
    for (const role of Object.values(doc.roles)) if (user in role.members) delete role.members[user]
  })
  const updated = groupRecord(ctx, id)
  await ctx.persist(handle)
  return updated
}

export async function registerUser(
  ctx: OrgaEditContext,
  registration: UserRegistration,
): Promise<Registration> {
  const identity = input.requireIdentity(registration)
  const displayName = input.requireName(registration.displayName, 'display name')
  const attributes =
    registration.attributes === undefined ? {} : input.requireAttributes(registration.attributes, false)
  const existing = ctx.view.identities.get(identityKey(identity))
  if (existing !== undefined) return { user: userRecord(ctx, existing), created: false }
  const userId = ctx.nextId()
  const user = ctx.createDocument<UserDoc>({
    kind: is(USER_DOC_KIND),
    schema: SCHEMA_VERSION,
    id: is(userId),
    displayName: is(displayName),
    createdAt: ctx.now(),
    identities: [{ issuer: is(identity.issuer), subject: is(identity.subject) }],
    attributes: Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key, is(value)])),
  })
  const realm = ctx.changeRealm((doc) => (doc.users[userId] = is(user.url)))
  const created = userRecord(ctx, userId)
  await ctx.persist(user)
  await ctx.persist(realm)
  return { user: created, created: true }
}

export async function getUser(ctx: OrgaEditContext, userId: string): Promise<User> {
  return userRecord(ctx, input.requireUlid(userId, 'user id'))
}

export async function findUserByIdentity(
  ctx: OrgaEditContext,
  identity: OidcSubject,
): Promise<User | undefined> {
  const userId = ctx.view.identities.get(identityKey(input.requireIdentity(identity)))
  return userId === undefined ? undefined : userRecord(ctx, userId)
}

export async function listUsers(ctx: OrgaEditContext): Promise<User[]> {
  return [...ctx.view.users.values()].map((user) => copy(user))
}

export async function updateUser(ctx: OrgaEditContext, userId: string, patch: UserPatch): Promise<User> {
  const id = input.requireUlid(userId, 'user id')
  if (typeof patch !== 'object' || patch === null) {
    throw new OrgaError('InvalidInput', 'patch must be an object')
  }
  const displayName =
    patch.displayName === undefined ? undefined : input.requireName(patch.displayName, 'display name')
  const attributes = patch.attributes === undefined ? {} : input.requireAttributes(patch.attributes, true)
  const user = userRecord(ctx, id)
  const changes = Object.entries(attributes).filter(
    ([key, value]) => (user.attributes[key] ?? null) !== value,
  )
  if ((displayName === undefined || displayName === user.displayName) && changes.length === 0) return user
  const handle = ctx.changeUser(id, (doc) => {
    if (displayName !== undefined && displayName !== user.displayName) doc.displayName = is(displayName)
    for (const [key, value] of changes) {
      if (value === null) delete doc.attributes[key]
      else doc.attributes[key] = is(value)
    }
  })
  const updated = userRecord(ctx, id)
  await ctx.persist(handle)
  return updated
}

export async function addIdentity(
  ctx: OrgaEditContext,
  userId: string,
  identity: OidcSubject,
): Promise<User> {
  const id = input.requireUlid(userId, 'user id')
  const checked = input.requireIdentity(identity)
  const user = userRecord(ctx, id)
  const owner = ctx.view.identities.get(identityKey(checked))
  if (owner === id) return user
  if (owner !== undefined) throw new OrgaError('AlreadyExists', 'the identity is bound to another user')
  const handle = ctx.changeUser(id, (doc) => {
    doc.identities.push({ issuer: is(checked.issuer), subject: is(checked.subject) })
  })
  const updated = userRecord(ctx, id)
  await ctx.persist(handle)
  return updated
}
