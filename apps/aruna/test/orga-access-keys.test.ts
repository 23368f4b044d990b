import { createRealmKey } from '@aruna/auth'
import { MemoryOrgaStore } from '@aruna/orga'
import { accessKey, holdingFirstAnswer } from '@aruna/orga/testing'
import { describe, expect, it } from 'vitest'
import { OrgaAccessKeyRecords } from '../src/services/orga-access-keys.js'

const ISSUER = 'https://login.example.org'

async function setup() {
  const store = new MemoryOrgaStore({ realmId: createRealmKey().realm })
  const user = (await store.registerUser({ issuer: ISSUER, subject: 'alice', displayName: 'alice' })).user
  return { store, user, records: new OrgaAccessKeyRecords(store) }
}

// The S3 verifier asks for a key's record on every signed request.
describe('OrgaAccessKeyRecords', () => {
  it('keeps a record it read, frozen, until the store changes, and sees a revocation at once', async () => {
    const { store, user, records } = await setup()
    const key = accessKey(1, user.id)
    expect(await records.get(key.accessKeyId)).toBeUndefined()
    await records.put(key)
    const read = await records.get(key.accessKeyId)
    expect(read).toEqual(key)
    // Asked again with no change between: the same record, at once.
    expect(records.get(key.accessKeyId)).toBe(read)
    expect(Object.isFrozen(read)).toBe(true)
    expect(Object.isFrozen(read?.sealed)).toBe(true)
    // What is kept is not what the store holds: changing it is refused and changes nothing.
    expect(() => {
      ;(read as { userId: string }).userId = 'someone else'
    }).toThrow(TypeError)
    expect((await store.getAccessKey(key.accessKeyId))?.userId).toBe(user.id)
    await store.revokeAccessKey(key.accessKeyId)
    expect(await records.get(key.accessKeyId)).toBeUndefined()
  })

  it('does not keep a record read before a change that arrives after it', async () => {
    const { store, user } = await setup()
    const key = accessKey(2, user.id)
    await store.addAccessKey(key)
    const { store: slow, release } = holdingFirstAnswer(store, 'getAccessKey')
    const records = new OrgaAccessKeyRecords(slow)
    const before = records.get(key.accessKeyId)
    await new Promise((resolve) => setImmediate(resolve))
    await store.revokeAccessKey(key.accessKeyId)
    release()
    expect(await before).toEqual(key)
    expect(await records.get(key.accessKeyId)).toBeUndefined()
  })
})
