import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe } from 'vitest'
import { FsBlobStore, LmdbObjectIndex, MemoryBlobStore } from '../src/index.js'
import { runBlobStoreTests } from '../src/testing/index.js'
import { overwriteChunkFile } from './fs-fixture.js'

describe('MemoryBlobStore', () => {
  runBlobStoreTests({
    async setup() {
      const store = new MemoryBlobStore()
      return { store, corrupt: async (cid, bytes) => store.tamper(cid, bytes) }
    },
    async teardown() {},
  })
})

for (const [title, inlineMaxBytes] of [
  ['FsBlobStore (small chunks in its database)', undefined],
  ['FsBlobStore (every chunk in a file)', 0],
] as const) {
  describe(title, () => {
    const roots = new Map<object, string>()
    runBlobStoreTests({
      async setup() {
        const root = await mkdtemp(join(tmpdir(), 'aruna-blobs-'))
        const store = await FsBlobStore.open({
          directory: root,
          ...(inlineMaxBytes === undefined ? {} : { inlineMaxBytes }),
        })
        const fixture = {
          store,
          corrupt: (cid: string, bytes: Uint8Array) => overwriteChunkFile(store, cid, bytes),
        }
        roots.set(fixture, root)
        return fixture
      },
      async teardown(fixture) {
        await rm(roots.get(fixture)!, { recursive: true, force: true })
        roots.delete(fixture)
      },
    })
  })
}

describe('FsBlobStore (small chunks in an object index environment)', () => {
  const opened = new Map<object, { root: string; index: LmdbObjectIndex; store: FsBlobStore }>()
  runBlobStoreTests({
    async setup() {
      const root = await mkdtemp(join(tmpdir(), 'aruna-blobs-shared-'))
      const index = await LmdbObjectIndex.open(join(root, 'index'))
      const smallChunks = index.smallChunkDatabase()
      const store = await FsBlobStore.open({ directory: join(root, 'blobs'), smallChunks })
      const fixture = {
        store,
        corrupt: async (cid: string, bytes: Uint8Array) => {
          if (existsSync(store.chunkPath(cid))) await overwriteChunkFile(store, cid, bytes)
          else smallChunks.putSync(cid, Buffer.from(bytes))
        },
      }
      opened.set(fixture, { root, index, store })
      return fixture
    },
    async teardown(fixture) {
      const { root, index, store } = opened.get(fixture)!
      await store.close()
      await index.close()
      await rm(root, { recursive: true, force: true })
      opened.delete(fixture)
    },
  })
})
