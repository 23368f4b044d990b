import { rm, writeFile } from 'node:fs/promises'
import type { FsBlobStore } from '../src/index.js'

/** Damages a chunk on disk the way bit rot or a stray writer would: same path, other bytes. */
export async function overwriteChunkFile(store: FsBlobStore, cid: string, bytes: Uint8Array): Promise<void> {
  const path = store.chunkPath(cid)
  await rm(path)
  await writeFile(path, bytes)
}
