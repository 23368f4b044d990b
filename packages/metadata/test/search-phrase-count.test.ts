/** Counting a phrase in a document's words: the two-word fast path counts as the general one does. */
import { describe, expect, it } from 'vitest'
import { occurrences } from '../src/search/compact-document.js'

/** The plain definition: every start position where all of `sequence` follows, inside [start, end). */
function reference(words: Uint32Array, start: number, end: number, sequence: number[]): number {
  let count = 0
  for (let at = start; at + sequence.length <= end; at += 1)
    if (sequence.every((word, offset) => words[at + offset] === word)) count += 1
  return count
}

describe('occurrences', () => {
  it('counts overlapping and repeated-word phrases, and only inside the range', () => {
    const words = Uint32Array.of(3, 3, 3, 0, 1, 2, 1, 2, 2, 1)
    expect(occurrences(words, 0, 10, [3, 3])).toBe(2)
    expect(occurrences(words, 0, 10, [1, 2])).toBe(2)
    expect(occurrences(words, 5, 10, [1, 2])).toBe(1)
    expect(occurrences(words, 0, 7, [1, 2])).toBe(1)
    expect(occurrences(words, 4, 4, [1, 2])).toBe(0)
    expect(occurrences(words, 9, 10, [1, 2])).toBe(0)
    expect(occurrences(words, 0, 10, [1, 2, 1])).toBe(1)
  })

  it('agrees with the plain definition on random words, for one to three words', () => {
    let seed = 7
    const random = (below: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed % below
    }
    for (let round = 0; round < 500; round += 1) {
      const words = Uint32Array.from({ length: 1 + random(40) }, () => random(4))
      const start = random(words.length)
      const end = start + random(words.length - start + 1)
      const sequence = Array.from({ length: 1 + random(3) }, () => 1 + random(3))
      expect(occurrences(words, start, end, sequence)).toBe(reference(words, start, end, sequence))
    }
  })
})
