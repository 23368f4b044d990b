import { describe, expect, it } from 'vitest'
import { compareKeys, type KeyScan, listPage } from '../src/index.js'
import {
  listVisible,
  positionOfToken,
  type ScanStart,
  sealPosition,
  startOf,
  tokenOf,
  unsealPosition,
  VISIBILITY_BUDGET,
} from '../src/listing.js'
import type { ListOptions, ListResult } from '../src/port.js'

/** An unfiltered ListObjectsV2 over a sorted key space, counting entries read and authorizations. */
function keySpace(keys: string[], hidden: (key: string) => boolean) {
  const sorted = [...keys].sort(compareKeys)
  const counts = { reads: 0, checks: 0, lists: 0 }
  const scan: KeyScan<number> = function* (start) {
    let i = sorted.findIndex((k) => {
      const order = compareKeys(k, start.key)
      return order > 0 || (order === 0 && start.inclusive)
    })
    if (i === -1) return
    for (; i < sorted.length; i++) {
      counts.reads++
      yield [sorted[i]!, i] as const
    }
  }
  const list = async (options: ListOptions): Promise<ListResult> => {
    counts.lists++
    const page = listPage(scan, options)
    const objects = page.entries.map(([key]) => ({
      key,
      versionId: 'v',
      size: 1,
      etag: '"e"',
      lastModified: '',
    }))
    return {
      objects,
      commonPrefixes: page.commonPrefixes,
      keyCount: objects.length + page.commonPrefixes.length,
      isTruncated: page.isTruncated,
      ...(page.nextContinuationToken !== undefined
        ? { nextContinuationToken: page.nextContinuationToken }
        : {}),
    }
  }
  const visible = async (key: string): Promise<boolean> => {
    counts.checks++
    return !hidden(key)
  }
  return { list, visible, counts }
}

const privateKey = (key: string): boolean => key.startsWith('private/')

/** Every name of every page from the start, following tokens (sealed or not). */
async function collect(
  space: ReturnType<typeof keySpace>,
  options: { prefix?: string; delimiter?: string; maxKeys: number; budget?: number },
): Promise<{ names: string[]; pages: number; tokens: string[] }> {
  const names: string[] = []
  const tokens: string[] = []
  let start: ScanStart = { key: options.prefix ?? '', inclusive: true }
  for (let pages = 1; pages < 10_000; pages++) {
    const page = await listVisible(space.list, space.visible, {
      prefix: options.prefix ?? '',
      delimiter: options.delimiter ?? '',
      maxKeys: options.maxKeys,
      start,
      ...(options.budget !== undefined ? { budget: options.budget } : {}),
    })
    names.push(...page.objects.map((o) => o.key), ...page.commonPrefixes)
    if (page.next === undefined) return { names: names.sort(compareKeys), pages, tokens }
    const token = tokenOf(page.next)
    tokens.push(token)
    start = positionOfToken(token)
  }
  throw new Error('no progress')
}

const KEYS = [
  'a',
  ...Array.from({ length: 300 }, (_, i) => `private/${String(i).padStart(4, '0')}`),
  'privatex',
  'q/1',
  'q/private/2',
  'z',
]

