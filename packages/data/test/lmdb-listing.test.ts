import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ListOptions, type LmdbObjectIndex, MemoryObjectIndex, type ObjectIndex } from '../src/index.js'
import { collectVersions, content, G1, marker, vid } from '../src/testing/records.js'
import { contentFor, openTemporary, putMany } from './lmdb-fixture.js'

const KEYS = 20_000
const BIG = Array.from({ length: KEYS }, (_, i) => `dir${i % 20}/file${String(i).padStart(6, '0')}`)

/** What one call read from LMDB. */
async function measured<T>(index: LmdbObjectIndex, call: () => Promise<T>) {
  const before = index.stats()
  const result = await call()
  const after = index.stats()
  return { result, seeks: after.seeks - before.seeks, reads: after.entriesRead - before.entriesRead }
}

describe('LmdbObjectIndex listing cost', () => {
  let index: LmdbObjectIndex
  let dispose: () => Promise<void>

  beforeAll(async () => {
    ;({ index, dispose } = await openTemporary())
    await index.createBucket('big', { group: G1 })
    await index.createBucket('small', { group: G1 })
    await putMany(index, contentFor('big', BIG))
    // Keys listing must step over: delete-marked keys and old versions between the live ones.
    await putMany(
      index,
      BIG.filter((_, i) => i % 4 === 1).flatMap((key, i) => [
        content('big', `${key}-gone`, vid(KEYS + 2 * i)),
        marker('big', `${key}-gone`, vid(KEYS + 2 * i + 1)),
      ]),
    )
    await putMany(index, contentFor('small', BIG.slice(0, 40)))
  }, 60_000)

  afterAll(async () => {
    await dispose()
  })

  it(`reads one page's worth of entries from a bucket of ${KEYS} keys, as from a bucket of 40`, async () => {
    const big = await measured(index, () => index.list('big', { prefix: 'dir7/', maxKeys: 10 }))
    expect(big.result.objects.map((o) => o.key)).toEqual(
      BIG.filter((k) => k.startsWith('dir7/')).slice(0, 10),
    )
    expect(big.result.isTruncated).toBe(true)
    const small = await measured(index, () => index.list('small', { prefix: 'dir7/', maxKeys: 10 }))
    expect(small.result.objects).toHaveLength(2)
    // Ten entries, one more to learn the page is truncated, from one seek; no delete markers read.
    expect(big.reads).toBe(11)
    expect(big.seeks).toBe(1)
    // The small bucket: its two keys under the prefix, and the first key past it, which ends the page.
    expect(small.reads).toBe(3)
  })

  it('reads 1001 entries for a full page of 1000, wherever the page starts', async () => {
    let token: string | undefined
    for (let page = 0; page < 3; page++) {
      const { result, reads, seeks } = await measured(index, () =>
        index.list('big', token === undefined ? {} : { continuationToken: token }),
      )
      expect(result.keyCount).toBe(1000)
      expect(reads).toBe(1001)
      expect(seeks).toBe(1)
      token = result.nextContinuationToken
    }
  })

  it('skips each common prefix with one seek instead of reading the keys under it', async () => {
    const { result, reads, seeks } = await measured(index, () => index.list('big', { delimiter: '/' }))
    expect(result.commonPrefixes).toEqual(
      Array.from({ length: 20 }, (_, i) => `dir${i}/`).sort((a, b) => (a < b ? -1 : 1)),
    )
    expect(result.objects).toEqual([])
    expect(reads).toBe(20)
    expect(seeks).toBe(21)
  })

  it('pages a delimited listing inside a prefix at the cost of the page', async () => {
    const { result, reads, seeks } = await measured(index, () =>
      index.list('big', { prefix: 'dir3/', delimiter: '/', maxKeys: 100 }),
    )
    expect(result.objects).toHaveLength(100)
    expect(reads).toBe(101)
    expect(seeks).toBe(1)
  })

  it('reads a few version records to list a few versions', async () => {
    const { reads } = await measured(index, async () => {
      const seen = []
      for await (const v of index.listVersions('big', { prefix: 'dir5/' })) {
        seen.push(v)
        if (seen.length === 3) break
      }
      return seen
    })
    expect(reads).toBeLessThanOrEqual(128)
  })
})

