import { describe, expect, it } from 'vitest'
import type { OrdinalSet, Permission, Role } from '../src/index.js'
import {
  computeUniverse,
  defineRole,
  deserializeOrdinalSet,
  MemoryRoleSource,
  PathPattern,
  PermissionEvaluator,
  SearchUniverses,
  serializeOrdinalSet,
  UniverseIndex,
  visibleOrdinals,
} from '../src/index.js'
import { expectThrowsCode } from './sigv4-fixtures.js'

function role(group: string | undefined, rules: [string, Permission][]): Role {
  return defineRole({
    name: group ?? 'realm',
    scope: group === undefined ? { realm: 'r' } : { realm: 'r', group },
    rules: rules.map(([pattern, permission]) => ({ pattern, permission })),
  })
}

function sorted(set: OrdinalSet): number[] {
  return [...set.toUint32Array()]
}

/** 1 → /r/g/g1/data/raw/a.csv, … : a small node index. */
const RESOURCES: [number, string][] = [
  [1, '/r/g/g1/data/raw/a.csv'],
  [2, '/r/g/g1/data/raw/b.txt'],
  [3, '/r/g/g1/data/raw/private/secret.csv'],
  [4, '/r/g/g1/data/clean/a.csv'],
  [5, '/r/g/g1/meta/crate-1'],
  [6, '/r/g/g2/data/raw/a.csv'],
  [7, '/r/g/g2/meta/crate-2'],
  [8, '/r/admin/config'],
  [9, '/r/g/g1/data/raw/deep/er/c.csv'],
  [10, '/r/g/g1/data/raw/dir/'],
]

function index(options: ConstructorParameters<typeof UniverseIndex>[0] = {}): UniverseIndex {
  const idx = new UniverseIndex(options)
  for (const [ordinal, path] of RESOURCES) idx.add(ordinal, path)
  return idx
}

for (const materialiseAt of [1, 64]) {
  describe(`UniverseIndex (subtrees materialised from ${materialiseAt} resources)`, () => {
    it('maps ordinals to paths and back, and forgets removed ones', () => {
      const idx = index({ materialiseAt })
      expect(idx.size).toBe(RESOURCES.length)
      expect(idx.pathOf(3)).toBe('/r/g/g1/data/raw/private/secret.csv')
      expect(idx.pathOf(10)).toBe('/r/g/g1/data/raw/dir/')
      expect(idx.remove(3)).toBe(true)
      expect(idx.remove(3)).toBe(false)
      expect(idx.has(3)).toBe(false)
      expect(idx.pathOf(3)).toBeUndefined()
      expect(sorted(idx.prefixBitmap(['r', 'g', 'g1', 'data', 'raw']))).toEqual([1, 2, 9, 10])
    })

    it('keeps a bitmap per prefix', () => {
      const idx = index({ materialiseAt })
      expect(sorted(idx.prefixBitmap([]))).toEqual(RESOURCES.map(([o]) => o).sort((a, b) => a - b))
      expect(sorted(idx.prefixBitmap(['r', 'g', 'g1']))).toEqual([1, 2, 3, 4, 5, 9, 10])
      expect(sorted(idx.prefixBitmap(['r', 'g', 'g1', 'data', 'raw', 'private']))).toEqual([3])
      expect(sorted(idx.prefixBitmap(['r', 'g', 'g3']))).toEqual([])
      idx.add(11, '/r/g/g1/data/raw/new.csv')
      expect(sorted(idx.prefixBitmap(['r', 'g', 'g1', 'data']))).toEqual([1, 2, 3, 4, 9, 10, 11])
    })

    it('matches patterns: literals, *, ** at the end and in the middle, globs within a segment', () => {
      const idx = index({ materialiseAt })
      const m = (p: string) => sorted(idx.matching(p))
      expect(m('/r/g/g1/data/raw/a.csv')).toEqual([1])
      expect(m('/r/g/*/data/raw/a.csv')).toEqual([1, 6])
      expect(m('/r/g/g1/data/*/*.csv')).toEqual([1, 4])
      expect(m('/r/g/g1/data/**')).toEqual([1, 2, 3, 4, 9, 10])
      expect(m('/r/**/*.csv')).toEqual([1, 3, 4, 6, 9])
      expect(m('/r/g/g1/**/private/**')).toEqual([3])
      expect(m('/r/**/a*')).toEqual([1, 4, 6])
      // dir/ is two segments, 'dir' and '': one `*` does not reach it.
      expect(m('/r/g/g1/data/raw/*')).toEqual([1, 2])
      expect(m('/r/g/g1/data/raw/dir/*')).toEqual([10])
      expect(m('/r/g/g1/data/raw/dir/**')).toEqual([10])
      expect(m('/r/**')).toEqual(sorted(idx.prefixBitmap([])))
      expect(m('/r/*')).toEqual([])
      expect(m('/x/**')).toEqual([])
    })

    it('keeps cached pattern bitmaps up to date as resources come and go', () => {
      const idx = index({ materialiseAt })
      const csv = PathPattern.parse('/r/g/*/data/**/*.csv')
      expect(sorted(idx.patternBitmap(csv))).toEqual([1, 3, 4, 6, 9])
      idx.add(20, '/r/g/g2/data/x/y.csv')
      idx.add(21, '/r/g/g2/data/x/y.txt')
      idx.remove(1)
      expect(sorted(idx.patternBitmap(csv))).toEqual([3, 4, 6, 9, 20])
    })

    it('gives the same answers after materialising every large subtree up front', () => {
      const idx = index({ materialiseAt })
      idx.materialise()
      idx.add(12, '/r/g/g1/data/raw/late.csv')
      idx.remove(2)
      expect(sorted(idx.prefixBitmap(['r', 'g', 'g1', 'data', 'raw']))).toEqual([1, 3, 9, 10, 12])
      expect(sorted(idx.matching('/r/g/g1/**/*.csv'))).toEqual([1, 3, 4, 9, 12])
    })

    it('re-indexes an ordinal given another path', () => {
      const idx = index({ materialiseAt })
      idx.add(1, '/r/g/g2/meta/moved')
      expect(idx.pathOf(1)).toBe('/r/g/g2/meta/moved')
      expect(sorted(idx.prefixBitmap(['r', 'g', 'g1', 'data', 'raw']))).toEqual([2, 3, 9, 10])
      expect(sorted(idx.matching('/r/g/g2/meta/*'))).toEqual([1, 7])
    })
  })
}

