import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runStorageAdapterTests } from '@automerge/automerge-repo/helpers/tests/storage-adapter-tests.js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CorruptChunkError, FsyncStorageAdapter } from '../src/index.js'

const bytes = (...values: number[]) => new Uint8Array(values)

describe('FsyncStorageAdapter', () => {
  runStorageAdapterTests(async () => {
    const directory = await mkdtemp(join(tmpdir(), 'platform-fsync-'))
    return {
      adapter: await FsyncStorageAdapter.open({ directory }),
      teardown: () => rm(directory, { recursive: true, force: true }),
    }
  }, 'FsyncStorageAdapter')

  describe('on disk', () => {
    let directory: string
    let adapter: FsyncStorageAdapter
    beforeEach(async () => {
      directory = await mkdtemp(join(tmpdir(), 'platform-fsync-'))
      adapter = await FsyncStorageAdapter.open({ directory })
    })
    afterEach(() => rm(directory, { recursive: true, force: true }))

    const allNames = async (): Promise<string[]> => {
      const out: string[] = []
      for (const dir of await readdir(join(directory, 'chunks'))) {
        for (const file of await readdir(join(directory, 'chunks', dir))) out.push(`${dir}/${file}`)
      }
      return out.sort()
    }

    it('keeps what was saved across a reopen', async () => {
      await adapter.save(['doc', 'snapshot', 'h1'], bytes(1, 2, 3))
      await adapter.save(['doc', 'incremental', 'h2'], bytes(4))
      const reopened = await FsyncStorageAdapter.open({ directory })
      expect(await reopened.load(['doc', 'snapshot', 'h1'])).toEqual(bytes(1, 2, 3))
      expect((await reopened.loadRange(['doc'])).map((chunk) => chunk.key)).toEqual([
        ['doc', 'snapshot', 'h1'],
        ['doc', 'incremental', 'h2'],
      ])
    })

    it('never lets a key reach outside its directory, and keeps keys differing only in case apart', async () => {
      const keys = [
        ['../../escape', '..', '/etc/passwd'],
        ['a/b', 'c'],
        ['a', 'b/c'],
        ['Doc', 'x'],
        ['doc', 'x'],
        ['doc'],
        ['doc', ''],
        ['doc', '', ''],
        ['nul\u0000byte', 'ü'],
        ['.hidden', '.'],
      ]
      for (const [i, key] of keys.entries()) await adapter.save(key, bytes(i))
      for (const [i, key] of keys.entries()) expect(await adapter.load(key)).toEqual(bytes(i))
      expect(await readdir(directory)).toEqual(['chunks', 'tmp'])
      const names = await allNames()
      expect(names).toHaveLength(keys.length)
      for (const name of names) expect(name).toMatch(/^[kh][a-z0-9_%^A-F-]*\/[ch][a-z0-9_%^A-F+-]*$/)
      expect((await adapter.loadRange(['doc'])).map((chunk) => chunk.key)).toEqual([
        ['doc', 'x'],
        ['doc'],
        ['doc', ''],
        ['doc', '', ''],
      ])
    })

    it('hashes names too long for a file system and still finds the keys by prefix', async () => {
      const long = 'x'.repeat(300)
      await adapter.save([long, 'a'], bytes(1))
      await adapter.save(['doc', long], bytes(2))
      expect(await adapter.load([long, 'a'])).toEqual(bytes(1))
      expect(await adapter.loadRange([long])).toEqual([{ key: [long, 'a'], data: bytes(1) }])
      expect(await adapter.loadRange(['doc'])).toEqual([{ key: ['doc', long], data: bytes(2) }])
      for (const name of await allNames()) expect(name.length).toBeLessThan(220)
    })

    it('loads and removes everything with an empty prefix', async () => {
      await adapter.save(['a', '1'], bytes(1))
      await adapter.save(['b', '2'], bytes(2))
      expect(await adapter.loadRange([])).toHaveLength(2)
      await adapter.removeRange([])
      expect(await adapter.loadRange([])).toEqual([])
    })

    it('refuses keys that are not arrays of strings, and the empty key', async () => {
      await expect(adapter.save([], bytes(1))).rejects.toThrow(TypeError)
      await expect(adapter.load(['a', 7 as unknown as string])).rejects.toThrow(TypeError)
      await expect(adapter.loadRange('a' as unknown as string[])).rejects.toThrow(TypeError)
    })

    it('ignores writes once closed, after finishing the ones in flight', async () => {
      const inFlight = adapter.save(['doc', 'a'], bytes(1))
      await adapter.close()
      await inFlight
      await adapter.save(['doc', 'b'], bytes(2))
      await adapter.remove(['doc', 'a'])
      await adapter.removeRange(['doc'])
      expect((await adapter.loadRange(['doc'])).map((chunk) => chunk.key)).toEqual([['doc', 'a']])
    })

    it('removes a missing key without complaint', async () => {
      await adapter.remove(['never', 'saved'])
      expect(await adapter.load(['never', 'saved'])).toBeUndefined()
    })

    it('applies calls on one key in the order they were made', async () => {
      const key = ['doc', 'head']
      const writes = Array.from({ length: 20 }, (_, i) => adapter.save(key, bytes(i)))
      const removal = adapter.remove(key)
      const last = adapter.save(key, bytes(99))
      const read = adapter.load(key)
      await Promise.all([...writes, removal, last])
      expect(await read).toEqual(bytes(99))
    })

    it('removes temp files an interrupted write left, at open', async () => {
      await adapter.save(['doc', 'a'], bytes(1))
      await writeFile(join(directory, 'tmp', 'deadbeef.tmp'), 'half a chunk')
      const reopened = await FsyncStorageAdapter.open({ directory })
      expect(await readdir(join(directory, 'tmp'))).toEqual([])
      expect(await reopened.load(['doc', 'a'])).toEqual(bytes(1))
    })

    it('reports a chunk whose bytes no longer match their digest', async () => {
      await adapter.save(['doc', 'a'], bytes(1, 2, 3, 4))
      const [name] = await allNames()
      const path = join(directory, 'chunks', name!)
      const content = await readFile(path)
      content.writeUInt8(content.readUInt8(content.length - 1) ^ 0xff, content.length - 1)
      await writeFile(path, content)
      await expect(adapter.load(['doc', 'a'])).rejects.toThrow(CorruptChunkError)
      await writeFile(path, 'not a chunk at all')
      await expect(adapter.loadRange(['doc'])).rejects.toThrow(/no chunk header/)
      await writeFile(
        path,
        Buffer.concat([Buffer.from('AMCHUNK1'), Buffer.from([0, 0, 0, 3]), Buffer.from('{x}')]),
      )
      await expect(adapter.load(['doc', 'a'])).rejects.toThrow(/unreadable header/)
      const header = Buffer.from(JSON.stringify({ key: 'doc' }))
      const length = Buffer.alloc(4)
      length.writeUInt32BE(header.length)
      await writeFile(path, Buffer.concat([Buffer.from('AMCHUNK1'), length, header]))
      await expect(adapter.load(['doc', 'a'])).rejects.toThrow(/malformed header/)
    })
  })
})
