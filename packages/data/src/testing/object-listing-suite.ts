import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ListOptions, ListResult, ObjectIndex } from '../port.js'
import type { TestSetup } from './index.js'
import { content, expectCode, G1, marker, putKeys, utf8Sorted, vid } from './records.js'

/** Follows continuation tokens to the end; returns every page. */
async function allPages(index: ObjectIndex, bucket: string, options: ListOptions): Promise<ListResult[]> {
  const pages: ListResult[] = []
  let token: string | undefined
  do {
    const page = await index.list(bucket, {
      ...options,
      ...(token === undefined ? {} : { continuationToken: token }),
    })
    pages.push(page)
    expect(page.isTruncated).toBe(page.nextContinuationToken !== undefined)
    expect(page.keyCount).toBe(page.objects.length + page.commonPrefixes.length)
    token = page.nextContinuationToken
    if (pages.length > 10_000) throw new Error('listing does not end')
  } while (token !== undefined)
  return pages
}

function names(result: ListResult): string[] {
  return result.objects.map((o) => o.key)
}

const TREE = [
  'photos/2024/a.jpg',
  'photos/2024/b.jpg',
  'photos/2025/c.jpg',
  'photos/x.jpg',
  'readme',
  'zeta/',
  'zeta/deep/file',
]

/** ListObjectsV2 behaviour; part of `runObjectIndexTests`. */
export function runObjectListingTests(common: TestSetup<ObjectIndex>): void {
  describe('ObjectIndex compliance: listing', () => {
    let index: ObjectIndex
    beforeEach(async () => {
      index = await common.setup()
      await index.createBucket('bkt1', { group: G1 })
    })
    afterEach(async () => {
      await common.teardown(index)
    })

    it('lists nothing in an empty bucket', async () => {
      expect(await index.list('bkt1')).toEqual({
        objects: [],
        commonPrefixes: [],
        keyCount: 0,
        isTruncated: false,
      })
    })

    it('lists keys in UTF-8 binary order, not UTF-16 order', async () => {
      const keys = ['b', 'a', 'B', 'a/b', 'ab', 'a b', 'é', '\uff5e', '\u{1f600}', 'Z', '~']
      await putKeys(index, 'bkt1', keys)
      const result = await index.list('bkt1')
      expect(names(result)).toEqual(utf8Sorted(keys))
      expect(names(result).indexOf('\uff5e')).toBeLessThan(names(result).indexOf('\u{1f600}'))
    })

    it('describes each object by its current version', async () => {
      await index.putVersion(content('bkt1', 'k', vid(1), 10))
      await index.putVersion(content('bkt1', 'k', vid(2), 77))
      const v2 = content('bkt1', 'k', vid(2), 77)
      expect((await index.list('bkt1')).objects).toEqual([
        { key: 'k', versionId: vid(2), size: 77, etag: v2.manifest.etag, lastModified: v2.createdAt },
      ])
    })

    it('leaves out keys whose newest version is a delete marker', async () => {
      await putKeys(index, 'bkt1', ['a', 'b', 'c'])
      await index.putVersion(marker('bkt1', 'b', vid(100)))
      expect(names(await index.list('bkt1'))).toEqual(['a', 'c'])
    })

    it('filters by prefix', async () => {
      await putKeys(index, 'bkt1', TREE)
      expect(names(await index.list('bkt1', { prefix: 'photos/2024/' }))).toEqual([
        'photos/2024/a.jpg',
        'photos/2024/b.jpg',
      ])
      expect(names(await index.list('bkt1', { prefix: 'ze' }))).toEqual(['zeta/', 'zeta/deep/file'])
      expect(names(await index.list('bkt1', { prefix: 'nothing' }))).toEqual([])
    })

    it('rolls keys up into common prefixes at the delimiter', async () => {
      await putKeys(index, 'bkt1', TREE)
      const top = await index.list('bkt1', { delimiter: '/' })
      expect(names(top)).toEqual(['readme'])
      expect(top.commonPrefixes).toEqual(['photos/', 'zeta/'])
      expect(top.keyCount).toBe(3)
      const photos = await index.list('bkt1', { prefix: 'photos/', delimiter: '/' })
      expect(names(photos)).toEqual(['photos/x.jpg'])
      expect(photos.commonPrefixes).toEqual(['photos/2024/', 'photos/2025/'])
      const zeta = await index.list('bkt1', { prefix: 'zeta/', delimiter: '/' })
      expect(names(zeta)).toEqual(['zeta/'])
      expect(zeta.commonPrefixes).toEqual(['zeta/deep/'])
    })

    it('supports a delimiter longer than one character', async () => {
      await putKeys(index, 'bkt1', ['a--b--c', 'a--d', 'a-e', 'f'])
      const result = await index.list('bkt1', { delimiter: '--' })
      expect(result.commonPrefixes).toEqual(['a--'])
      expect(names(result)).toEqual(['a-e', 'f'])
    })

    it('pages through keys with continuation tokens', async () => {
      const keys = Array.from({ length: 25 }, (_, i) => `key-${String(i).padStart(2, '0')}`)
      await putKeys(index, 'bkt1', keys)
      const pages = await allPages(index, 'bkt1', { maxKeys: 10 })
      expect(pages.map((p) => p.keyCount)).toEqual([10, 10, 5])
      expect(pages.map((p) => p.isTruncated)).toEqual([true, true, false])
      expect(pages.flatMap(names)).toEqual(keys)
    })

    it('does not report a full last page as truncated', async () => {
      await putKeys(index, 'bkt1', ['a', 'b', 'c'])
      const page = await index.list('bkt1', { maxKeys: 3 })
      expect(page.isTruncated).toBe(false)
      expect(page.nextContinuationToken).toBeUndefined()
      expect(names(page)).toEqual(['a', 'b', 'c'])
    })

    it('counts common prefixes against max-keys and never repeats one across pages', async () => {
      await putKeys(index, 'bkt1', TREE)
      const whole = await index.list('bkt1', { delimiter: '/' })
      for (const maxKeys of [1, 2]) {
        const pages = await allPages(index, 'bkt1', { delimiter: '/', maxKeys })
        expect(pages.every((p) => p.keyCount <= maxKeys)).toBe(true)
        expect(pages.flatMap(names)).toEqual(names(whole))
        expect(pages.flatMap((p) => p.commonPrefixes)).toEqual(whole.commonPrefixes)
      }
      const photos = await allPages(index, 'bkt1', { prefix: 'photos/', delimiter: '/', maxKeys: 1 })
      expect(photos.flatMap((p) => [...p.commonPrefixes, ...names(p)])).toEqual([
        'photos/2024/',
        'photos/2025/',
        'photos/x.jpg',
      ])
    })

    it('starts after start-after, clamped to the prefix', async () => {
      await putKeys(index, 'bkt1', TREE)
      expect(names(await index.list('bkt1', { startAfter: 'photos/x.jpg' }))).toEqual([
        'readme',
        'zeta/',
        'zeta/deep/file',
      ])
      expect(
        names(await index.list('bkt1', { startAfter: 'photos/2024/a', prefix: 'photos/2024/' })),
      ).toEqual(['photos/2024/a.jpg', 'photos/2024/b.jpg'])
      expect(names(await index.list('bkt1', { startAfter: 'a', prefix: 'zeta/' }))).toEqual([
        'zeta/',
        'zeta/deep/file',
      ])
      expect(names(await index.list('bkt1', { startAfter: 'zz', prefix: 'photos/' }))).toEqual([])
      const grouped = await index.list('bkt1', { startAfter: 'photos/2024/a.jpg', delimiter: '/' })
      expect(grouped.commonPrefixes).toEqual(['photos/', 'zeta/'])
      expect(names(grouped)).toEqual(['readme'])
    })

    it('follows the continuation token rather than start-after', async () => {
      await putKeys(index, 'bkt1', ['a', 'b', 'c', 'd'])
      const first = await index.list('bkt1', { maxKeys: 2 })
      const second = await index.list('bkt1', {
        maxKeys: 2,
        startAfter: 'c',
        continuationToken: first.nextContinuationToken!,
      })
      expect(names(second)).toEqual(['c', 'd'])
    })

    it('shows keys written after the cursor on later pages and hides keys deleted meanwhile', async () => {
      await putKeys(index, 'bkt1', ['a', 'c', 'e', 'g'])
      const first = await index.list('bkt1', { maxKeys: 2 })
      expect(names(first)).toEqual(['a', 'c'])
      await index.putVersion(content('bkt1', 'b', vid(50)))
      await index.putVersion(content('bkt1', 'd', vid(51)))
      await index.putVersion(marker('bkt1', 'e', vid(52)))
      const rest = await index.list('bkt1', { continuationToken: first.nextContinuationToken! })
      expect(names(rest)).toEqual(['d', 'g'])
    })

    it('handles max-keys of 0 and caps it at 1000', async () => {
      await putKeys(
        index,
        'bkt1',
        Array.from({ length: 1001 }, (_, i) => `k${String(i).padStart(4, '0')}`),
      )
      const none = await index.list('bkt1', { maxKeys: 0 })
      expect(none).toMatchObject({ objects: [], commonPrefixes: [], keyCount: 0 })
      const capped = await index.list('bkt1', { maxKeys: 5000 })
      expect(capped.keyCount).toBe(1000)
      expect(capped.isTruncated).toBe(true)
      const byDefault = await index.list('bkt1')
      expect(byDefault.keyCount).toBe(1000)
      const rest = await index.list('bkt1', { continuationToken: byDefault.nextContinuationToken! })
      expect(names(rest)).toEqual(['k1000'])
    })

    it('refuses a bad max-keys or continuation token', async () => {
      await putKeys(index, 'bkt1', ['a'])
      for (const maxKeys of [-1, 1.5, Number.NaN]) {
        await expectCode(index.list('bkt1', { maxKeys }), 'InvalidArgument')
      }
      for (const continuationToken of ['', '!!!', 'eA', Buffer.from('zkey').toString('base64url')]) {
        await expectCode(index.list('bkt1', { continuationToken }), 'InvalidArgument')
      }
    })
  })
}