describe('listVisible', () => {
  it.each([1, 2, 1000])('shows only visible keys and prefixes across pages of %i', async (maxKeys) => {
    for (const delimiter of ['', '/']) {
      const space = keySpace(KEYS, privateKey)
      const { names, tokens } = await collect(space, { maxKeys, delimiter })
      expect(names).toEqual(
        delimiter === '' ? ['a', 'privatex', 'q/1', 'q/private/2', 'z'] : ['a', 'privatex', 'q/', 'z'],
      )
      for (const token of tokens)
        expect(Buffer.from(token, 'base64url').toString()).not.toMatch(/^[fa]private\//)
    }
  })

  it('fills a page with visible keys and is not truncated when only hidden keys follow', async () => {
    const space = keySpace(['a', 'b', ...KEYS.filter(privateKey)], privateKey)
    const page = await listVisible(space.list, space.visible, {
      prefix: '',
      delimiter: '',
      maxKeys: 2,
      start: { key: '', inclusive: true },
    })
    expect(page.objects.map((o) => o.key)).toEqual(['a', 'b'])
    expect(page.isTruncated).toBe(false)
  })

  it('bounds the keys examined per page, and resumes with a sealed token among hidden keys', async () => {
    const space = keySpace(KEYS, privateKey)
    const first = await listVisible(space.list, space.visible, {
      prefix: '',
      delimiter: '',
      maxKeys: 1000,
      start: { key: 'a', inclusive: false },
      budget: 50,
    })
    expect(first.objects).toEqual([])
    expect(first.examined).toBe(50)
    expect(space.counts.checks).toBe(50)
    expect(first.isTruncated).toBe(true)
    expect(first.next?.hidden).toBe(true)
    const token = tokenOf(first.next!)
    expect(token.startsWith('s.')).toBe(true)
    expect(Buffer.from(token.slice(2), 'base64url').toString('latin1')).not.toContain('private')
    expect(unsealPosition(token)).toEqual({ key: 'private/0049', inclusive: false })
    // Every visible key is reached, budget after budget, the hidden ones never shown.
    for (const delimiter of ['', '/']) {
      const all = await collect(keySpace(KEYS, privateKey), { maxKeys: 2, delimiter, budget: 7 })
      expect(all.names).toEqual(
        delimiter === '' ? ['a', 'privatex', 'q/1', 'q/private/2', 'z'] : ['a', 'privatex', 'q/', 'z'],
      )
      expect(all.pages).toBeGreaterThan(300 / 7)
    }
  })

  it('costs about the page for a caller who may read everything', async () => {
    const space = keySpace(
      Array.from({ length: 5000 }, (_, i) => `k${String(i).padStart(5, '0')}`),
      () => false,
    )
    const page = await listVisible(space.list, space.visible, {
      prefix: '',
      delimiter: '',
      maxKeys: 10,
      start: { key: '', inclusive: true },
    })
    expect(page.objects).toHaveLength(10)
    expect(page.next).toEqual({ key: 'k00009', inclusive: false, hidden: false })
    expect(space.counts.checks).toBe(11)
    expect(space.counts.lists).toBe(1)
    expect(space.counts.reads).toBeLessThanOrEqual(1001)
    expect(VISIBILITY_BUDGET).toBe(10_000)
  })

  it('answers an empty page for max-keys 0, and rejects sealed positions of another key or forged', () => {
    expect(unsealPosition('s.AAAA')).toBeUndefined()
    expect(unsealPosition('plain')).toBeUndefined()
    const sealed = sealPosition({ key: 'private/x', inclusive: true })
    const forged = `${sealed.slice(0, -2)}${sealed.endsWith('AA') ? 'BB' : 'AA'}`
    expect(unsealPosition(forged)).toBeUndefined()
    expect(() => positionOfToken(forged)).toThrow()
    expect(startOf({ continuationToken: sealed })).toEqual({ key: 'private/x', inclusive: true })
    expect(startOf({ prefix: 'p', startAfter: 'a' })).toEqual({ key: 'p', inclusive: true })
  })

  it('answers nothing for max-keys 0', async () => {
    const space = keySpace(KEYS, privateKey)
    const page = await listVisible(space.list, space.visible, {
      prefix: '',
      delimiter: '',
      maxKeys: 0,
      start: { key: '', inclusive: true },
    })
    expect(page).toMatchObject({ objects: [], commonPrefixes: [], isTruncated: false })
    expect(space.counts.lists).toBe(0)
  })

  it('with directory answers: one question and no per-key check for a caller who may read everything', async () => {
    const space = keySpace(KEYS, () => false)
    const asked: string[] = []
    const directory = async (d: string) => {
      asked.push(d)
      return 'all' as const
    }
    const { names } = await collect(space, { maxKeys: 1000 })
    expect(names).toHaveLength(KEYS.length)
    const checks = space.counts.checks
    const page = await listVisible(space.list, space.visible, {
      prefix: '',
      delimiter: '/',
      maxKeys: 2,
      start: { key: '', inclusive: true },
      directory,
    })
    expect(page.commonPrefixes.length + page.objects.length).toBe(2)
    expect(space.counts.checks).toBe(checks)
    expect(asked).toEqual([''])
    expect(page.examined).toBe(1)
  })

  it('with directory answers: jumps over a directory denied as a whole with one seek', async () => {
    for (const delimiter of ['', '/']) {
      const space = keySpace(KEYS, privateKey)
      const asked: string[] = []
      const directory = async (d: string) => {
        asked.push(d)
        return d === 'private/' ? ('none' as const) : ('some' as const)
      }
      const page = await listVisible(space.list, space.visible, {
        prefix: '',
        delimiter,
        maxKeys: 1000,
        start: { key: '', inclusive: true },
        directory,
      })
      expect([...page.objects.map((o) => o.key), ...page.commonPrefixes].sort(compareKeys)).toEqual(
        delimiter === '' ? ['a', 'privatex', 'q/1', 'q/private/2', 'z'] : ['a', 'privatex', 'q/', 'z'],
      )
      expect(page.isTruncated).toBe(false)
      // One hidden key examined, not 300.
      expect(space.counts.checks).toBeLessThan(10)
      expect(asked).toContain('private/')
    }
    // A listing inside a directory denied as a whole is empty at once.
    const space = keySpace(KEYS, privateKey)
    const page = await listVisible(space.list, space.visible, {
      prefix: 'private/00',
      delimiter: '',
      maxKeys: 10,
      start: { key: 'private/00', inclusive: true },
      directory: async (d) => (d === 'private/' ? 'none' : 'some'),
    })
    expect(page).toMatchObject({ objects: [], isTruncated: false, examined: 1 })
    expect(space.counts.lists).toBe(0)
  })

  it('with directory answers: a hidden directory at the end of the key space ends the listing', async () => {
    const space = keySpace(['a', 'zz/1', 'zz/2', '\u{10FFFF}/x', '\u{10FFFF}/y'], (k) =>
      k.startsWith('\u{10FFFF}'),
    )
    for (const delimiter of ['', '/']) {
      const page = await listVisible(space.list, space.visible, {
        prefix: '',
        delimiter,
        maxKeys: 1000,
        start: { key: '', inclusive: true },
        directory: async (d) => (d === '\u{10FFFF}/' ? 'none' : 'some'),
      })
      expect([...page.objects.map((o) => o.key), ...page.commonPrefixes].length).toBe(
        delimiter === '' ? 3 : 2,
      )
      expect(page.isTruncated).toBe(false)
    }
  })
})
