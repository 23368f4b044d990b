/** S3 access keys: sealed records of `@aruna/auth`, added, looked up, listed and revoked. */

import { describe, expect, it } from 'vitest'
import type { OrgaStore } from '../port.js'
import type { AccessKeyRecord } from '../types.js'
import {
  accessKey,
  accessKeyId,
  expectOrgaError,
  newUser,
  recordChanges,
  type TestSetup,
  UNKNOWN_ID,
  useSetup,
} from './helpers.js'

export function accessKeyTests(common: TestSetup<OrgaStore>): void {
  describe('access keys', () => {
    const store = useSetup(common)

    it('adds a key and reads back exactly its fields, with the secret still sealed', async () => {
      const alice = await newUser(store(), 'alice')
      const record = accessKey(1, alice.id, { description: 'laptop' })
      const extra = { ...record, secretAccessKey: 'plain-secret', sealed: { ...record.sealed, key: 'x' } }
      const added = await store().addAccessKey(extra as AccessKeyRecord)
      expect(added).toStrictEqual(record)
      expect(await store().getAccessKey(record.accessKeyId)).toStrictEqual(record)
      expect(await store().listAccessKeys()).toStrictEqual([record])
      expect(JSON.stringify(await store().listAccessKeys())).not.toContain('plain-secret')
    })

    it('keeps a missing description missing and an empty one empty', async () => {
      const alice = await newUser(store(), 'alice')
      await store().addAccessKey(accessKey(1, alice.id))
      await store().addAccessKey(accessKey(2, alice.id, { description: '' }))
      const one = await store().getAccessKey(accessKeyId(1))
      expect(one !== undefined && 'description' in one).toBe(false)
      expect((await store().getAccessKey(accessKeyId(2)))?.description).toBe('')
    })

    it('refuses malformed records and stores none of them', async () => {
      const alice = await newUser(store(), 'alice')
      const good = accessKey(1, alice.id)
      const bad: unknown[] = [
        null,
        'AKAAAAAAAAAAAAAAAAAB',
        { ...good, accessKeyId: '' },
        { ...good, accessKeyId: 'akaaaaaaaaaaaaaaaaab' },
        { ...good, accessKeyId: 'AKAAAAAAAAAAAAAAAAB' },
        { ...good, accessKeyId: 'AKAAAAAAAAAAAAAAAAAAB' },
        { ...good, accessKeyId: 'AKAAAAAAAAAAAAAAAAA1' },
        { ...good, accessKeyId: 'XXAAAAAAAAAAAAAAAAAB' },
        { ...good, accessKeyId: 7 },
        { ...good, userId: 'alice' },
        { ...good, userId: undefined },
        { ...good, createdAt: Number.NaN },
        { ...good, createdAt: Number.POSITIVE_INFINITY },
        { ...good, createdAt: -1 },
        { ...good, createdAt: '1700000000' },
        { ...good, description: 'x'.repeat(257) },
        { ...good, description: 'two\nlines' },
        { ...good, description: 42 },
        { ...good, sealed: undefined },
        { ...good, sealed: 'sealed' },
        { ...good, sealed: [] },
        { ...good, sealed: { ...good.sealed, keyId: '' } },
        { ...good, sealed: { ...good.sealed, iv: undefined } },
        { ...good, sealed: { ...good.sealed, ciphertext: 'x'.repeat(1025) } },
        { ...good, sealed: { ...good.sealed, tag: 12 } },
        { ...good, sealed: { ...good.sealed, tag: 'a\u0000b' } },
      ]
      for (const record of bad) {
        await expectOrgaError(store().addAccessKey(record as AccessKeyRecord), 'InvalidInput')
      }
      expect(await store().listAccessKeys()).toEqual([])
      // The bounds themselves pass.
      const longest = accessKey(2, alice.id, {
        description: 'd'.repeat(256),
        sealed: { ...good.sealed, ciphertext: 'c'.repeat(1024) },
      })
      expect(await store().addAccessKey(longest)).toEqual(longest)
    })

    it('refuses a key of an unknown user with NotFound', async () => {
      await expectOrgaError(store().addAccessKey(accessKey(1, UNKNOWN_ID)), 'NotFound')
      expect(await store().listAccessKeys()).toEqual([])
    })

    it('refuses an id that is taken, even by another user or by a revoked key, and keeps the first', async () => {
      const alice = await newUser(store(), 'alice')
      const bob = await newUser(store(), 'bob')
      const first = await store().addAccessKey(accessKey(1, alice.id))
      await expectOrgaError(store().addAccessKey(accessKey(1, bob.id)), 'AlreadyExists')
      await expectOrgaError(store().addAccessKey(accessKey(1, alice.id)), 'AlreadyExists')
      expect(await store().getAccessKey(first.accessKeyId)).toEqual(first)
      await store().addAccessKey(accessKey(2, alice.id))
      await store().revokeAccessKey(accessKeyId(2))
      await expectOrgaError(store().addAccessKey(accessKey(2, alice.id)), 'AlreadyExists')
      expect(await store().getAccessKey(accessKeyId(2))).toBeUndefined()
    })

    it('checks input before the user, and the user before the id', async () => {
      const alice = await newUser(store(), 'alice')
      await store().addAccessKey(accessKey(1, alice.id))
      await expectOrgaError(
        store().addAccessKey({ ...accessKey(1, UNKNOWN_ID), createdAt: -5 }),
        'InvalidInput',
      )
      await expectOrgaError(store().addAccessKey(accessKey(1, UNKNOWN_ID)), 'NotFound')
    })

    it('answers lookups without ever throwing: undefined for anything but an active key', async () => {
      const alice = await newUser(store(), 'alice')
      await store().addAccessKey(accessKey(1, alice.id))
      expect(await store().getAccessKey(accessKeyId(2))).toBeUndefined()
      for (const odd of ['', 'akaaaaaaaaaaaaaaaaab', '../../etc', 'constructor', '__proto__', null, 42, {}]) {
        expect(await store().getAccessKey(odd as string)).toBeUndefined()
      }
    })

    it('lists keys by id, all of them or one user’s', async () => {
      const alice = await newUser(store(), 'alice')
      const bob = await newUser(store(), 'bob')
      for (const [n, user] of [
        [40, bob],
        [3, alice],
        [1000, alice],
        [7, bob],
      ] as const) {
        await store().addAccessKey(accessKey(n, user.id))
      }
      const ids = (records: AccessKeyRecord[]) => records.map((record) => record.accessKeyId)
      // By code unit: base32's digits 2–7 come before the letters.
      expect(accessKeyId(1000)).toBe('AKAAAAAAAAAAAAAAAA7I')
      expect(ids(await store().listAccessKeys())).toEqual([1000, 3, 7, 40].map(accessKeyId))
      expect(ids(await store().listAccessKeys({ user: alice.id }))).toEqual([
        accessKeyId(1000),
        accessKeyId(3),
      ])
      expect(ids(await store().listAccessKeys({ user: bob.id }))).toEqual([accessKeyId(7), accessKeyId(40)])
      expect(await store().listAccessKeys({ user: UNKNOWN_ID })).toEqual([])
      await expectOrgaError(store().listAccessKeys({ user: 'alice' }), 'InvalidInput')
    })

    it('revokes a key for good: idempotent, NotFound for an unknown id, InvalidInput for a malformed one', async () => {
      const alice = await newUser(store(), 'alice')
      await store().addAccessKey(accessKey(1, alice.id))
      await store().addAccessKey(accessKey(2, alice.id))
      await store().revokeAccessKey(accessKeyId(1))
      expect(await store().getAccessKey(accessKeyId(1))).toBeUndefined()
      expect((await store().listAccessKeys()).map((record) => record.accessKeyId)).toEqual([accessKeyId(2)])
      await store().revokeAccessKey(accessKeyId(1))
      await expectOrgaError(store().revokeAccessKey(accessKeyId(3)), 'NotFound')
      for (const odd of ['', 'akaaaaaaaaaaaaaaaaab', null]) {
        await expectOrgaError(store().revokeAccessKey(odd as string), 'InvalidInput')
      }
      expect(await store().listAccessKeys({ user: alice.id })).toHaveLength(1)
    })

    it('hands out snapshots: changing a returned key changes nothing stored', async () => {
      const alice = await newUser(store(), 'alice')
      const added = (await store().addAccessKey(accessKey(1, alice.id))) as {
        -readonly [K in keyof AccessKeyRecord]: unknown
      }
      added.userId = 'someone else'
      ;(added.sealed as { ciphertext: string }).ciphertext = 'changed'
      const read = (await store().getAccessKey(accessKeyId(1))) as { sealed: { ciphertext: string } }
      read.sealed.ciphertext = 'changed too'
      const [listed] = (await store().listAccessKeys()) as { userId: string }[]
      listed!.userId = 'nobody'
      expect(await store().getAccessKey(accessKeyId(1))).toEqual(accessKey(1, alice.id))
    })

    it('gives one of two concurrent additions of one id, and refuses the other', async () => {
      const alice = await newUser(store(), 'alice')
      const outcomes = await Promise.allSettled([
        store().addAccessKey(accessKey(1, alice.id, { description: 'one' })),
        store().addAccessKey(accessKey(1, alice.id, { description: 'two' })),
      ])
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1)
      expect(await store().listAccessKeys()).toHaveLength(1)
    })

    it('reports additions and revocations with the key’s user, and nothing for no-ops or failures', async () => {
      const alice = await newUser(store(), 'alice')
      const { changes } = recordChanges(store())
      await store().addAccessKey(accessKey(1, alice.id))
      await expectOrgaError(store().addAccessKey(accessKey(1, alice.id)), 'AlreadyExists')
      await expectOrgaError(store().addAccessKey(accessKey(2, UNKNOWN_ID)), 'NotFound')
      await store().revokeAccessKey(accessKeyId(1))
      await store().revokeAccessKey(accessKeyId(1))
      await expectOrgaError(store().revokeAccessKey(accessKeyId(2)), 'NotFound')
      const notice = { kind: 'accessKey', id: accessKeyId(1), userId: alice.id, origin: 'local' }
      expect(changes).toEqual([notice, notice])
    })

    it('calls listeners once the key can be looked up', async () => {
      const alice = await newUser(store(), 'alice')
      const seen: (AccessKeyRecord | undefined)[] = []
      const reads: Promise<void>[] = []
      store().onChange((change) => {
        if (change.kind === 'accessKey') {
          reads.push(
            store()
              .getAccessKey(change.id)
              .then((record) => void seen.push(record)),
          )
        }
      })
      await store().addAccessKey(accessKey(1, alice.id))
      await store().revokeAccessKey(accessKeyId(1))
      await Promise.all(reads)
      expect(seen).toEqual([accessKey(1, alice.id), undefined])
    })
  })
}