describe('UniverseIndex pattern bitmaps', () => {
  it('keeps at most `patternCapacity` of them (none with 0) and answers the same either way', () => {
    for (const patternCapacity of [0, 1, 2, 100]) {
      const idx = index({ patternCapacity })
      const patterns = ['/r/g/g1/**', '/r/g/*/meta/*', '/r/**/a.csv'].map((p) => PathPattern.parse(p))
      for (let round = 0; round < 2; round++) {
        expect(sorted(idx.patternBitmap(patterns[0]!))).toEqual([1, 2, 3, 4, 5, 9, 10])
        expect(sorted(idx.patternBitmap(patterns[1]!))).toEqual(round === 0 ? [5, 7] : [5, 7, 50])
        expect(sorted(idx.patternBitmap(patterns[2]!))).toEqual([1, 4, 6])
        idx.add(50 + round, `/r/g/g2/meta/new-${round}`)
      }
      expect(sorted(idx.patternBitmap(patterns[1]!))).toEqual([5, 7, 50, 51])
    }
  })
})

describe('UniverseIndex input checks', () => {
  it('refuses ordinals that are not uint32 and paths that are not resource paths', () => {
    const idx = new UniverseIndex()
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN])
      expectThrowsCode(() => idx.add(bad, '/r/x'), 'InvalidArgument')
    expectThrowsCode(() => idx.add(1, 'r/x'), 'InvalidPath')
    expectThrowsCode(() => idx.add(1, '/r/../x'), 'InvalidPath')
    idx.add(2 ** 32 - 1, '/r/x')
    expect(idx.pathOf(2 ** 32 - 1)).toBe('/r/x')
  })
})

