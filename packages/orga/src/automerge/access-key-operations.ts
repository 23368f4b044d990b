/**
 * S3 access keys in the realm document: `accessKeys` (id → the sealed record) and `revokedAccessKeys`
 * (a set that only grows). Reads come from the view, which the store keeps current, so the lookup on
 * every signed S3 request is one map access. A realm document made before access keys existed lacks
 * both maps: the first change that needs one creates it (readers merge concurrently created copies).
 */

import { getConflicts } from '@automerge/automerge'
import { OrgaError } from '../errors.js'
import type { AccessKeyRecord } from '../types.js'
import * as input from '../validation.js'
import { is, type OrgaEditContext } from './context.js'
import type { RealmDoc, StoredAccessKey } from './schema.js'
import { copy } from './view.js'

export async function addAccessKey(ctx: OrgaEditContext, record: AccessKeyRecord): Promise<AccessKeyRecord> {
  const checked = input.requireAccessKeyRecord(record)
  const id = checked.accessKeyId
  if (!ctx.view.users.has(checked.userId)) throw new OrgaError('NotFound', `no user ${checked.userId}`)
  if (ctx.view.accessKeyRecords.has(id) || ctx.view.revokedAccessKeys.has(id)) {
    throw new OrgaError('AlreadyExists', `access key ${id} exists`)
  }
  const stored: StoredAccessKey = {
    userId: is(checked.userId),
    createdAt: checked.createdAt,
    ...(checked.description === undefined ? {} : { description: is(checked.description) }),
    sealed: {
      keyId: is(checked.sealed.keyId),
      iv: is(checked.sealed.iv),
      ciphertext: is(checked.sealed.ciphertext),
      tag: is(checked.sealed.tag),
    },
  }
  const handle = ctx.changeRealm((doc) => {
    if (!isMap(doc.accessKeys)) doc.accessKeys = {}
    doc.accessKeys![id] = stored
  })
  await ctx.persist(handle)
  return copy(checked)
}

export async function getAccessKey(
  ctx: OrgaEditContext,
  accessKeyId: string,
): Promise<AccessKeyRecord | undefined> {
  const record = typeof accessKeyId === 'string' ? ctx.view.accessKeys.get(accessKeyId) : undefined
  return record === undefined ? undefined : copy(record)
}

export async function listAccessKeys(
  ctx: OrgaEditContext,
  options?: { readonly user?: string },
): Promise<AccessKeyRecord[]> {
  const user = options?.user === undefined ? undefined : input.requireUlid(options.user, 'user id')
  const out: AccessKeyRecord[] = []
  for (const record of ctx.view.accessKeys.values()) {
    if (user === undefined || record.userId === user) out.push(copy(record))
  }
  return out
}

export async function revokeAccessKey(ctx: OrgaEditContext, accessKeyId: string): Promise<void> {
  const id = input.requireAccessKeyId(accessKeyId)
  if (ctx.view.revokedAccessKeys.has(id)) return
  if (!ctx.view.accessKeyRecords.has(id)) throw new OrgaError('NotFound', `no access key ${id}`)
  const handle = ctx.changeRealm((doc) => {
    if (!isMap(doc.revokedAccessKeys)) doc.revokedAccessKeys = {}
    doc.revokedAccessKeys![id] = true
    // The tombstone is what counts; the sealed secret goes too, from every copy of the map holding it.
    for (const keys of accessKeyMaps(doc)) if (id in keys) delete keys[id]
  })
  await ctx.persist(handle)
}

/** A map (not a list, an `ImmutableString`, a counter or bytes a careless peer may have put there). */
function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
}

/** Every copy of the `accessKeys` map (more than one when replicas created it concurrently). */
function accessKeyMaps(doc: RealmDoc): Record<string, unknown>[] {
  const conflicts = getConflicts(doc, 'accessKeys') as Record<string, unknown> | undefined
  const values = conflicts === undefined ? [doc.accessKeys] : Object.values(conflicts)
  return values.filter(isMap)
}
