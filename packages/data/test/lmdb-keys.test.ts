import { describe, expect, it } from 'vitest'
import { compareKeys, formatVersionId } from '../src/index.js'
import {
  bucketEnd,
  bucketStart,
  decodeObjectKey,
  keyVersionsEnd,
  keyVersionsStart,
  objectKey,
  objectSeek,
  prefixRange,
  recordId,
  versionKey,
} from '../src/lmdb-keys.js'

const KEYS = ['a', 'a b', 'a/b', 'a/', 'ab', 'é', 'e\u0301', '\uff5e', '\ue000', '\u{1f600}', '~', ' ', 'Z']
const IDS = [
  formatVersionId({ wallTime: 5, counter: 0, nodeId: 'n' }),
  formatVersionId({ wallTime: 5, counter: 0, nodeId: 'n1' }),
  formatVersionId({ wallTime: 5, counter: 0, nodeId: 'n-' }),
  formatVersionId({ wallTime: 5, counter: 1, nodeId: 'a' }),
  formatVersionId({ wallTime: 6, counter: 0, nodeId: 'a' }),
  formatVersionId({ wallTime: 0x10000, counter: 0, nodeId: 'Z' }),
]

describe('LMDB key layout', () => {
  it('lays out bucket 00 key (current) and bucket 00 key 00 ~versionId FF (versions), byte for byte', () => {
    const utf8 = (text: string) => Buffer.from(text, 'utf8')
    for (const bucket of ['bkt', 'my.bucket-1']) {
      for (const key of KEYS) {
        expect(objectKey(bucket, key)).toEqual(Buffer.concat([utf8(bucket), Buffer.of(0), utf8(key)]))
        for (const id of IDS) {
          const inverted = Buffer.from(utf8(id).map((byte) => 0xff - byte))
          expect(versionKey(bucket, key, id)).toEqual(
            Buffer.concat([utf8(bucket), Buffer.of(0), utf8(key), Buffer.of(0), inverted, Buffer.of(0xff)]),
          )
          expect(recordId(key, id)).toEqual(
            Buffer.concat([utf8(key), Buffer.of(0), inverted, Buffer.of(0xff)]),
          )
        }
      }
    }
  })

  it('sorts version keys by object key in UTF-8 order, then newest version first', () => {
    const entries = KEYS.flatMap((key) => IDS.map((id) => ({ key, id })))
    const byBytes = [...entries].sort((x, y) =>
      Buffer.compare(versionKey('bkt', x.key, x.id), versionKey('bkt', y.key, y.id)),
    )
    const byRule = [...entries].sort(
      (x, y) => compareKeys(x.key, y.key) || (x.id < y.id ? 1 : x.id > y.id ? -1 : 0),
    )
    expect(byBytes).toEqual(byRule)
  })

  it("keeps every key's versions inside its own range and inside its bucket's", () => {
    for (const key of KEYS) {
      for (const id of IDS) {
        const stored = versionKey('bkt', key, id)
        expect(Buffer.compare(keyVersionsStart('bkt', key), stored)).toBeLessThan(0)
        expect(Buffer.compare(stored, keyVersionsEnd('bkt', key))).toBeLessThan(0)
        expect(Buffer.compare(bucketStart('bkt'), stored)).toBeLessThan(0)
        expect(Buffer.compare(stored, bucketEnd('bkt'))).toBeLessThan(0)
        // A bucket whose name extends this one's sorts wholly after it.
        expect(Buffer.compare(stored, bucketStart('bkt1'))).toBeLessThan(0)
      }
      for (const other of KEYS.filter((k) => compareKeys(k, key) > 0)) {
        expect(
          Buffer.compare(keyVersionsEnd('bkt', key), keyVersionsStart('bkt', other)),
        ).toBeLessThanOrEqual(0)
      }
    }
  })

  it('reads object keys back and seeks to or just after a key', () => {
    for (const key of KEYS) {
      expect(decodeObjectKey('bkt', objectKey('bkt', key))).toBe(key)
      expect(objectSeek('bkt', { key, inclusive: true })).toEqual(objectKey('bkt', key))
      expect(
        Buffer.compare(objectSeek('bkt', { key, inclusive: false }), objectKey('bkt', key)),
      ).toBeGreaterThan(0)
    }
  })

  it('bounds a prefix by the next byte string and refuses prefixes no key can have', () => {
    expect(prefixRange('bkt', 'a/')).toEqual({ start: objectKey('bkt', 'a/'), end: objectKey('bkt', 'a0') })
    expect(prefixRange('bkt', '')).toEqual({ start: bucketStart('bkt'), end: bucketEnd('bkt') })
    expect(prefixRange('bkt', 'a\u0000')).toBeUndefined()
    expect(prefixRange('bkt', 'x'.repeat(1025))).toBeUndefined()
  })
})