describe('computeUniverse', () => {
  const EDITORS = role('g1', [
    ['/r/g/g1/data/**', 'WRITE'],
    ['/r/g/g1/data/raw/private/**', 'DENY'],
  ])

  it('allows what the roles grant, less what a DENY matches even under an allow', () => {
    const universe = computeUniverse(index(), new PermissionEvaluator([EDITORS]))
    expect(sorted(universe)).toEqual([1, 2, 4, 9, 10])
  })

  it('agrees with the evaluator on every indexed resource', () => {
    const idx = index()
    const evaluator = new PermissionEvaluator([
      EDITORS,
      role('g2', [['/r/g/g2/*/raw/*.csv', 'READ']]),
      role(undefined, [['/r/admin/**', 'READ']]),
    ])
    const universe = computeUniverse(idx, evaluator)
    for (const [ordinal, path] of RESOURCES) {
      expect(universe.has(ordinal), path).toBe(evaluator.evaluate('READ', path).allowed)
    }
  })

  it('narrows by token restrictions ([] allows nothing but the public resources)', () => {
    const idx = index()
    const restricted = new PermissionEvaluator([EDITORS], {
      restrictions: [
        { pattern: '/r/g/g1/data/raw/**', permission: 'READ' },
        { pattern: '/r/g/g1/data/raw/*.txt', permission: 'DENY' },
      ],
    })
    expect(sorted(computeUniverse(idx, restricted))).toEqual([1, 9, 10])
    idx.setPublic(7, true)
    expect(sorted(computeUniverse(idx, new PermissionEvaluator([EDITORS], { restrictions: [] })))).toEqual([
      7,
    ])
  })

  it('adds the public resources to everyone’s universe, even a caller without roles', () => {
    const idx = index()
    idx.setPublic(3, true)
    idx.setPublic(7, true)
    expect(sorted(computeUniverse(idx, new PermissionEvaluator([])))).toEqual([3, 7])
    expect(sorted(computeUniverse(idx, new PermissionEvaluator([EDITORS])))).toEqual([1, 2, 3, 4, 7, 9, 10])
    expect(sorted(idx.publicOrdinals)).toEqual([3, 7])
  })

  it('keeps a role read back from storage inside its group, and lets unreadable DENYs deny its scope', () => {
    const idx = index()
    const tooWide: Role = {
      name: 'x',
      scope: { realm: 'r', group: 'g1' },
      rules: [{ pattern: '/r/**', permission: 'READ' }],
    }
    expect(sorted(computeUniverse(idx, new PermissionEvaluator([tooWide])))).toEqual([])
    const wideDeny: Role = {
      name: 'y',
      scope: { realm: 'r', group: 'g2' },
      rules: [{ pattern: '/r/g/*/data/raw/a.csv', permission: 'DENY' }],
    }
    const readAll = role(undefined, [['/r/**', 'READ']])
    // The g2 role's DENY applies inside g2 only: g1's a.csv stays visible.
    expect(sorted(computeUniverse(idx, new PermissionEvaluator([readAll, wideDeny])))).toEqual([
      1, 2, 3, 4, 5, 7, 8, 9, 10,
    ])
    const broken: Role = {
      name: 'z',
      scope: { realm: 'r', group: 'g1' },
      rules: [{ pattern: 'not a pattern', permission: 'DENY' }],
    }
    expect(sorted(computeUniverse(idx, new PermissionEvaluator([readAll, broken])))).toEqual([6, 7, 8])
  })

  it('makes unauthorized resources invisible in search hits, order kept', () => {
    const universe = computeUniverse(index(), new PermissionEvaluator([EDITORS]))
    expect(visibleOrdinals(universe, [9, 3, 1, 42, 6, 2])).toEqual([9, 1, 2])
  })

  it('serialises a universe in the portable format', () => {
    const universe = computeUniverse(index(), new PermissionEvaluator([EDITORS]))
    const bytes = serializeOrdinalSet(universe)
    expect(sorted(deserializeOrdinalSet(bytes))).toEqual(sorted(universe))
    const plain: OrdinalSet = {
      size: 2,
      has: () => true,
      toUint32Array: () => Uint32Array.of(4, 5),
      [Symbol.iterator]: () => [4, 5][Symbol.iterator](),
    }
    expect(sorted(deserializeOrdinalSet(serializeOrdinalSet(plain)))).toEqual([4, 5])
  })
})

