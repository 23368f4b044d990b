/**
 * `aruna init`: a new realm on this node. Creates the realm key (`realm.key`, 0600), the node's
 * delegation signed with it, the realm's access key encryption key, and the organisation documents —
 * the realm with this node as its management node, the first administrator (a user holding the realm
 * role `realm-admin`, WRITE on `/{realm}/**`) and a first group, `default`, with the administrator as
 * member — then writes `realm.json`. The node is not started; `aruna start` does that.
 */
import { join } from 'node:path'
import { loadOrCreateAccessKeyEncryptionKey } from '@aruna/auth'
import { delegatePeer, initRealm, openDirectoryOrgaStore } from '@aruna/orga'
import { loadNodeIdentity } from '../identity/node-identity.js'
import { type RealmFile, readRealmFile, writeRealmFile } from './realm-file.js'

/** Delegations are signed for a year; a management node signs its own again at every start. */
export const DELEGATION_TTL_SECONDS = 365 * 24 * 60 * 60
export const ADMIN_ROLE = 'realm-admin'
export const DEFAULT_GROUP_NAME = 'default'

export interface InitOptions {
  readonly dataDir: string
  readonly realmName: string
  /** Whether the node runs the built-in development login (its development user is the administrator). */
  readonly devLogin: boolean
  /** An OIDC identity that logs in as the first administrator (besides the development user). */
  readonly admin?: { readonly issuer: string; readonly subject: string }
}

export class RealmExistsError extends Error {
  override readonly name = 'RealmExistsError'
}

/** The identity by which a node's operator user is known before anyone logs in through OIDC. */
export function operatorIdentity(peerId: string): { issuer: string; subject: string } {
  return { issuer: `urn:aruna:node:${peerId}`, subject: 'operator' }
}

export async function initRealmDirectory(options: InitOptions): Promise<RealmFile> {
  const { dataDir } = options
  if (await readRealmFile(dataDir)) {
    throw new RealmExistsError(`${dataDir} already belongs to a realm (see ${join(dataDir, 'realm.json')})`)
  }
  const identity = await loadNodeIdentity(dataDir)
  const realm = await initRealm({ directory: dataDir, name: options.realmName })
  const delegation = delegatePeer(
    realm.realmKey,
    identity.peerId,
    Math.floor(Date.now() / 1000) + DELEGATION_TTL_SECONDS,
  )
  await loadOrCreateAccessKeyEncryptionKey(join(dataDir, 'access-keys.key'))
  const store = await openDirectoryOrgaStore({
    directory: join(dataDir, 'orga'),
    realm: { create: { realmId: realm.realmId, realmName: options.realmName } },
  })
  try {
    await store.addNode({ peerId: identity.peerId, kind: 'management', delegation, addresses: [] })
    const { user } = await store.registerUser({
      ...operatorIdentity(identity.peerId),
      displayName: 'Realm administrator',
    })
    if (options.admin) await store.addIdentity(user.id, options.admin)
    const role = await store.createRole({
      name: ADMIN_ROLE,
      rules: [{ pattern: `/${realm.realmId}/**`, permission: 'WRITE' }],
    })
    await store.assignRole(role.id, user.id)
    const group = await store.createGroup({ name: DEFAULT_GROUP_NAME })
    await store.addMember(group.id, user.id)
    const file: RealmFile = {
      version: 1,
      realmId: realm.realmId,
      realmName: options.realmName,
      realmUrl: store.realmUrl,
      kind: 'management',
      delegation,
      operator: user.id,
      devLogin: options.devLogin,
      bootstrap: [],
      listen: [],
      createdAt: new Date().toISOString(),
    }
    await writeRealmFile(dataDir, file)
    return file
  } finally {
    await store.close()
  }
}
