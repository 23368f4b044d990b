import { createHash } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { KeyRange, ObjectIndex, ObjectVersion, PurgeRecord } from '../port.js'
import type { TestSetup } from './index.js'
import { collectVersions, content, expectCode, G1, marker, purge, vid } from './records.js'

/**
 * Registers the behaviour anti-entropy relies on: range digests that every implementation computes
 * byte for byte the same, and listings of versions and purges cut to a key range and resumed after a
 * record.
 */
export function runObjectRangeTests(common: TestSetup<ObjectIndex>): void {
  describe('ObjectIndex compliance: range digests and record ranges', () => {
    const indexes: ObjectIndex[] = []
    /** A fresh index with bucket `bkt1`; torn down after the test. */
    const open = async (): Promise<ObjectIndex> => {
      const index = await common.setup()
      indexes.push(index)
      await index.createBucket('bkt1', { group: G1 })
      return index
    }
    let index: ObjectIndex
    beforeEach(async () => {
      index = await open()
    })
    afterEach(async () => {
      for (const opened of indexes.splice(0)) await common.teardown(opened)
    })

    const keys = ['a', 'a/b', 'ab', 'b', 'c/d', 'c/e', 'é', '\u{1f600}', '\uffff']
    const records: ObjectVersion[] = keys.flatMap((key, i) => [
      content('bkt1', key, vid(i)),
      marker('bkt1', key, vid(100 + i, 'node-b')),
    ])
    const put = async (target: ObjectIndex, versions: readonly ObjectVersion[]): Promise<void> => {
      for (const version of versions) await target.putVersion(version)
    }

    it('digests a range as RangeDigest defines it: record ids in index order, then marked purge ids', async () => {
      expect(await index.digestRange('bkt1')).toEqual({
        count: 0,
        purges: 0,
        digest: createHash('sha256').digest('hex'),
      })
      await put(index, [
        content('bkt1', 'b', vid(1)),
        content('bkt1', 'a', vid(1)),
        marker('bkt1', 'a', vid(2)),
      ])
      await index.purgeVersion(purge('bkt1', 'c', vid(3)))
      const expected = createHash('sha256')
        .update(recordId('a', vid(2)))
        .update(recordId('a', vid(1)))
        .update(recordId('b', vid(1)))
        .update(Buffer.from('purge\u0000'))
        .update(recordId('c', vid(3)))
        .digest('hex')
      expect(await index.digestRange('bkt1')).toEqual({ count: 3, purges: 1, digest: expected })
      await expectCode(index.digestRange('nope'), 'NoSuchBucket')
    })

    it('gives two holders of the same records the same digest, whatever order they came in', async () => {
      const other = await open()
      await put(index, records)
      await put(other, [...records].reverse())
      const whole = await index.digestRange('bkt1')
      expect(whole.count).toBe(records.length)
      expect(await other.digestRange('bkt1')).toEqual(whole)
      await index.putVersion(records[0]!)
      expect(await index.digestRange('bkt1')).toEqual(whole)
    })

    it('tells holders apart when one misses a version or a purge, and agrees once both hold it', async () => {
      const other = await open()
      await put(index, records)
      await put(other, records.slice(1))
      expect(await other.digestRange('bkt1')).not.toEqual(await index.digestRange('bkt1'))
      await other.putVersion(records[0]!)
      expect(await other.digestRange('bkt1')).toEqual(await index.digestRange('bkt1'))

      // One holder had the version it purges, the other never had it: the same records now.
      const gone = purge('bkt1', 'c/e', vid(50))
      await index.putVersion(content('bkt1', 'c/e', vid(50)))
      await index.purgeVersion(gone)
      expect(await other.digestRange('bkt1')).not.toEqual(await index.digestRange('bkt1'))
      await other.purgeVersion(gone)
      const purged = await index.digestRange('bkt1')
      expect(purged).toMatchObject({ count: records.length, purges: 1 })
      expect(await other.digestRange('bkt1')).toEqual(purged)
    })

    it('digests a sub-range as a holder of only its records would', async () => {
      await put(index, records)
      const ranges: KeyRange[] = [
        { end: 'b' },
        { start: 'a/', end: 'c' },
        { start: 'c/e' },
        { start: 'c/d\u0000' },
        { start: 'a', end: 'a' },
        { start: 'b', end: 'a' },
        { end: 'x'.repeat(2000) },
        { start: '\ud83d' },
      ]
      for (const range of ranges) {
        const alone = await open()
        await put(
          alone,
          records.filter((r) => inRange(r.key, range)),
        )
        const digest = await index.digestRange('bkt1', range)
        expect(digest, JSON.stringify(range)).toEqual(await alone.digestRange('bkt1'))
        expect(digest).toEqual(await alone.digestRange('bkt1', range))
      }
      expect((await index.digestRange('bkt1', { start: 'a', end: 'b' })).count).toBe(6)
      expect((await index.digestRange('bkt1', { start: 'b', end: 'a' })).count).toBe(0)
      // A lone surrogate reads as U+FFFD, as in UTF-8: the range holds U+FFFF and U+1F600 only.
      expect((await index.digestRange('bkt1', { start: '\ud83d' })).count).toBe(4)
    })

    it('lists the versions of a key range and resumes after any record of it', async () => {
      await put(index, records)
      const range = { start: 'a/', end: 'c/e' }
      const all = await collectVersions(index.listVersions('bkt1', { range }))
      expect(all).toEqual(expectedIds(records, range))
      expect(await pageThrough((after) => index.listVersions('bkt1', { range, ...after }))).toEqual(all)
      // Markers outside the range neither widen nor skip it.
      expect(await collectVersions(index.listVersions('bkt1', { range, keyMarker: 'a' }))).toEqual(all)
      expect(await collectVersions(index.listVersions('bkt1', { range, keyMarker: 'c/e' }))).toEqual([])
      // A prefix narrows further.
      expect(await collectVersions(index.listVersions('bkt1', { range, prefix: 'c/' }))).toEqual(
        expectedIds(records, { start: 'c/', end: 'c/e' }),
      )
    })

    it('lists the purges of a key range and resumes after any purge of it', async () => {
      const purges = records.map((r) => purge('bkt1', r.key, r.versionId))
      for (const p of [...purges].reverse()) await index.purgeVersion(p)
      expect(await collectVersions(index.listPurges('bkt1'))).toEqual(expectedIds(purges, {}))
      const range = { start: 'ab', end: '\uffff' }
      const all = await collectVersions(index.listPurges('bkt1', { range }))
      expect(all).toEqual(expectedIds(purges, range))
      expect(await pageThrough((after) => index.listPurges('bkt1', { range, ...after }))).toEqual(all)
      expect(await collectVersions(index.listPurges('bkt1', { keyMarker: 'é' }))).toEqual(
        expectedIds(purges, { start: 'é\u0000' }),
      )
      await expectCode(collectVersions(index.listPurges('nope')), 'NoSuchBucket')
    })
  })
}

