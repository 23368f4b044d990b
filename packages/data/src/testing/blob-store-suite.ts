import { randomBytes } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DataErrorCode } from '../errors.js'
import type { BlobStore } from '../port.js'
import type { TestSetup } from './index.js'

/** What a `BlobStore` implementation hands the suite. */
export interface BlobStoreFixture {
  store: BlobStore
  /** Replaces the stored bytes of `cid` with `bytes` behind the store's back, keeping the id. */
  corrupt(cid: string, bytes: Uint8Array): Promise<void>
}

/** The sha2-256 raw CIDv1 of the empty byte string, as IPFS computes it. */
const EMPTY_CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'

/** Computed with multiformats alone, independently of the store's own hashing. */
async function expectedCid(bytes: Uint8Array): Promise<string> {
  return CID.createV1(0x55, await sha256.digest(bytes)).toString()
}

function bytesOf(size: number): Uint8Array {
  return new Uint8Array(randomBytes(size))
}

/** Yields `bytes` in pieces of varying, odd sizes. */
async function* pieces(bytes: Uint8Array, sizes = [1, 7, 1000, 65_537, 3]): AsyncGenerator<Uint8Array> {
  let offset = 0
  for (let i = 0; offset < bytes.byteLength; i++) {
    const size = sizes[i % sizes.length]!
    yield bytes.slice(offset, offset + size)
    offset += size
  }
}

async function concat(source: AsyncIterable<Uint8Array>): Promise<{ bytes: Uint8Array; count: number }> {
  const parts: Uint8Array[] = []
  for await (const part of source) parts.push(part)
  return { bytes: new Uint8Array(Buffer.concat(parts)), count: parts.length }
}

async function listAll(store: BlobStore): Promise<string[]> {
  const cids: string[] = []
  for await (const cid of store.list()) cids.push(cid)
  return cids.sort()
}

async function expectCode(promise: Promise<unknown>, code: DataErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'DataError', code })
}

const INVALID_CIDS = [
  '',
  'not-a-cid',
  // CIDv0 (dag-pb, base58btc)
  'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG',
  // CIDv1 dag-pb of the same digest as EMPTY_CID
  'bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
  // EMPTY_CID upper-cased: the same CID, but not its canonical form
  EMPTY_CID.toUpperCase(),
  // EMPTY_CID cut short
  EMPTY_CID.slice(0, -4),
]

