import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LmdbObjectIndex, type ObjectIndex, type ObjectVersion } from '../src/index.js'
import { content, vid } from '../src/testing/records.js'

/** A fresh temp directory for an index; remove it with `removeDirectory`. */
export function tempDirectory(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'aruna-lmdb-'))
}

export async function removeDirectory(directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true })
}

/** An index in its own temp directory, and a way to close it and remove the directory. */
export async function openTemporary(): Promise<{ index: LmdbObjectIndex; dispose: () => Promise<void> }> {
  const directory = await tempDirectory()
  const index = await LmdbObjectIndex.open(directory)
  return {
    index,
    dispose: async () => {
      await index.close()
      await removeDirectory(directory)
    },
  }
}

/**
 * Puts many records fast: a batch of concurrent `putVersion` calls shares one LMDB commit, where
 * awaiting each would pay a commit (an fdatasync) per record.
 */
export async function putMany(index: ObjectIndex, records: ObjectVersion[], batch = 2000): Promise<void> {
  for (let i = 0; i < records.length; i += batch) {
    await Promise.all(records.slice(i, i + batch).map((record) => index.putVersion(record)))
  }
}

/** One current content version per key, with version ids 1, 2, 3, … */
export function contentFor(bucket: string, keys: string[]): ObjectVersion[] {
  return keys.map((key, i) => content(bucket, key, vid(i + 1)))
}