/** A record's id as `RangeDigest` defines it, written out independently of the indexes. */
function recordId(key: string, versionId: string): Buffer {
  const inverted = Buffer.from(versionId, 'utf8').map((b) => 0xff - b)
  return Buffer.concat([Buffer.from(key, 'utf8'), Buffer.of(0), inverted, Buffer.of(0xff)])
}

/** Whether `key` is in `range`, by UTF-8 bytes as the port defines it. */
function inRange(key: string, range: KeyRange): boolean {
  const bytes = Buffer.from(key, 'utf8')
  return (
    (range.start === undefined || Buffer.compare(bytes, Buffer.from(range.start, 'utf8')) >= 0) &&
    (range.end === undefined || Buffer.compare(bytes, Buffer.from(range.end, 'utf8')) < 0)
  )
}

/** The ids of `records` in `range`, in index order. */
function expectedIds(
  records: ReadonlyArray<ObjectVersion | PurgeRecord>,
  range: KeyRange,
): Array<[string, string]> {
  return records
    .filter((r) => inRange(r.key, range))
    .sort((a, b) => Buffer.compare(recordId(a.key, a.versionId), recordId(b.key, b.versionId)))
    .map((r) => [r.key, r.versionId])
}

/** Pages of two records, each resumed after the last record of the one before, as anti-entropy pulls. */
async function pageThrough(
  list: (after: {
    keyMarker?: string
    versionIdMarker?: string
  }) => AsyncIterable<{ key: string; versionId: string }>,
): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = []
  let after: { keyMarker?: string; versionIdMarker?: string } = {}
  for (;;) {
    const page: Array<[string, string]> = []
    for await (const record of list(after)) {
      page.push([record.key, record.versionId])
      if (page.length === 2) break
    }
    out.push(...page)
    const last = page.at(-1)
    if (page.length < 2 || last === undefined) return out
    after = { keyMarker: last[0], versionIdMarker: last[1] }
  }
}