/** Registers the behaviour every `BlobStore` must have. */
export function runBlobStoreTests(common: TestSetup<BlobStoreFixture>): void {
  describe('BlobStore compliance', () => {
    let fixture: BlobStoreFixture
    let store: BlobStore

    beforeEach(async () => {
      fixture = await common.setup()
      store = fixture.store
    })

    afterEach(async () => {
      await common.teardown(fixture)
    })

    it('names a chunk by the raw sha2-256 CIDv1 of its bytes and returns those bytes', async () => {
      const bytes = bytesOf(10_000)
      const ref = await store.put(bytes)
      expect(ref).toEqual({ cid: await expectedCid(bytes), size: 10_000 })
      expect(ref.cid.startsWith('bafkrei')).toBe(true)
      expect(await store.has(ref.cid)).toBe(true)
      expect(await store.stat(ref.cid)).toEqual({ size: 10_000 })
      expect(await store.get(ref.cid)).toEqual(bytes)
    })

    it('stores the empty chunk under the CID IPFS gives it', async () => {
      const ref = await store.put(new Uint8Array(0))
      expect(ref).toEqual({ cid: EMPTY_CID, size: 0 })
      expect(await store.get(EMPTY_CID)).toEqual(new Uint8Array(0))
      expect((await concat(store.stream(EMPTY_CID))).bytes).toEqual(new Uint8Array(0))
    })

    it('reports a chunk it does not hold as missing', async () => {
      const cid = await expectedCid(bytesOf(100))
      expect(await store.has(cid)).toBe(false)
      await expectCode(store.get(cid), 'NoSuchChunk')
      await expectCode(store.stat(cid), 'NoSuchChunk')
      await expectCode(concat(store.stream(cid)), 'NoSuchChunk')
      expect(await listAll(store)).toEqual([])
    })

    it('refuses chunk ids that are not canonical raw sha2-256 CIDv1 strings', async () => {
      for (const bad of INVALID_CIDS) {
        await expectCode(store.get(bad), 'InvalidCid')
        await expectCode(store.has(bad), 'InvalidCid')
        await expectCode(store.stat(bad), 'InvalidCid')
        await expectCode(store.delete(bad), 'InvalidCid')
        await expectCode(concat(store.stream(bad)), 'InvalidCid')
        await expectCode(store.putVerified(bad, new Uint8Array(0)), 'InvalidCid')
      }
      expect(await listAll(store)).toEqual([])
    })

    it('keeps one copy when the same chunk is put twice', async () => {
      const bytes = bytesOf(5000)
      const first = await store.put(bytes)
      const second = await store.put(bytes.slice())
      expect(second).toEqual(first)
      expect(await listAll(store)).toEqual([first.cid])
      expect(await store.get(first.cid)).toEqual(bytes)
    })

    it('is not changed by later writes to the buffers it was given or gave out', async () => {
      const bytes = bytesOf(4096)
      const original = bytes.slice()
      const { cid } = await store.put(bytes)
      bytes.fill(0)
      const read = await store.get(cid)
      expect(read).toEqual(original)
      read.fill(1)
      expect(await store.get(cid)).toEqual(original)
    })

    it('reads a chunk into the memory it is given, or into its own, with the same bytes either way', async () => {
      const bytes = bytesOf(200_000)
      const { cid } = await store.put(bytes)
      const into = new Uint8Array(256 * 1024).fill(7)
      const read = await store.get(cid, { into })
      expect(Buffer.compare(read, bytes)).toBe(0)
      // A store that used `into` answers a view of it, from its start.
      if (read.buffer === into.buffer) {
        expect(read.byteOffset).toBe(into.byteOffset)
        expect(Buffer.compare(into.subarray(0, bytes.byteLength), bytes)).toBe(0)
      }
      // Too small to hold the chunk: left alone.
      const small = new Uint8Array(1000).fill(9)
      const whole = await store.get(cid, { into: small })
      expect(Buffer.compare(whole, bytes)).toBe(0)
      expect(whole.buffer).not.toBe(small.buffer)
      expect(small.every((byte) => byte === 9)).toBe(true)
    })

    it('fails a read into given memory of a damaged chunk, and takes the chunk out of service', async () => {
      const bytes = bytesOf(100_000)
      const { cid } = await store.put(bytes)
      const flipped = bytes.slice()
      flipped[99_999] = flipped[99_999]! ^ 0x10
      await fixture.corrupt(cid, flipped)
      await expectCode(store.get(cid, { into: new Uint8Array(128 * 1024) }), 'CorruptChunk')
      expect(await store.has(cid)).toBe(false)
    })

    it('survives many concurrent puts of the same chunk', async () => {
      const bytes = bytesOf(300_000)
      const refs = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store.put(bytes) : store.put(pieces(bytes)))),
      )
      const cid = await expectedCid(bytes)
      expect(new Set(refs.map((ref) => ref.cid))).toEqual(new Set([cid]))
      expect(await listAll(store)).toEqual([cid])
      expect(await store.get(cid)).toEqual(bytes)
    })

    it('stores concurrent puts of different chunks, each under its own id', async () => {
      const chunks = Array.from({ length: 40 }, (_, i) => bytesOf(1 + i * 997))
      const refs = await Promise.all(chunks.map((bytes) => store.put(bytes)))
      expect(await listAll(store)).toEqual(refs.map((ref) => ref.cid).sort())
      for (const [i, ref] of refs.entries()) {
        expect(ref.size).toBe(chunks[i]!.byteLength)
        expect(await store.get(ref.cid)).toEqual(chunks[i])
      }
    })

    it('takes a chunk as a stream of pieces of any size', async () => {
      const bytes = bytesOf(200_003)
      const ref = await store.put(pieces(bytes))
      expect(ref).toEqual({ cid: await expectedCid(bytes), size: bytes.byteLength })
      expect(await store.get(ref.cid)).toEqual(bytes)
    })

    it('streams a large chunk back in several pieces', async () => {
      const bytes = bytesOf(9 * 1024 * 1024 + 7)
      const ref = await store.put(pieces(bytes, [1_048_576, 3, 777_777]))
      expect(ref.size).toBe(bytes.byteLength)
      const streamed = await concat(store.stream(ref.cid))
      expect(streamed.count).toBeGreaterThan(1)
      expect(Buffer.compare(streamed.bytes, bytes)).toBe(0)
      expect(await store.stat(ref.cid)).toEqual({ size: bytes.byteLength })
    })

    it('accepts a verified put whose bytes match the claimed id', async () => {
      const bytes = bytesOf(70_000)
      const cid = await expectedCid(bytes)
      expect(await store.putVerified(cid, pieces(bytes))).toEqual({ cid, size: bytes.byteLength })
      expect(await store.putVerified(cid, bytes)).toEqual({ cid, size: bytes.byteLength })
      expect(await store.get(cid)).toEqual(bytes)
    })

    it('refuses a verified put whose bytes do not match the claimed id and stores nothing', async () => {
      const claimed = await expectedCid(bytesOf(64))
      const wrong = bytesOf(70_000)
      await expectCode(store.putVerified(claimed, wrong), 'CorruptChunk')
      await expectCode(store.putVerified(claimed, pieces(wrong)), 'CorruptChunk')
      expect(await store.has(claimed)).toBe(false)
      expect(await store.has(await expectedCid(wrong))).toBe(false)
      expect(await listAll(store)).toEqual([])
    })

    it('detects a stored chunk whose bytes were changed, takes it out of service and accepts a good copy', async () => {
      const bytes = bytesOf(50_000)
      const { cid } = await store.put(bytes)
      const flipped = bytes.slice()
      flipped[12_345] = flipped[12_345]! ^ 0x01
      await fixture.corrupt(cid, flipped)
      await expectCode(store.get(cid), 'CorruptChunk')
      expect(await store.has(cid)).toBe(false)
      await expectCode(store.get(cid), 'NoSuchChunk')
      await store.putVerified(cid, bytes)
      expect(await store.get(cid)).toEqual(bytes)
    })

    it('detects a truncated chunk', async () => {
      const bytes = bytesOf(3000)
      const { cid } = await store.put(bytes)
      await fixture.corrupt(cid, bytes.subarray(0, 2999))
      await expectCode(store.get(cid), 'CorruptChunk')
    })

    it('fails a stream of a corrupt chunk at its end', async () => {
      const bytes = bytesOf(600_000)
      const { cid } = await store.put(bytes)
      const damaged = bytes.slice()
      damaged[599_999] = damaged[599_999]! ^ 0xff
      await fixture.corrupt(cid, damaged)
      const received: Uint8Array[] = []
      await expectCode(
        (async () => {
          for await (const piece of store.stream(cid)) received.push(piece)
        })(),
        'CorruptChunk',
      )
      expect(received.length).toBeGreaterThan(0)
      expect(await store.has(cid)).toBe(false)
    })

    it('deletes idempotently', async () => {
      const keep = await store.put(bytesOf(10))
      const gone = await store.put(bytesOf(20))
      await store.delete(gone.cid)
      await store.delete(gone.cid)
      expect(await store.has(gone.cid)).toBe(false)
      await expectCode(store.get(gone.cid), 'NoSuchChunk')
      await expectCode(store.stat(gone.cid), 'NoSuchChunk')
      expect(await listAll(store)).toEqual([keep.cid])
      expect(await store.get(keep.cid)).toHaveLength(10)
    })

    it('stops with Aborted when the signal has fired and stores nothing', async () => {
      const bytes = bytesOf(1000)
      const { cid } = await store.put(bytes)
      const aborted = AbortSignal.abort()
      await expectCode(store.get(cid, { signal: aborted }), 'Aborted')
      await expectCode(concat(store.stream(cid, { signal: aborted })), 'Aborted')
      const other = bytesOf(1000)
      await expectCode(store.put(other, { signal: aborted }), 'Aborted')
      await expectCode(store.putVerified(await expectedCid(other), other, { signal: aborted }), 'Aborted')
      expect(await store.has(await expectedCid(other))).toBe(false)
    })

    it('abandons a streamed put aborted halfway without leaving a chunk', async () => {
      const controller = new AbortController()
      const bytes = bytesOf(100_000)
      async function* source(): AsyncGenerator<Uint8Array> {
        yield bytes.subarray(0, 50_000)
        controller.abort()
        yield bytes.subarray(50_000)
      }
      await expectCode(store.put(source(), { signal: controller.signal }), 'Aborted')
      expect(await store.has(await expectedCid(bytes))).toBe(false)
      expect(await listAll(store)).toEqual([])
    })

    it('stops a stream with Aborted when the signal fires midway', async () => {
      const { cid } = await store.put(bytesOf(2 * 1024 * 1024))
      const controller = new AbortController()
      let count = 0
      await expectCode(
        (async () => {
          for await (const _piece of store.stream(cid, { signal: controller.signal })) {
            count++
            controller.abort()
          }
        })(),
        'Aborted',
      )
      expect(count).toBe(1)
    })
  })
}
