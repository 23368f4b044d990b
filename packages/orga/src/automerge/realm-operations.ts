/**
 * The realm document's operations: the realm's name, its nodes and the invites that admit them,
 * revoked token ids, the replication config and the quota config. Each checks its input and the current view first, so a
 * refused call changes nothing.
 */

import { createHash, randomBytes } from 'node:crypto'
import { OrgaError } from '../errors.js'
import { applyQuotaUpdate, checkQuotaUpdate, quotaUpdateGroups } from '../quota.js'
import {
  checkResolution,
  checkTarget,
  checkUpdate,
  configWarnings,
  REPLICATION_KINDS,
  resolveFactor,
  warningsFor,
  withoutRemovals,
} from '../replication.js'
import type {
  CreatedInvite,
  InviteOptions,
  InviteRecord,
  JoiningNode,
  NodeInit,
  NodeRecord,
  QuotaConfig,
  QuotaUpdate,
  RealmInfo,
  ReplicationFactor,
  ReplicationKind,
  ReplicationResult,
  ReplicationTarget,
  ReplicationUpdate,
  ReplicationWarning,
} from '../types.js'
import * as input from '../validation.js'
import { groupRecord, is, nodeRecord, type OrgaEditContext, stored } from './context.js'
import { writeQuota } from './quota-document.js'
import type { RealmDoc } from './schema.js'
import { copy } from './view.js'

export async function getRealm(ctx: OrgaEditContext): Promise<RealmInfo> {
  return copy(ctx.view.realm)
}

export async function renameRealm(ctx: OrgaEditContext, name: string): Promise<RealmInfo> {
  const checked = input.requireName(name, 'realm name')
  if (checked !== ctx.view.realm.name) {
    await ctx.persist(ctx.changeRealm((doc) => (doc.name = is(checked))))
  }
  return getRealm(ctx)
}

export async function addNode(ctx: OrgaEditContext, node: NodeInit): Promise<NodeRecord> {
  const checked = input.requireNodeInit(node)
  if (ctx.view.nodes.has(checked.peerId)) {
    throw new OrgaError('AlreadyExists', `node ${checked.peerId} is listed`)
  }
  const at = ctx.now()
  const handle = ctx.changeRealm((doc) => {
    doc.nodes[checked.peerId] = {
      kind: is(checked.kind),
      delegation: is(checked.delegation),
      addresses: checked.addresses.map(is),
      addedAt: at,
    }
  })
  const added = nodeRecord(ctx, checked.peerId)
  await ctx.persist(handle)
  return added
}

export async function updateNodeAddresses(
  ctx: OrgaEditContext,
  peerId: string,
  addresses: readonly string[],
): Promise<NodeRecord> {
  const id = input.requirePeerId(peerId)
  const checked = input.requireAddresses(addresses)
  const node = nodeRecord(ctx, id)
  if (JSON.stringify(node.addresses) === JSON.stringify(checked)) return node
  const handle = ctx.changeRealm((doc) => {
    doc.nodes[id]!.addresses = checked.map(is)
  })
  const updated = nodeRecord(ctx, id)
  await ctx.persist(handle)
  return updated
}

export async function removeNode(ctx: OrgaEditContext, peerId: string): Promise<void> {
  const id = input.requirePeerId(peerId)
  nodeRecord(ctx, id)
  await ctx.persist(ctx.changeRealm((doc) => delete doc.nodes[id]))
}

export async function getNode(ctx: OrgaEditContext, peerId: string): Promise<NodeRecord> {
  return nodeRecord(ctx, input.requirePeerId(peerId))
}

export async function listNodes(ctx: OrgaEditContext): Promise<NodeRecord[]> {
  return [...ctx.view.nodes.values()].map((node) => copy(node))
}

export async function isMember(ctx: OrgaEditContext, peerId: string): Promise<boolean> {
  return typeof peerId === 'string' && ctx.view.nodes.has(peerId)
}

export async function createInvite(ctx: OrgaEditContext, options: InviteOptions): Promise<CreatedInvite> {
  const ttlMs = input.requireTtl(options?.ttlMs)
  const secret = randomBytes(32).toString('base64url')
  const createdAt = ctx.now()
  const invite = { id: ctx.nextId(), secret, expiresAt: createdAt + ttlMs }
  const handle = ctx.changeRealm((doc) => {
    doc.invites[invite.id] = {
      secretHash: is(hashSecret(secret)),
      createdAt,
      expiresAt: invite.expiresAt,
      cancelled: false,
      redemptions: {},
    }
  })
  await ctx.persist(handle)
  return invite
}

export async function listInvites(ctx: OrgaEditContext): Promise<InviteRecord[]> {
  return [...ctx.view.invites.values()].map((invite) => copy(invite.record))
}

