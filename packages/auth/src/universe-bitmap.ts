import type { RoaringBitmap32 as NativeBitmap } from 'roaring'
import roaring from 'roaring'

/**
 * The one module that knows which roaring implementation holds the ordinal sets: the native `roaring`
 * (CRoaring through N-API). The design card named `roaring-wasm`; `bench/roaring-choice.bench.ts` measures
 * both in one run. Computing a universe (union of allowed prefixes minus denied ones over 1 M ordinals) is
 * about 3.4× faster native; single `has` probes and building from arrays are faster in wasm (no N-API call
 * per value), but a query computes one universe and probes only its few hundred hits, so native wins the
 * per-query cost, and its memory needs no `dispose()`. Swapping implementations means changing this file.
 *
 * Ordinals are node-local uint32 numbers: a bitmap means nothing on another node, and when one is
 * serialised it is in the portable roaring format only.
 */

const { RoaringBitmap32 } = roaring

/** A mutable set of ordinals (inside the universe modules only). */
export type Bitmap = NativeBitmap

/** A read-only set of node-local ordinals: what the universe API hands out. */
export interface OrdinalSet extends Iterable<number> {
  readonly size: number
  has(ordinal: number): boolean
  /**
   * The ordinals, ascending. With `output` (at least `size` long) they are written into it and the
   * filled part is returned, so a caller can reuse one buffer instead of allocating one each time.
   */
  toUint32Array(output?: Uint32Array): Uint32Array
}

export function emptyBitmap(): Bitmap {
  return new RoaringBitmap32()
}

/** A new bitmap holding the union of `bitmaps` and `loose` ordinals. */
export function unionOf(bitmaps: readonly Bitmap[], loose: readonly number[] = []): Bitmap {
  const union = bitmaps.length === 0 ? new RoaringBitmap32() : RoaringBitmap32.orMany(bitmaps as Bitmap[])
  if (loose.length > 0) union.addMany(loose)
  return union
}

/** A new bitmap: `a` ∩ `b`. */
export function intersectionOf(a: Bitmap, b: Bitmap): Bitmap {
  return RoaringBitmap32.and(a, b)
}

/** The ordinals of `set` in the portable roaring format (readable by any roaring implementation). */
export function serializeOrdinalSet(set: OrdinalSet): Uint8Array {
  const bitmap = set instanceof RoaringBitmap32 ? set : new RoaringBitmap32(set.toUint32Array())
  return new Uint8Array(bitmap.serialize('portable'))
}

/** Reads a set written by `serializeOrdinalSet`. */
export function deserializeOrdinalSet(bytes: Uint8Array): OrdinalSet {
  return RoaringBitmap32.deserialize(bytes, 'portable')
}
