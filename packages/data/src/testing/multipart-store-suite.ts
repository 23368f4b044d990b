import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { MultipartStore, MultipartUpload, PartRecord } from '../engine/port.js'
import type { DataErrorCode } from '../errors.js'
import type { TestSetup } from './index.js'

/** What a `MultipartStore` implementation hands the suite. */
export interface MultipartStoreFixture {
  store: MultipartStore
  /**
   * For durable stores: closes the store and opens it again on the same storage, as after a restart.
   * The suite then checks that what was recorded is still there.
   */
  reopen?: () => Promise<MultipartStore>
}

const CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'

function upload(uploadId: string, key: string, bucket = 'bucket-one'): MultipartUpload {
  return {
    uploadId,
    bucket,
    key,
    initiated: '2025-01-01T00:00:00.000Z',
    initiator: 'alice',
    contentType: 'text/plain',
    userMetadata: { colour: 'blue' },
  }
}

function part(partNumber: number, etag = `"${String(partNumber).padStart(32, '0')}"`): PartRecord {
  return {
    partNumber,
    etag,
    size: 0,
    chunks: [{ cid: CID, size: 0 }],
    checksums: { md5: etag.slice(1, -1), crc32: 'AAAAAA==' },
    lastModified: '2025-01-01T00:00:01.000Z',
  }
}

async function all<T>(source: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of source) items.push(item)
  return items
}

async function expectCode(promise: Promise<unknown>, code: DataErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'DataError', code })
}

/** The behaviour every `MultipartStore` must have. */
export interface MultipartStoreSuiteOptions {
  /** The store keeps its state across a restart: the fixture must then offer `reopen`. */
  durable?: boolean
}

export function runMultipartStoreTests(
  common: TestSetup<MultipartStoreFixture>,
  options: MultipartStoreSuiteOptions = {},
): void {
  describe('MultipartStore compliance', () => {
    let fixture: MultipartStoreFixture
    let store: MultipartStore

    beforeEach(async () => {
      fixture = await common.setup()
      store = fixture.store
    })

    afterEach(async () => {
      await common.teardown(fixture)
    })

    it('returns a created upload as a copy the caller cannot change', async () => {
      await store.createUpload(upload('u1', 'a.txt'))
      const first = await store.getUpload('u1')
      expect(first).toEqual(upload('u1', 'a.txt'))
      first.userMetadata.colour = 'red'
      expect((await store.getUpload('u1')).userMetadata.colour).toBe('blue')
    })

    it('refuses a second upload with the same id and ids that are not upload ids', async () => {
      await store.createUpload(upload('u1', 'a.txt'))
      await expectCode(store.createUpload(upload('u1', 'b.txt')), 'InvalidArgument')
      for (const bad of ['', '../escape', 'a/b', 'x'.repeat(129), 'dot.dot']) {
        await expectCode(store.createUpload(upload(bad, 'a.txt')), 'InvalidArgument')
      }
    })

    it('answers NoSuchUpload for unknown and malformed upload ids everywhere', async () => {
      for (const id of ['missing', '../../etc', '']) {
        await expectCode(store.getUpload(id), 'NoSuchUpload')
        await expectCode(store.putPart(id, part(1)), 'NoSuchUpload')
        await expectCode(all(store.listParts(id)), 'NoSuchUpload')
        await expectCode(store.deleteUpload(id), 'NoSuchUpload')
      }
    })

    it('lists parts in ascending order, replacing a part uploaded again', async () => {
      await store.createUpload(upload('u1', 'a.txt'))
      for (const n of [3, 1, 10_000, 2]) await store.putPart('u1', part(n))
      await store.putPart('u1', part(2, `"${'f'.repeat(32)}"`))
      const parts = await all(store.listParts('u1'))
      expect(parts.map((p) => p.partNumber)).toEqual([1, 2, 3, 10_000])
      expect(parts[1]).toEqual(part(2, `"${'f'.repeat(32)}"`))
      expect((await all(store.listParts('u1', { afterPartNumber: 2 }))).map((p) => p.partNumber)).toEqual([
        3, 10_000,
      ])
    })

    it('refuses part numbers outside 1 to 10000', async () => {
      await store.createUpload(upload('u1', 'a.txt'))
      for (const n of [0, -1, 10_001, 1.5]) await expectCode(store.putPart('u1', part(n)), 'InvalidArgument')
      expect(await all(store.listParts('u1'))).toEqual([])
    })

    it("lists a bucket's uploads by key, then by upload id, honouring prefix and markers", async () => {
      await store.createUpload(upload('u3', 'b/2'))
      await store.createUpload(upload('u1', 'b/1'))
      await store.createUpload(upload('u2', 'b/1'))
      await store.createUpload(upload('u4', 'a'))
      await store.createUpload(upload('u5', 'b/1', 'bucket-two'))
      const ids = async (options?: Parameters<MultipartStore['listUploads']>[1]) =>
        (await all(store.listUploads('bucket-one', options))).map((u) => u.uploadId)
      expect(await ids()).toEqual(['u4', 'u1', 'u2', 'u3'])
      expect(await ids({ prefix: 'b/' })).toEqual(['u1', 'u2', 'u3'])
      expect(await ids({ keyMarker: 'b/1' })).toEqual(['u3'])
      expect(await ids({ keyMarker: 'b/1', uploadIdMarker: 'u1' })).toEqual(['u2', 'u3'])
      expect(await all(store.listUploads('no-such-bucket'))).toEqual([])
      expect((await all(store.allUploads())).map((u) => u.uploadId).sort()).toEqual([
        'u1',
        'u2',
        'u3',
        'u4',
        'u5',
      ])
    })

    it('forgets a deleted upload and its parts', async () => {
      await store.createUpload(upload('u1', 'a.txt'))
      await store.putPart('u1', part(1))
      await store.deleteUpload('u1')
      await expectCode(store.getUpload('u1'), 'NoSuchUpload')
      await expectCode(store.deleteUpload('u1'), 'NoSuchUpload')
      expect(await all(store.listUploads('bucket-one'))).toEqual([])
      await store.createUpload(upload('u1', 'again.txt'))
      expect(await all(store.listParts('u1'))).toEqual([])
    })

    // Registered only for durable stores, so a memory store reports no skipped test.
    if (options.durable === true)
      it('keeps uploads and parts across a restart', async () => {
        if (fixture.reopen === undefined) throw new Error('a durable store fixture must offer reopen()')
        await store.createUpload(upload('u1', 'a.txt'))
        await store.createUpload(upload('u2', 'b.txt'))
        await store.putPart('u1', part(1))
        await store.putPart('u1', part(2))
        await store.deleteUpload('u2')
        store = await fixture.reopen()
        fixture.store = store
        expect(await store.getUpload('u1')).toEqual(upload('u1', 'a.txt'))
        expect(await all(store.listParts('u1'))).toEqual([part(1), part(2)])
        await expectCode(store.getUpload('u2'), 'NoSuchUpload')
      })
  })
}
