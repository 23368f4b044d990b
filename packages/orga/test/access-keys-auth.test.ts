/**
 * Orga's access key records are `@aruna/auth`'s: a key made by `EncryptedAccessKeyStore` on one node,
 * kept through the orga store, opens on another node that holds the same realm-wide encryption key, and
 * stops opening there once it is revoked anywhere.
 */

import {
  ACCESS_KEY_ID_PATTERN,
  type AccessKeyRecordStore,
  type AccessKeyRecord as AuthAccessKeyRecord,
  EncryptedAccessKeyStore,
  generateAccessKeyEncryptionKey,
} from '@aruna/auth'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type AccessKeyRecord,
  type AutomergeReplicas,
  createAutomergeReplicas,
  createMemoryReplicas,
  isOrgaError,
  type OrgaStore,
} from '../src/index.js'
import { login } from '../src/testing/helpers.js'
import { ACCESS_KEY_ID } from '../src/validation.js'

/** What a node would wire between the two packages. */
function recordsIn(store: OrgaStore): AccessKeyRecordStore {
  return {
    get: (accessKeyId) => store.getAccessKey(accessKeyId),
    list: () => store.listAccessKeys(),
    put: async (record) => {
      await store.addAccessKey(record)
    },
    delete: async (accessKeyId) => {
      try {
        await store.revokeAccessKey(accessKeyId)
        return true
      } catch (err) {
        if (isOrgaError(err, 'NotFound')) return false
        throw err
      }
    },
  }
}

// The record types are the same shape both ways.
const toAuth = (record: AccessKeyRecord): AuthAccessKeyRecord => record
const toOrga = (record: AuthAccessKeyRecord): AccessKeyRecord => record

let automerge: AutomergeReplicas | undefined
afterEach(async () => {
  await automerge?.close()
  automerge = undefined
})

const setups = {
  memory: async () => createMemoryReplicas(2, { realmId: 'bafzrealmkey' }),
  automerge: async () => {
    automerge = await createAutomergeReplicas(2, { realmId: 'bafzrealmkey' })
    return automerge
  },
}

describe('access keys with @aruna/auth', () => {
  it('checks ids exactly as @aruna/auth makes them', () => {
    expect(ACCESS_KEY_ID.source).toBe(ACCESS_KEY_ID_PATTERN.source)
  })

  for (const [name, setup] of Object.entries(setups)) {
    it(`opens a key made on one node on another, until it is revoked (${name})`, async () => {
      const { replicas, settle } = await setup()
      const [a, b] = replicas as readonly OrgaStore[] as [OrgaStore, OrgaStore]
      const encryptionKey = generateAccessKeyEncryptionKey()
      const onA = new EncryptedAccessKeyStore({ records: recordsIn(a), encryptionKey })
      const onB = new EncryptedAccessKeyStore({ records: recordsIn(b), encryptionKey })
      const alice = (await a.registerUser(login('alice'))).user
      await settle()
      const created = await onA.create(alice.id, { description: 'laptop' })
      const stored = toAuth((await a.getAccessKey(created.accessKeyId))!)
      expect(JSON.stringify(stored)).not.toContain(created.secretAccessKey)
      // The same sealed secret under another id does not open: it is bound to its id.
      const moved = 'AKZZZZZZZZZZZZZZZZZZ'
      await a.addAccessKey(toOrga({ ...stored, accessKeyId: moved }))
      await settle()
      expect(await onB.secretFor(created.accessKeyId)).toEqual({
        secret: created.secretAccessKey,
        userId: alice.id,
      })
      await expect(Promise.resolve().then(() => onB.secretFor(moved))).rejects.toThrow(/does not decrypt/)
      expect(await onB.revoke(moved)).toBe(true)
      expect(await onB.list(alice.id)).toHaveLength(1)
      expect(await onB.revoke(created.accessKeyId)).toBe(true)
      expect(await onB.revoke(created.accessKeyId)).toBe(false)
      await settle()
      expect(await onA.secretFor(created.accessKeyId)).toBeUndefined()
      expect(await onA.list(alice.id)).toEqual([])
    })
  }
})
