import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Repo } from '@automerge/automerge-repo'
import { strToU8, unzipSync, zipSync } from 'fflate'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AutomergeMetadataStore,
  crateFiles,
  type Entity,
  exportCrateZip,
  importCrateZip,
  MemoryMetadataStore,
  readCrateZip,
  safePath,
} from '../src/index.js'
import { expectMetadataError } from '../src/testing/index.js'
import { sampleCrate } from '../src/testing/sample-crate.js'

const FIXTURE = fileURLToPath(
  new URL('./fixtures/ro-crate/valid/rocrate-with-data-entities-1.2/ro-crate-metadata.json', import.meta.url),
)

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const chunk of chunks) parts.push(chunk)
  return Buffer.concat(parts)
}

/** Bytes of a data file, made up from its path: `size` bytes, in chunks of `chunk`. */
async function* fakeFile(path: string, size = 100, chunk = 7): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.alloc(size, `${path}|`)
  for (let offset = 0; offset < size; offset += chunk) yield bytes.subarray(offset, offset + chunk)
}

const stores: AutomergeMetadataStore[] = []
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close()
})
const newStore = async () => {
  const store = await AutomergeMetadataStore.create({ repo: new Repo() })
  stores.push(store)
  return store
}

describe('RO-Crate zip', () => {
  it('holds ro-crate-metadata.json and every supplied data file at the path its @id names', async () => {
    const store = await newStore()
    const text = readFileSync(FIXTURE, 'utf8')
    const { resourceId } = await store.importCrate('g1', text)
    const asked: string[] = []
    const archive = await collect(
      exportCrateZip(store, resourceId, (entity: Entity, path: string) => {
        asked.push(`${entity['@id']} -> ${path}`)
        return path === 'data.txt' ? undefined : fakeFile(path)
      }),
    )
    const entries = unzipSync(archive)
    expect(JSON.parse(Buffer.from(entries['ro-crate-metadata.json']!).toString('utf8'))).toEqual(
      JSON.parse(text),
    )
    expect(Object.keys(entries).sort()).toEqual([
      'data set/',
      'data set/inner.txt',
      'pics/2017-06-11 12.56.14.jpg',
      'pics/sepia_fence.jpg',
      'ro-crate-metadata.json',
    ])
    expect(Buffer.from(entries['data set/inner.txt']!)).toEqual(Buffer.alloc(100, 'data set/inner.txt|'))
    expect(asked).toContain('data%20set/inner.txt -> data set/inner.txt')
    expect(asked).toContain('data.txt -> data.txt')
  })

  it('reads its own zip back, with its payload, and imports it as the same crate', async () => {
    const store = await newStore()
    const { resourceId } = await store.importCrate('g1', sampleCrate())
    const archive = await collect(exportCrateZip(store, resourceId, (_entity, path) => fakeFile(path, 10)))
    expect(readCrateZip(archive).payload).toEqual(['readme.txt', 'thickness.nc'])
    const { ref, payload } = await importCrateZip(store, 'g2', archive, { resourceId: 'copy' })
    expect(ref).toEqual({ resourceId: 'copy', group: 'g2' })
    expect(payload).toEqual(['readme.txt', 'thickness.nc'])
    expect(await store.get('copy')).toEqual(sampleCrate())
  })

  it('asks for the next file only when the consumer has taken the archive so far', async () => {
    const store = await newStore()
    const { resourceId } = await store.importCrate('g1', sampleCrate())
    let pulled = 0
    const askedAt: [string, number][] = []
    const stream = exportCrateZip(store, resourceId, (_entity, path) => {
      askedAt.push([path, pulled])
      return fakeFile(path, 50, 10)
    })
    for await (const chunk of stream) {
      expect(chunk.length).toBeGreaterThan(0)
      pulled += 1
    }
    // The metadata file went out before the first data file was asked for, and the first data file
    // (five chunks of source data, at least one archive chunk each) before the second.
    expect(askedAt.map(([path]) => path)).toEqual(['thickness.nc', 'readme.txt'])
    expect(askedAt[0]![1]).toBeGreaterThan(0)
    expect(askedAt[1]![1] - askedAt[0]![1]).toBeGreaterThanOrEqual(5)
    expect(pulled - askedAt[1]![1]).toBeGreaterThanOrEqual(5)
  })

  it('works through the port alone, e.g. on the memory store', async () => {
    const store = new MemoryMetadataStore()
    const { resourceId } = await store.importCrate('g1', sampleCrate())
    const archive = await collect(exportCrateZip(store, resourceId, () => [strToU8('sync bytes')]))
    expect(Buffer.from(unzipSync(archive)['readme.txt']!).toString()).toBe('sync bytes')
  })

  it('fails with the store error for an unknown resource, and with InvalidInput when a source fails', async () => {
    const store = await newStore()
    await expectMetadataError(() => collect(exportCrateZip(store, 'missing', () => undefined)), 'NotFound')
    const { resourceId } = await store.importCrate('g1', sampleCrate())
    const broken = async function* (): AsyncGenerator<Uint8Array> {
      yield strToU8('partial')
      throw new Error('the data layer failed')
    }
    await expect(collect(exportCrateZip(store, resourceId, () => broken()))).rejects.toThrow(
      'the data layer failed',
    )
  })

  it('leaves out data entities whose @id would leave the archive', () => {
    const crate = sampleCrate()
    crate['@graph'].push(
      { '@id': '../escape.txt', '@type': 'File' },
      { '@id': '/etc/passwd', '@type': 'File' },
      { '@id': 'a/./b.txt', '@type': 'File' },
      { '@id': 'dir\\file.txt', '@type': 'File' },
      { '@id': 'https://example.org/remote.txt', '@type': 'File' },
      { '@id': '#local', '@type': 'File' },
      { '@id': 'folder', '@type': 'Dataset' },
    )
    expect(crateFiles(crate).map((file) => file.path)).toEqual(['thickness.nc', 'readme.txt', 'folder/'])
    for (const bad of ['', '/x', 'a/../b', 'a//b', './a', 'a\u0000b', 'a\\b', 'a/\u007f']) {
      expect(safePath(bad), JSON.stringify(bad)).toBeUndefined()
    }
    expect(safePath('a/b c/d.txt')).toBe('a/b c/d.txt')
    expect(safePath('dir/')).toBe('dir/')
  })

  it('refuses archives that are not an RO-Crate zip, naming the rule', async () => {
    const store = await newStore()
    const cases: [Uint8Array, string][] = [
      [strToU8('not a zip at all'), 'crate.zip'],
      [zipSync({ 'README.md': strToU8('no metadata') }), 'crate.zip'],
      [
        zipSync({ 'a/ro-crate-metadata.json': strToU8('{}'), 'b/ro-crate-metadata.json': strToU8('{}') }),
        'crate.zip',
      ],
      [zipSync({ 'ro-crate-metadata.json': strToU8('{ not json') }), 'crate.json'],
      [zipSync({ 'ro-crate-metadata.json': new Uint8Array(16 * 1024 * 1024 + 1) }), 'crate.size'],
    ]
    for (const [archive, rule] of cases) {
      const error = await expectMetadataError(() => importCrateZip(store, 'g1', archive), 'InvalidCrate')
      expect(error.problems?.map((problem) => problem.rule)).toContain(rule)
    }
  })

  it('reads a crate from the only folder of the archive and checks its data entities against the payload', async () => {
    const store = await newStore()
    const text = JSON.stringify(sampleCrate())
    const nested = zipSync({
      'crate/ro-crate-metadata.json': strToU8(text),
      'crate/thickness.nc': strToU8('grid'),
      'crate/readme.txt': strToU8('read me'),
    })
    expect(readCrateZip(nested)).toEqual({ metadata: text, payload: ['readme.txt', 'thickness.nc'] })
    expect((await importCrateZip(store, 'g1', nested)).payload).toEqual(['readme.txt', 'thickness.nc'])
    const missing = zipSync({ 'ro-crate-metadata.json': strToU8(text), 'thickness.nc': strToU8('grid') })
    const error = await expectMetadataError(() => importCrateZip(store, 'g1', missing), 'InvalidCrate')
    expect(error.problems).toContainEqual(
      expect.objectContaining({ rule: 'data-entity.payload', entityId: 'readme.txt' }),
    )
  })
})
