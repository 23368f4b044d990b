/**
 * Change notices as the difference between two views. Local operations and merged remote changes go
 * through the same comparison, so a notice is sent exactly when an answer changed: a change that
 * alters nothing visible (adding a member twice, a rival redemption that lost) notifies nobody, and a
 * merge that turns a local outcome around (the node whose redemption lost) notifies its listeners.
 */

import type { OrgaChange } from '../types.js'
import { ascending, type OrgaView } from './view.js'

export type ChangeTarget = Omit<OrgaChange, 'origin'>

// Views reuse the records of entities that did not change, so most comparisons stop at `===`.
const same = (a: unknown, b: unknown): boolean => a === b || JSON.stringify(a) === JSON.stringify(b)

function keys<K extends string>(a: ReadonlyMap<K, unknown>, b: ReadonlyMap<K, unknown>): K[] {
  return [...new Set([...a.keys(), ...b.keys()])].sort(ascending)
}

/** Entities whose records differ, in id order. */
function changed(
  kind: ChangeTarget['kind'],
  before: ReadonlyMap<string, unknown>,
  after: ReadonlyMap<string, unknown>,
): ChangeTarget[] {
  return keys(before, after)
    .filter((id) => !same(before.get(id), after.get(id)))
    .map((id) => ({ kind, id }))
}

/**
 * An entity that appeared or vanished is one notice; one that stayed gets a notice when its own fields
 * changed, plus one per member who joined or left (`userId`).
 */
function withMembers<T extends { readonly members: readonly string[] }>(
  kind: 'group' | 'role',
  before: ReadonlyMap<string, T>,
  after: ReadonlyMap<string, T>,
): ChangeTarget[] {
  const out: ChangeTarget[] = []
  for (const id of keys(before, after)) {
    const was = before.get(id)
    const is = after.get(id)
    if (was === is) continue
    if (was === undefined || is === undefined) {
      out.push({ kind, id })
      continue
    }
    if (!same({ ...was, members: [] }, { ...is, members: [] })) out.push({ kind, id })
    const left = new Set(was.members)
    const joined = new Set(is.members)
    const moved = [...new Set([...left, ...joined])].filter(
      (userId) => left.has(userId) !== joined.has(userId),
    )
    for (const userId of moved.sort(ascending)) out.push({ kind, id, userId })
  }
  return out
}

function configChanges(before: OrgaView, after: OrgaView): ChangeTarget[] {
  const out: ChangeTarget[] = []
  const a = before.realm.config.replication
  const b = after.realm.config.replication
  if (!same(a.default, b.default)) out.push({ kind: 'config', id: after.realm.id })
  const map = (record: Readonly<Record<string, unknown>>) => new Map(Object.entries(record))
  for (const change of changed('config', map(a.groups), map(b.groups))) out.push(change)
  for (const change of changed('config', map(a.paths), map(b.paths))) out.push(change)
  const realmNoticed = out.some((change) => change.id === after.realm.id)
  if (!realmNoticed && !same(before.realm.config.quota, after.realm.config.quota)) {
    out.push({ kind: 'config', id: after.realm.id })
  }
  return out
}

/** Access keys that appeared or vanished (added, revoked, or their user hidden), with their user. */
function accessKeyChanges(before: OrgaView, after: OrgaView): ChangeTarget[] {
  if (before.accessKeys === after.accessKeys) return []
  return keys(before.accessKeys, after.accessKeys)
    .filter((id) => !same(before.accessKeys.get(id), after.accessKeys.get(id)))
    .map((id) => {
      const record = (after.accessKeys.get(id) ?? before.accessKeys.get(id))!
      return { kind: 'accessKey' as const, id, userId: record.userId }
    })
}

/** Everything that differs between two views, realm first, then tokens, access keys last. */
export function diffViews(before: OrgaView, after: OrgaView): ChangeTarget[] {
  const roles = (view: OrgaView) => new Map([...view.roles].map(([id, role]) => [id, role.record]))
  const invites = (view: OrgaView) => new Map([...view.invites].map(([id, invite]) => [id, invite.record]))
  const tokens = [...after.revoked].filter((jti) => !before.revoked.has(jti))
  tokens.push(...[...before.revoked].filter((jti) => !after.revoked.has(jti)))
  return [
    ...(before.realm.name === after.realm.name ? [] : [{ kind: 'realm' as const, id: after.realm.id }]),
    ...changed('invite', invites(before), invites(after)),
    ...changed('node', before.nodes, after.nodes),
    ...withMembers('group', before.groups, after.groups),
    ...changed('user', before.users, after.users),
    ...withMembers('role', roles(before), roles(after)),
    ...configChanges(before, after),
    ...tokens.sort(ascending).map((id) => ({ kind: 'token' as const, id })),
    ...accessKeyChanges(before, after),
  ]
}