/** A small seeded generator, so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ALPHABET = ['a', 'b', '/', '-', ' ', 'é', '\uff5e', '\ue000', '\u{1f600}', '&', 'Z']

describe('LmdbObjectIndex against MemoryObjectIndex', () => {
  it('gives the same listings and version listings for random records and random requests', async () => {
    const next = random(20250101)
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!
    const word = (max: number) =>
      Array.from({ length: 1 + Math.floor(next() * max) }, () => pick(ALPHABET)).join('')

    const memory = new MemoryObjectIndex()
    const { index: lmdb, dispose } = await openTemporary()
    try {
      for (const index of [memory, lmdb]) await index.createBucket('bkt1', { group: G1 })
      const keys = Array.from({ length: 150 }, () => word(4))
      const records = Array.from({ length: 400 }, (_, i) => {
        const id = vid(Math.floor(next() * 50), pick(['n', 'n1', 'node-b']), i % 3)
        return next() < 0.25 ? marker('bkt1', pick(keys), id) : content('bkt1', pick(keys), id)
      })
      for (const record of records) {
        const results = await Promise.allSettled([memory.putVersion(record), lmdb.putVersion(record)])
        expect(results[1]).toEqual(results[0])
      }

      // Positions a client may send: keys, prefixes of keys, strings no key can be.
      const position = () =>
        pick([word(3), pick(keys), `${pick(keys)}\u0000${word(2)}`, `${pick(keys)}${'a'.repeat(5000)}`, ''])
      const ids = records.map((r) => r.versionId)
      const versionIdMarker = (id: string) =>
        pick([id, `${id}\u0000x`, `${id}${'~'.repeat(5000)}`, `${id.slice(0, -1)}`, vid(25, 'n'), 'zz'])
      for (let round = 0; round < 300; round++) {
        const options: ListOptions = {}
        if (next() < 0.5) options.prefix = pick([word(2), '', 'a', 'a\u0000', 'x'.repeat(5000)])
        if (next() < 0.5) options.delimiter = pick(['/', '-', 'é', ' a'])
        if (next() < 0.3) options.startAfter = position()
        options.maxKeys = pick([1, 2, 7, 1000])
        await expectSamePages(memory, lmdb, options)

        // Half the time the markers name a record that is there (or just beside it).
        const at = pick(records)
        const versionOptions = {
          ...(next() < 0.3 ? { prefix: pick([word(2), Array.from(at.key)[0]!]) } : {}),
          ...(next() < 0.2 ? { key: pick([pick(keys), at.key]) } : {}),
          ...(next() < 0.5
            ? { keyMarker: at.key, versionIdMarker: versionIdMarker(at.versionId) }
            : {
                ...(next() < 0.6 ? { keyMarker: position() } : {}),
                ...(next() < 0.5 ? { versionIdMarker: versionIdMarker(pick(ids)) } : {}),
              }),
        }
        expect(await collectVersions(lmdb.listVersions('bkt1', versionOptions))).toEqual(
          await collectVersions(memory.listVersions('bkt1', versionOptions)),
        )
      }
    } finally {
      await dispose()
    }
  }, 60_000)
})

async function expectSamePages(
  expected: ObjectIndex,
  actual: ObjectIndex,
  options: ListOptions,
): Promise<void> {
  let token: string | undefined
  for (let pages = 0; pages < 500; pages++) {
    const request = { ...options, ...(token === undefined ? {} : { continuationToken: token }) }
    const want = await expected.list('bkt1', request)
    expect(await actual.list('bkt1', request)).toEqual(want)
    token = want.nextContinuationToken
    if (token === undefined) return
  }
  throw new Error('listing does not end')
}
