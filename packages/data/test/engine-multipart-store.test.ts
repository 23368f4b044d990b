import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FsMultipartStore } from '../src/engine/fs-multipart-store.js'
import { MemoryMultipartStore } from '../src/engine/memory-multipart-store.js'
import { type MultipartStoreFixture, runMultipartStoreTests } from '../src/testing/index.js'

describe('MemoryMultipartStore', () => {
  runMultipartStoreTests({
    async setup() {
      return { store: new MemoryMultipartStore() }
    },
    async teardown() {},
  })
})

describe('FsMultipartStore', () => {
  const dirs = new WeakMap<MultipartStoreFixture, string>()
  runMultipartStoreTests(
    {
      async setup() {
        const directory = await mkdtemp(join(tmpdir(), 'aruna-mp-'))
        const fixture: MultipartStoreFixture = {
          store: await FsMultipartStore.open({ directory }),
          reopen: () => FsMultipartStore.open({ directory }),
        }
        dirs.set(fixture, directory)
        return fixture
      },
      async teardown(fixture) {
        await rm(dirs.get(fixture)!, { recursive: true, force: true })
      },
    },
    { durable: true },
  )

  it('clears temp files and half-created uploads left by a crash when it opens', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'aruna-mp-'))
    try {
      const store = await FsMultipartStore.open({ directory })
      await store.createUpload({
        uploadId: 'kept',
        bucket: 'bucket-one',
        key: 'k',
        initiated: new Date(0).toISOString(),
        initiator: 'alice',
        contentType: 'text/plain',
        userMetadata: {},
      })
      await writeFile(join(directory, 'tmp', 'abc.tmp'), 'half a write')
      await mkdir(join(directory, 'uploads', 'half-created'))
      await mkdir(join(directory, 'uploads', 'not.an.id'))
      const reopened = await FsMultipartStore.open({ directory })
      expect(await readdir(join(directory, 'tmp'))).toEqual([])
      expect((await readdir(join(directory, 'uploads'))).sort()).toEqual(['kept'])
      expect((await reopened.getUpload('kept')).key).toBe('k')
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })

  it('leaves no temp files behind after recording parts and deleting uploads', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'aruna-mp-'))
    try {
      const store = await FsMultipartStore.open({ directory })
      await store.createUpload({
        uploadId: 'u1',
        bucket: 'bucket-one',
        key: 'k',
        initiated: new Date(0).toISOString(),
        initiator: 'alice',
        contentType: 'text/plain',
        userMetadata: {},
      })
      await store.putPart('u1', {
        partNumber: 1,
        etag: '"x"',
        size: 0,
        chunks: [],
        checksums: { md5: 'x' },
        lastModified: '',
      })
      await store.deleteUpload('u1')
      expect(await readdir(join(directory, 'tmp'))).toEqual([])
      expect(await readdir(join(directory, 'uploads'))).toEqual([])
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })
})
