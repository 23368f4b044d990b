/**
 * What the operations need from the store: the current view to check against, a clock and ids, and
 * the few ways to change documents. A change goes through the store, which makes it synchronously,
 * refreshes the view and notifies listeners; `persist` then waits until storage holds it.
 */

import { type DocHandle, ImmutableString } from '@automerge/automerge-repo'
import { OrgaError } from '../errors.js'
import type { Group, NodeRecord, ReplicationFactor, User } from '../types.js'
import type { GroupDoc, RealmDoc, StoredFactor, StoredRole, UserDoc } from './schema.js'
import { copy, type OrgaView, type RoleView } from './view.js'

export interface OrgaEditContext {
  /** The view as of now (it changes with every change, local or remote). */
  readonly view: OrgaView
  now(): number
  nextId(): string
  changeRealm(change: (doc: RealmDoc) => void): DocHandle<RealmDoc>
  /** Changes a group's document; the group must be in the view. */
  changeGroup(groupId: string, change: (doc: GroupDoc) => void): DocHandle<GroupDoc>
  /** Changes a user's document; the user must be in the view. */
  changeUser(userId: string, change: (doc: UserDoc) => void): DocHandle<UserDoc>
  /** Changes a role where it is stored: the realm document, or its group's document. */
  changeRole(role: RoleView, change: (stored: StoredRole) => void): DocHandle<unknown>
  /** A new document, held by this replica before any other document lists it. */
  createDocument<T extends GroupDoc | UserDoc>(initial: T): DocHandle<T>
  /** Waits until the Repo's storage holds the documents. */
  persist(...handles: DocHandle<unknown>[]): Promise<void>
}

export const is = (value: string): ImmutableString => new ImmutableString(value)

export const stored = (factor: ReplicationFactor): StoredFactor =>
  typeof factor === 'number' ? factor : is(factor)

export function nodeRecord(ctx: OrgaEditContext, peerId: string): NodeRecord {
  const node = ctx.view.nodes.get(peerId)
  if (node === undefined) throw new OrgaError('NotFound', `no node ${peerId}`)
  return copy(node)
}

export function groupRecord(ctx: OrgaEditContext, groupId: string): Group {
  const group = ctx.view.groups.get(groupId)
  if (group === undefined) throw new OrgaError('NotFound', `no group ${groupId}`)
  return copy(group)
}

export function userRecord(ctx: OrgaEditContext, userId: string): User {
  const user = ctx.view.users.get(userId)
  if (user === undefined) throw new OrgaError('NotFound', `no user ${userId}`)
  return copy(user)
}

export function roleView(ctx: OrgaEditContext, roleId: string): RoleView {
  const role = ctx.view.roles.get(roleId)
  if (role === undefined) throw new OrgaError('NotFound', `no role ${roleId}`)
  return role
}