describe('SearchUniverses', () => {
  const READER = role('g1', [
    ['/r/g/g1/**', 'READ'],
    ['/r/g/g1/data/raw/private/**', 'DENY'],
  ])

  function setup() {
    const idx = index()
    const roles = new MemoryRoleSource().set('alice', [READER])
    const universes = new SearchUniverses({ index: idx, roles })
    return { idx, roles, universes }
  }

  it('computes a universe once and hands it out again', async () => {
    const { universes } = setup()
    const first = await universes.universeFor({ userId: 'alice' })
    expect(sorted(first)).toEqual([1, 2, 4, 5, 9, 10])
    expect(await universes.universeFor({ userId: 'alice' })).toBe(first)
    expect(sorted(await universes.universeFor({ userId: 'nobody' }))).toEqual([])
    expect(universes.size).toBe(2)
  })

  it('follows added and removed resources, keeping the denied ones invisible', async () => {
    const { idx, universes } = setup()
    const universe = await universes.universeFor({ userId: 'alice' })
    idx.add(30, '/r/g/g1/data/raw/fresh.csv')
    idx.add(31, '/r/g/g1/data/raw/private/new-secret.csv')
    idx.add(32, '/r/g/g2/data/raw/other.csv')
    idx.remove(2)
    expect(sorted(universe)).toEqual([1, 4, 5, 9, 10, 30])
    expect(universe.has(31)).toBe(false)
  })

  it('follows resources made public and private again', async () => {
    const { idx, universes } = setup()
    const universe = await universes.universeFor({ userId: 'alice' })
    idx.setPublic(7, true)
    idx.setPublic(3, true)
    idx.add(33, '/r/g/g2/meta/public-crate', { public: true })
    expect(sorted(universe)).toEqual([1, 2, 3, 4, 5, 7, 9, 10, 33])
    idx.setPublic(7, false)
    idx.setPublic(1, false) // was not public: nothing changes
    idx.setPublic(3, false)
    idx.setPublic(99, true) // not indexed
    expect(sorted(universe)).toEqual([1, 2, 4, 5, 9, 10, 33])
  })

  it('notices a role change on the next request', async () => {
    const { roles, universes } = setup()
    expect(sorted(await universes.universeFor({ userId: 'alice' }))).toEqual([1, 2, 4, 5, 9, 10])
    roles.set('alice', [role('g2', [['/r/g/g2/**', 'READ']])])
    expect(sorted(await universes.universeFor({ userId: 'alice' }))).toEqual([6, 7])
    roles.set('alice', [])
    expect(sorted(await universes.universeFor({ userId: 'alice' }))).toEqual([])
  })

  it('keeps one universe per set of token restrictions', async () => {
    const { universes } = setup()
    const narrow = await universes.universeFor({
      userId: 'alice',
      restrictions: [{ pattern: '/r/g/g1/meta/**', permission: 'READ' }],
    })
    const full = await universes.universeFor({ userId: 'alice' })
    expect(sorted(narrow)).toEqual([5])
    expect(sorted(full)).toEqual([1, 2, 4, 5, 9, 10])
    universes.invalidate('alice')
    expect(universes.size).toBe(0)
  })

  it('keeps at most `capacity` universes, least recently used out', async () => {
    const idx = index()
    const roles = new MemoryRoleSource()
    const universes = new SearchUniverses({ index: idx, roles, capacity: 2 })
    const a = await universes.universeFor({ userId: 'a' })
    await universes.universeFor({ userId: 'b' })
    expect(await universes.universeFor({ userId: 'a' })).toBe(a)
    await universes.universeFor({ userId: 'c' })
    expect(universes.size).toBe(2)
    expect(await universes.universeFor({ userId: 'a' })).toBe(a)
    universes.invalidate('zzz')
    expect(universes.size).toBe(2)
    universes.invalidate()
    expect(universes.size).toBe(0)
  })

  it('recomputes, rather than caches, the universe of roles it cannot fingerprint', async () => {
    const idx = index()
    const odd = { ...READER, note: 1n } as unknown as Role
    const universes = new SearchUniverses({ index: idx, roles: new MemoryRoleSource().set('alice', [odd]) })
    const first = await universes.universeFor({ userId: 'alice' })
    const second = await universes.universeFor({ userId: 'alice' })
    expect(second).not.toBe(first)
    expect(sorted(second)).toEqual(sorted(first))
  })

  it('stops following the index once closed', async () => {
    const { idx, universes } = setup()
    const universe = await universes.universeFor({ userId: 'alice' })
    universes.close()
    idx.add(40, '/r/g/g1/meta/late')
    expect(universe.has(40)).toBe(false)
  })
})
