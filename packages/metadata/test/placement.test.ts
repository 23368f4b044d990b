import { describe, expect, it } from 'vitest'
import { MetadataPlacement, rendezvousHolders } from '../src/index.js'
import { expectMetadataError } from '../src/testing/index.js'

const nodes = (count: number) => Array.from({ length: count }, (_, i) => ({ id: `node-${i}` }))
const keys = Array.from({ length: 2000 }, (_, i) => `doc-${i}`)

describe('rendezvousHolders', () => {
  it('gives factor distinct holders, the same for any order of the nodes', () => {
    const five = nodes(5)
    for (const key of keys.slice(0, 200)) {
      const holders = rendezvousHolders(key, five, 3)
      expect(new Set(holders).size).toBe(3)
      expect(rendezvousHolders(key, [...five].reverse(), 3)).toEqual(holders)
      expect(rendezvousHolders(key, five, 'all')).toHaveLength(5)
      expect(rendezvousHolders(key, five, 'all').slice(0, 3)).toEqual(holders)
    }
    expect(rendezvousHolders('x', nodes(2), 5)).toHaveLength(2)
    expect(rendezvousHolders('x', [{ id: 'a' }, { id: 'a' }], 2)).toEqual(['a'])
    expect(rendezvousHolders('x', [], 3)).toEqual([])
  })

  it('spreads documents evenly, and by weight', () => {
    const count = new Map<string, number>()
    for (const key of keys) {
      const [first] = rendezvousHolders(key, nodes(4), 1)
      count.set(first!, (count.get(first!) ?? 0) + 1)
    }
    for (const id of ['node-0', 'node-1', 'node-2', 'node-3']) {
      expect(count.get(id)).toBeGreaterThan(400) // 500 expected of 2000
      expect(count.get(id)).toBeLessThan(600)
    }
    let heavy = 0
    for (const key of keys) {
      if (rendezvousHolders(key, [{ id: 'light' }, { id: 'heavy', weight: 3 }], 1)[0] === 'heavy') heavy++
    }
    expect(heavy / keys.length).toBeGreaterThan(0.7) // 0.75 expected
    expect(heavy / keys.length).toBeLessThan(0.8)
  })

  it('moves only the documents a joining node takes', () => {
    const before = nodes(4)
    const after = [...before, { id: 'node-new' }]
    let moved = 0
    for (const key of keys) {
      const old = rendezvousHolders(key, before, 2)
      const next = rendezvousHolders(key, after, 2)
      const lost = old.filter((id) => !next.includes(id))
      // Whatever a node lost went to the newcomer, never to another old node.
      if (lost.length > 0) {
        moved++
        expect(next).toContain('node-new')
      }
    }
    expect(moved / keys.length).toBeGreaterThan(0.3) // 2/5 expected
    expect(moved / keys.length).toBeLessThan(0.5)
  })

  it('refuses factors and weights that make no sense', async () => {
    for (const factor of [0, -1, 1.5, Number.NaN, '2', null, 1001]) {
      await expectMetadataError(() => rendezvousHolders('x', nodes(3), factor as never), 'InvalidInput')
    }
    for (const weight of [0, -1, Number.POSITIVE_INFINITY, Number.NaN]) {
      await expectMetadataError(() => rendezvousHolders('x', [{ id: 'a', weight }], 1), 'InvalidInput')
    }
  })
})

describe('MetadataPlacement', () => {
  it('counts itself among the nodes, follows factorOf, and sees member changes after invalidate', () => {
    let live = [{ id: 'b' }, { id: 'c' }]
    const placement = new MetadataPlacement({
      self: 'a',
      nodes: () => live,
      factorOf: (doc) => (doc === 'catalog' ? 'all' : 2),
    })
    expect(placement.self).toBe('a')
    expect(placement.holders('catalog').sort()).toEqual(['a', 'b', 'c'])
    for (const key of keys.slice(0, 50)) {
      expect(placement.holders(key)).toEqual(rendezvousHolders(key, [{ id: 'a' }, ...live], 2))
    }
    expect(placement.isMember('b')).toBe(true)
    expect(placement.isMember('z')).toBe(false)
    live = [{ id: 'b' }]
    expect(placement.holders('catalog').sort()).toEqual(['a', 'b', 'c']) // cached
    placement.invalidate()
    expect(placement.holders('catalog').sort()).toEqual(['a', 'b'])
    expect(placement.holds('c', 'catalog')).toBe(false)
    expect(new MetadataPlacement({ self: 'a', nodes: () => [] }).holders('doc')).toEqual(['a'])
  })
})