export async function cancelInvite(ctx: OrgaEditContext, inviteId: string): Promise<void> {
  const id = input.requireUlid(inviteId, 'invite id')
  if (!ctx.view.invites.has(id)) throw new OrgaError('NotFound', `no invite ${id}`)
  await ctx.persist(ctx.changeRealm((doc) => (doc.invites[id]!.cancelled = true)))
}

export async function redeemInvite(
  ctx: OrgaEditContext,
  secret: string,
  node: JoiningNode,
): Promise<NodeRecord> {
  const secretHash = hashSecret(input.requireInviteSecret(secret))
  const joining = input.requireJoiningNode(node)
  const invite = [...ctx.view.invites.values()].find((candidate) => candidate.secretHash === secretHash)
  if (invite === undefined) throw new OrgaError('NotFound', 'no such invite')
  if (invite.record.redeemedBy !== undefined) throw new OrgaError('InviteUsed', 'the invite has been used')
  const at = ctx.now()
  if (at >= invite.record.expiresAt) throw new OrgaError('InviteExpired', 'the invite has expired')
  if (ctx.view.nodes.has(joining.peerId)) {
    throw new OrgaError('AlreadyExists', `node ${joining.peerId} is listed`)
  }
  const handle = ctx.changeRealm((doc) => {
    doc.invites[invite.record.id]!.redemptions[joining.peerId] = at
    doc.nodes[joining.peerId] = {
      kind: is('server'),
      delegation: is(joining.delegation),
      addresses: joining.addresses.map(is),
      addedAt: at,
      invite: is(invite.record.id),
    }
  })
  const added = nodeRecord(ctx, joining.peerId)
  await ctx.persist(handle)
  return added
}

export async function revokeToken(ctx: OrgaEditContext, jti: string): Promise<void> {
  const id = input.requireJti(jti)
  if (ctx.view.revoked.has(id)) return
  await ctx.persist(ctx.changeRealm((doc) => (doc.revokedTokens[id] = true)))
}

export async function isRevoked(ctx: OrgaEditContext, jti: string): Promise<boolean> {
  return typeof jti === 'string' && ctx.view.revoked.has(jti)
}

export async function setReplication(
  ctx: OrgaEditContext,
  target: ReplicationTarget,
  update: ReplicationUpdate,
): Promise<ReplicationResult> {
  const checkedTarget = checkTarget(target, ctx.view.realm.id)
  const checked = checkUpdate(update, checkedTarget)
  if (checkedTarget.scope === 'group') groupRecord(ctx, checkedTarget.groupId)
  const { replication } = ctx.view.realm.config
  const current =
    checkedTarget.scope === 'realm'
      ? replication.default
      : checkedTarget.scope === 'group'
        ? replication.groups[checkedTarget.groupId]
        : replication.paths[checkedTarget.prefix]
  const edits = REPLICATION_KINDS.filter(
    (kind) => checked[kind] !== undefined && (checked[kind] ?? undefined) !== current?.[kind],
  )
  if (edits.length > 0) {
    await ctx.persist(
      ctx.changeRealm((doc) => {
        for (const kind of edits) writeFactor(doc, checkedTarget, kind, checked[kind] ?? null)
      }),
    )
  }
  return { warnings: warningsFor(checkedTarget, withoutRemovals(checked), ctx.view.nodes.size) }
}

export async function replicationFactor(
  ctx: OrgaEditContext,
  kind: ReplicationKind,
  path: string,
): Promise<number> {
  const checked = checkResolution(kind, path)
  const { realm, nodes } = ctx.view
  return resolveFactor(realm.config.replication, realm.id, checked.kind, checked.path, nodes.size)
}

export async function replicationWarnings(ctx: OrgaEditContext): Promise<ReplicationWarning[]> {
  return configWarnings(ctx.view.realm.config.replication, ctx.view.nodes.size)
}

export async function setQuota(ctx: OrgaEditContext, update: QuotaUpdate): Promise<QuotaConfig> {
  const checked = checkQuotaUpdate(update)
  for (const groupId of quotaUpdateGroups(checked)) groupRecord(ctx, groupId)
  const current = ctx.view.realm.config.quota
  if (JSON.stringify(applyQuotaUpdate(current, checked)) !== JSON.stringify(current)) {
    await ctx.persist(ctx.changeRealm((doc) => writeQuota(doc, checked)))
  }
  return copy(ctx.view.realm.config.quota)
}

function writeFactor(
  doc: RealmDoc,
  target: ReplicationTarget,
  kind: ReplicationKind,
  factor: ReplicationFactor | null,
): void {
  if (target.scope === 'realm') {
    if (factor !== null) doc.replication.default[kind] = stored(factor)
    return
  }
  const map = target.scope === 'group' ? doc.replication.groups[kind] : doc.replication.paths[kind]
  const key = target.scope === 'group' ? target.groupId : target.prefix
  if (factor === null) delete map[key]
  else map[key] = stored(factor)
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}
