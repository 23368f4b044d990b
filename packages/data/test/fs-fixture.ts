import { existsSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { open, type RootDatabase } from 'lmdb'
import type { FsBlobStore } from '../src/index.js'

/**
 * The small-chunk database of a store's directory, opened a second time as a stray writer would (lmdb-js
 * shares the environment within a process). Kept open: closing it would close the store's too.
 */
const smallDatabases = new Map<string, RootDatabase<Buffer, string>>()
export function smallChunkDatabase(store: FsBlobStore): RootDatabase<Buffer, string> {
  let db = smallDatabases.get(store.directory)
  if (db === undefined) {
    db = open<Buffer, string>({ path: join(store.directory, 'small'), noSubdir: false, encoding: 'binary' })
    smallDatabases.set(store.directory, db)
  }
  return db
}

/**
 * Damages a stored chunk the way bit rot or a stray writer would: same place, other bytes. A chunk in
 * a file is rewritten; a small chunk's value in the small-chunk database is replaced.
 */
export async function overwriteChunkFile(store: FsBlobStore, cid: string, bytes: Uint8Array): Promise<void> {
  const path = store.chunkPath(cid)
  if (existsSync(path)) {
    await rm(path)
    await writeFile(path, bytes)
    return
  }
  const db = smallChunkDatabase(store)
  if (db.getBinary(cid) === undefined) throw new Error(`no chunk ${cid} in ${store.directory}`)
  db.putSync(cid, Buffer.from(bytes))
}
