/**
 * The canonical JSON of `LmdbObjectIndex`'s values must stay byte for byte what it was defined as
 * (stringify with a replacer rebuilding every object from its sorted entries): records are compared by
 * their bytes across nodes, old and new.
 */
import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../src/lmdb-values.js'

function reference(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner
    const entries = Object.entries(inner as Record<string, unknown>)
    return Object.fromEntries(entries.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
  })
}

/** A seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

const KEYS = [
  'a',
  'b',
  'Z',
  'é',
  '0',
  '1',
  '10',
  '2',
  '01',
  '4294967295',
  '4294967294',
  '-1',
  '1.5',
  '',
  ' ',
  'key',
  'ß',
  '😀',
  '__proto__x',
  'constructor',
]

function generate(next: () => number, depth: number): unknown {
  const pick = next()
  if (depth > 3 || pick < 0.35) {
    const leaf = Math.floor(next() * 9)
    return [null, true, false, 0, -0, 1.5e300, 'text "quoted"\n', '', undefined][leaf]
  }
  if (pick < 0.55) return Array.from({ length: Math.floor(next() * 4) }, () => generate(next, depth + 1))
  if (pick < 0.6) return new Date(Math.floor(next() * 2 ** 40))
  const out: Record<string, unknown> = {}
  const count = Math.floor(next() * 6)
  for (let i = 0; i < count; i++)
    out[KEYS[Math.floor(next() * KEYS.length)] as string] = generate(next, depth + 1)
  return out
}

describe('canonicalJson', () => {
  it('is byte for byte the replacer-sorted JSON on 5,000 generated values', () => {
    const next = random(18)
    for (let i = 0; i < 5000; i++) {
      const value = generate(next, 0)
      expect(canonicalJson(value), JSON.stringify(value)).toBe(reference(value))
    }
  })

  it('puts array-index keys first in numeric order and sorts the rest', () => {
    expect(canonicalJson({ b: 1, 10: 2, a: { z: 1, y: [3, undefined] }, 2: 3, '01': 4 })).toBe(
      '{"2":3,"10":2,"01":4,"a":{"y":[3,null],"z":1},"b":1}',
    )
  })
})
