import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AccessKeyRecord, AccessKeyRecordStore } from '../access-keys-records.js'
import type { TestSetup } from './setup.js'

/** What the record-store suite needs: a fresh, empty store, and a way to read it back as after a restart. */
export interface AccessKeyRecordStoreFixture {
  readonly records: AccessKeyRecordStore
  /** The same store opened again (a durable store re-reads its storage; a memory store returns itself). */
  reopen(): Promise<AccessKeyRecordStore>
}

function record(n: number, userId = 'alice'): AccessKeyRecord {
  const id = `AKTEST${String(n).padStart(14, '0')}`
  return {
    accessKeyId: id,
    userId,
    createdAt: 1_900_000_000 + n,
    description: `key ${n}`,
    sealed: { keyId: 'k', iv: 'aXY', ciphertext: `c${n}`, tag: 'dGFn' },
  }
}

/** Runs the behavioural tests every `AccessKeyRecordStore` must pass. */
export function runAccessKeyRecordStoreTests(common: TestSetup<AccessKeyRecordStoreFixture>): void {
  describe('AccessKeyRecordStore compliance', () => {
    let fx: AccessKeyRecordStoreFixture

    beforeEach(async () => {
      fx = await common.setup()
    })

    afterEach(async () => {
      await common.teardown(fx)
    })

    it('starts empty', async () => {
      expect(await fx.records.list()).toEqual([])
      expect(await fx.records.get('AKNOTHERE')).toBeUndefined()
    })

    it('returns what was put, by id and in the list', async () => {
      await fx.records.put(record(1))
      await fx.records.put(record(2, 'bob'))
      expect(await fx.records.get(record(1).accessKeyId)).toEqual(record(1))
      const ids = (await fx.records.list()).map((r) => r.accessKeyId).sort()
      expect(ids).toEqual([record(1).accessKeyId, record(2).accessKeyId])
    })

    it('replaces a record put again under the same id', async () => {
      await fx.records.put(record(1))
      await fx.records.put({ ...record(1), description: 'renamed' })
      expect((await fx.records.get(record(1).accessKeyId))?.description).toBe('renamed')
      expect(await fx.records.list()).toHaveLength(1)
    })

    it('deletes, saying whether there was a record', async () => {
      await fx.records.put(record(1))
      expect(await fx.records.delete(record(1).accessKeyId)).toBe(true)
      expect(await fx.records.delete(record(1).accessKeyId)).toBe(false)
      expect(await fx.records.get(record(1).accessKeyId)).toBeUndefined()
    })

    it('keeps every one of many concurrent changes', async () => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => fx.records.put(record(i))))
      await Promise.all([fx.records.delete(record(3).accessKeyId), fx.records.delete(record(7).accessKeyId)])
      expect(await fx.records.list()).toHaveLength(18)
      const again = await fx.reopen()
      expect(await again.list()).toHaveLength(18)
    })

    it('still has the records after a reopen, exactly as they were put', async () => {
      await fx.records.put(record(1))
      await fx.records.put(record(2, 'bob'))
      await fx.records.delete(record(2).accessKeyId)
      const again = await fx.reopen()
      expect(await again.get(record(1).accessKeyId)).toEqual(record(1))
      expect(await again.get(record(2).accessKeyId)).toBeUndefined()
    })
  })
}
