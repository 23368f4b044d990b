import { describe, expect, it } from 'vitest'
import type { SearchIndex } from '../port.js'
import { expectMetadataError } from './expect-error.js'
import { CORPUS, EVERYTHING, indexAll, only, searchAll, searchDocument } from './search-corpus.js'

/** `n` documents whose text holds "ice" a varying number of times, ordinals from `first`. */
function icy(count: number, first = 100, prefix = 'doc') {
  return Array.from({ length: count }, (_, index) => {
    const repeats = 1 + ((index * 7) % 5)
    const id = `${prefix}-${String(index).padStart(2, '0')}`
    return searchDocument(first + index, id, `${'ice '.repeat(repeats)}core sample`)
  })
}

/** The universe filter, paging and cursors, and keeping the index up to date. */
export function describeVisibilityAndPaging(current: () => SearchIndex): void {
  describe('visibility', () => {
    it('never returns a document outside the universe', async () => {
      const index = current()
      await indexAll(index)
      const page = await index.search('ice', { universe: only(1, 3, 999) })
      expect(page.hits.map((hit) => hit.resourceId).sort()).toEqual(['glacier-photos', 'sea-ice'])
      expect((await index.search('ice', { universe: only() })).hits).toEqual([])
      expect((await index.search('NOT nextflow', { universe: only(4) })).hits).toEqual([])
      expect((await index.search('', { universe: only(2) })).hits.map((hit) => hit.resourceId)).toEqual([
        'ocean-heat',
      ])
    })

    it('fills pages with visible hits only, and gives no cursor when only hidden hits remain', async () => {
      const index = current()
      const documents = icy(12)
      await indexAll(index, documents)
      const visible = documents.filter((_, position) => position % 3 === 0)
      const universe = only(...visible.map((doc) => doc.ordinal))
      const first = await index.search('ice', { universe, limit: 2 })
      expect(first.hits).toHaveLength(2)
      expect(first.nextCursor).toBeDefined()
      const second = await index.search('ice', { universe, limit: 2, cursor: first.nextCursor! })
      expect(second.hits).toHaveLength(2)
      expect(second.nextCursor).toBeUndefined()
      const seen = [...first.hits, ...second.hits].map((hit) => hit.resourceId).sort()
      expect(seen).toEqual(visible.map((doc) => doc.resourceId).sort())
      const exact = await index.search('ice', { universe, limit: 4 })
      expect(exact.hits).toHaveLength(4)
      expect(exact.nextCursor).toBeUndefined()
    })

    it('gives visible hits the same scores and order however many hidden documents match', async () => {
      const index = current()
      await indexAll(index, icy(6))
      const universe = only(100, 101, 102)
      const before = await index.search('ice core', { universe })
      await indexAll(index, icy(30, 500, 'hidden'))
      const after = await index.search('ice core', { universe })
      expect(after).toEqual(before)
      expect(after.hits).toHaveLength(3)
    })
  })

  describe('paging', () => {
    it('pages through every hit exactly once, in score order then resource id', async () => {
      const index = current()
      await indexAll(index, icy(25))
      const all = await index.search('ice', { universe: EVERYTHING, limit: 1000 })
      expect(all.hits).toHaveLength(25)
      expect(all.nextCursor).toBeUndefined()
      for (let position = 1; position < all.hits.length; position += 1) {
        const previous = all.hits[position - 1]!
        const hit = all.hits[position]!
        expect(
          previous.score > hit.score ||
            (previous.score === hit.score && previous.resourceId < hit.resourceId),
        ).toBe(true)
      }
      for (const limit of [1, 4, 7, 25]) {
        expect(await searchAll(index, 'ice', EVERYTHING, limit)).toEqual(all.hits)
      }
      const defaultPage = await index.search('ice', { universe: EVERYTHING })
      expect(defaultPage.hits).toEqual(all.hits.slice(0, 20))
    })

    it('continues after the last hit of the previous page when documents come and go between pages', async () => {
      const index = current()
      await indexAll(index, icy(10))
      const first = await index.search('ice', { universe: EVERYTHING, limit: 4 })
      const firstIds = first.hits.map((hit) => hit.resourceId)
      // A new best hit and the removal of a hit already shown must not shift the rest.
      await index.index(searchDocument(300, 'aaa-new-best', 'ice '.repeat(50)))
      await index.remove(firstIds[0]!)
      const rest = await searchAll(index, 'ice', EVERYTHING, 1000)
      const expected = rest.filter(
        (hit) => !firstIds.includes(hit.resourceId) && hit.resourceId !== 'aaa-new-best',
      )
      const second = await index.search('ice', {
        universe: EVERYTHING,
        limit: 100,
        cursor: first.nextCursor!,
      })
      expect(second.hits).toEqual(expected)
      expect(second.hits).toHaveLength(6)
    })

    it('refuses a cursor made for another query, and cursors it did not make', async () => {
      const index = current()
      await indexAll(index, icy(5))
      const { nextCursor } = await index.search('ice', { universe: EVERYTHING, limit: 1 })
      expect(nextCursor).toBeDefined()
      await expectMetadataError(
        () => index.search('core', { universe: EVERYTHING, cursor: nextCursor! }),
        'InvalidCursor',
      )
      for (const cursor of ['', 'not a cursor', 'e30', 'eyJraW5kIjoicmVzb3VyY2VzIn0', '%%%']) {
        await expectMetadataError(
          () => index.search('ice', { universe: EVERYTHING, cursor }),
          'InvalidCursor',
        )
      }
    })
  })

  describe('keeping the index up to date', () => {
    it('replaces a document when it is indexed again', async () => {
      const index = current()
      await indexAll(index)
      await index.index(searchDocument(1, 'sea-ice', 'Tundra vegetation survey', { type: 'Dataset' }))
      const iceHits = await index.search('ice', { universe: EVERYTHING })
      expect(iceHits.hits.map((hit) => hit.resourceId).sort()).toEqual(['glacier-photos', 'ocean-heat'])
      const tundra = await index.search('tundra', { universe: EVERYTHING })
      expect(tundra.hits.map((hit) => hit.resourceId)).toEqual(['sea-ice'])
    })

    it('moves a document to a new ordinal and frees the old one', async () => {
      const index = current()
      await indexAll(index)
      await index.index({ ...CORPUS[0]!, ordinal: 77 })
      expect((await index.search('"sea ice"', { universe: only(1) })).hits).toEqual([])
      expect((await index.search('"sea ice"', { universe: only(77) })).hits).toHaveLength(1)
      await index.index(searchDocument(1, 'newcomer', 'permafrost'))
      expect((await index.search('permafrost', { universe: only(1) })).hits).toHaveLength(1)
    })

    it("refuses an ordinal that belongs to another resource, keeping the owner's document", async () => {
      const index = current()
      await indexAll(index)
      await expectMetadataError(() => index.index(searchDocument(1, 'intruder', 'ice')), 'AlreadyExists')
      const hits = (await index.search('ice', { universe: only(1) })).hits
      expect(hits.map((hit) => hit.resourceId)).toEqual(['sea-ice'])
    })

    it('removes a document, and treats removing an absent one as done', async () => {
      const index = current()
      await indexAll(index)
      await index.remove('glacier-photos')
      await index.remove('glacier-photos')
      await index.remove('never-indexed')
      const hits = (await index.search('ice', { universe: EVERYTHING })).hits
      expect(hits.map((hit) => hit.resourceId).sort()).toEqual(['ocean-heat', 'sea-ice'])
      await index.index(searchDocument(3, 'reuses-ordinal', 'glacier'))
      expect((await index.search('glacier', { universe: only(3) })).hits).toHaveLength(1)
    })
  })
}
