import { createHash } from 'node:crypto'
import { MemoryMultipartStore } from '../src/engine/memory-multipart-store.js'
import { ObjectEngine } from '../src/engine/object-engine.js'
import type { MultipartStore } from '../src/engine/port.js'
import { HybridLogicalClock } from '../src/hlc.js'
import { MemoryObjectIndex } from '../src/memory-object-index.js'
import type { BlobStore, ObjectIndex } from '../src/port.js'

/** What the garbage collection tests share: an engine with tiny chunks, chunk contents, gates. */

export const CHUNK = 16

export function engineOver<I extends ObjectIndex = MemoryObjectIndex>(
  blobs: BlobStore,
  uploads: MultipartStore = new MemoryMultipartStore(),
  index: I = new MemoryObjectIndex() as unknown as I,
) {
  const engine = new ObjectEngine({
    index,
    blobs,
    uploads,
    clock: new HybridLogicalClock('node-a'),
    chunkSize: CHUNK,
    minPartSize: CHUNK,
  })
  return { engine, index, uploads }
}

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

export /** Bytes of one chunk, different for every `i`. */
function distinct(i: number): Buffer {
  return createHash('sha256').update(`chunk ${i}`).digest().subarray(0, CHUNK)
}

export async function* body(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}
