import { describe, expect, it } from 'vitest'
import { chunkCidOf } from '../src/chunk-id.js'
import { isDataError } from '../src/errors.js'
import { MemoryBlobStore } from '../src/memory-blob-store.js'
import { MemoryObjectIndex } from '../src/memory-object-index.js'
import type { ObjectIndex } from '../src/port.js'
import { G1 } from '../src/testing/records.js'
import { body, deferred, distinct, engineOver } from './gc-fixture.js'

/** Garbage collection and the other nodes: asking them before deleting, answering their question. */

/** An engine whose store holds `garbage` unreferenced chunks (overwritten null versions) and one live one. */
async function withGarbage(garbage: number) {
  const blobs = new MemoryBlobStore()
  const { engine } = engineOver(blobs)
  await engine.createBucket('bkt', G1)
  for (let i = 0; i <= garbage; i++)
    await engine.putObject({ bucket: 'bkt', key: 'k', body: body(distinct(i)) })
  const unreferenced = Array.from({ length: garbage }, (_, i) => chunkCidOf(distinct(i)))
  return { engine, blobs, unreferenced, live: chunkCidOf(distinct(garbage)) }
}

describe('garbage collection asks the other nodes before deleting', () => {
  it('keeps an unreferenced chunk that another node still references, frees the others', async () => {
    const { engine, blobs, unreferenced, live } = await withGarbage(3)
    const asked: string[][] = []
    const result = await engine.collectGarbage({
      confirmUnreferenced: async (cids, options) => {
        asked.push([...cids])
        expect(options.signal).toBeUndefined()
        return new Set(cids.filter((cid) => cid !== unreferenced[1]))
      },
    })
    expect(asked.flat().sort()).toEqual([...unreferenced].sort())
    expect(result).toMatchObject({ chunksFreed: 2, chunksKeptForPeers: 1 })
    expect(await blobs.has(unreferenced[1]!)).toBe(true)
    expect(await blobs.has(unreferenced[0]!)).toBe(false)
    expect(await blobs.has(live)).toBe(true)
  })

  it('deletes only what the answer names, even if it names chunks it was not asked about', async () => {
    const { engine, blobs, unreferenced, live } = await withGarbage(2)
    const result = await engine.collectGarbage({ confirmUnreferenced: async () => new Set([live]) })
    expect(result).toMatchObject({ chunksFreed: 0, chunksKeptForPeers: 2 })
    for (const cid of [...unreferenced, live]) expect(await blobs.has(cid)).toBe(true)
  })

  it('keeps a whole batch when asking fails, and goes on with the next batch', async () => {
    const { engine, blobs, unreferenced } = await withGarbage(4)
    let calls = 0
    const result = await engine.collectGarbage({
      batchSize: 2,
      confirmUnreferenced: async (cids) => {
        if (++calls === 1) throw new Error('no answer from node-b')
        return new Set(cids)
      },
    })
    expect(calls).toBe(2)
    expect(result).toMatchObject({ phase: 'done', chunksFreed: 2, chunksKeptForPeers: 2 })
    expect((await Promise.all(unreferenced.map((cid) => blobs.has(cid)))).filter(Boolean)).toHaveLength(2)
    // The next run asks again.
    expect(
      (await engine.collectGarbage({ confirmUnreferenced: async (cids) => new Set(cids) })).chunksFreed,
    ).toBe(2)
  })

  it('stops when the run is stopped while the other nodes are asked, deleting nothing', async () => {
    const { engine, blobs, unreferenced } = await withGarbage(2)
    const stop = new AbortController()
    const run = engine.collectGarbage({
      signal: stop.signal,
      confirmUnreferenced: async (_cids, options) => {
        expect(options.signal).toBe(stop.signal)
        stop.abort()
        throw new Error('aborted')
      },
    })
    await expect(run).rejects.toSatisfy((err) => isDataError(err, 'Aborted'))
    for (const cid of unreferenced) expect(await blobs.has(cid)).toBe(true)
  })

  it('asks outside the sweep lock, and keeps a chunk a PUT stored again meanwhile', async () => {
    const { engine, blobs, unreferenced } = await withGarbage(1)
    const result = await engine.collectGarbage({
      confirmUnreferenced: async (cids) => {
        // A local write while the question is out: it would wait forever if the sweep held its lock.
        await engine.putObject({ bucket: 'bkt', key: 'again', body: body(distinct(0)) })
        return new Set(cids)
      },
    })
    expect(result).toMatchObject({ chunksFreed: 0, chunksKeptForPeers: 0 })
    expect(await blobs.has(unreferenced[0]!)).toBe(true)
  })
})

describe('ObjectEngine.referencedChunks', () => {
  it('answers for the chunks of stored versions, parts of open uploads and writes in progress', async () => {
    const index = new MemoryObjectIndex()
    const recording = deferred()
    const held = deferred()
    let hold = false
    // An index whose putVersion waits: the PUT's chunks are stored and pinned, its record not yet made.
    const slowIndex = new Proxy(index, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver)
        if (name !== 'putVersion') return typeof value === 'function' ? value.bind(target) : value
        return async (...args: Parameters<ObjectIndex['putVersion']>) => {
          if (hold) {
            recording.resolve()
            await held.promise
          }
          return target.putVersion(...args)
        }
      },
    })
    const { engine } = engineOver(new MemoryBlobStore(), undefined, slowIndex)
    await engine.createBucket('bkt', G1)
    await engine.putBucketVersioning('bkt', 'Enabled')
    const cid = (i: number) => chunkCidOf(distinct(i))

    await engine.putObject({ bucket: 'bkt', key: 'old', body: body(distinct(0)) })
    await engine.putObject({ bucket: 'bkt', key: 'old', body: body(distinct(1)) })
    await engine.deleteObject('bkt', 'old')
    const purged = await engine.putObject({ bucket: 'bkt', key: 'purged', body: body(distinct(2)) })
    await engine.deleteVersion('bkt', 'purged', purged.versionId)
    const uploadOnePart = async (key: string, i: number): Promise<string> => {
      const { uploadId } = await engine.createMultipartUpload({ bucket: 'bkt', key, initiator: 'a' })
      await engine.uploadPart({ bucket: 'bkt', key, uploadId, partNumber: 1, body: body(distinct(i)) })
      return uploadId
    }
    await uploadOnePart('open', 3)
    const aborted = await uploadOnePart('gone', 4)
    await engine.abortMultipartUpload('bkt', 'gone', aborted)
    hold = true
    const put = engine.putObject({ bucket: 'bkt', key: 'in-flight', body: body(distinct(5)) })
    await recording.promise

    const asked = [0, 1, 2, 3, 4, 5, 6].map(cid)
    // An old version, the current one behind a delete marker, a purged version, an open upload's part,
    // an aborted upload's part, a PUT not yet recorded, a chunk nobody has.
    expect(await engine.referencedChunks(asked)).toEqual([true, true, false, true, false, true, false])
    expect(await engine.referencedChunks([cid(6), cid(0), cid(0)])).toEqual([false, true, true])
    held.resolve()
    await put
    expect(await engine.referencedChunks([cid(5)])).toEqual([true])
    await engine.deleteVersion('bkt', 'in-flight', (await engine.headObject('bkt', 'in-flight')).versionId)
    expect(await engine.referencedChunks([cid(5)])).toEqual([false])
  })

  it('sees a write that pins and records its chunks while the pass reads the index', async () => {
    const index = new MemoryObjectIndex()
    const reading = deferred()
    const gate = deferred()
    // The pass waits at bucket `late` while a PUT to `early`, already read, pins, records and releases.
    const slowIndex = new Proxy(index, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver)
        if (name !== 'listVersions') return typeof value === 'function' ? value.bind(target) : value
        return async function* (...args: Parameters<ObjectIndex['listVersions']>) {
          if (args[0] === 'late') {
            reading.resolve()
            await gate.promise
          }
          yield* target.listVersions(...args)
        }
      },
    })
    const { engine } = engineOver(new MemoryBlobStore(), undefined, slowIndex)
    await engine.createBucket('early', G1)
    await engine.createBucket('late', G1)
    const asking = engine.referencedChunks([chunkCidOf(distinct(7))])
    await reading.promise
    await engine.putObject({ bucket: 'early', key: 'k', body: body(distinct(7)) })
    gate.resolve()
    expect(await asking).toEqual([true])
  })

  it('stops on a signal', async () => {
    const { engine } = await withGarbage(1)
    const stop = new AbortController()
    stop.abort()
    await expect(
      engine.referencedChunks([chunkCidOf(distinct(0))], { signal: stop.signal }),
    ).rejects.toSatisfy((err) => isDataError(err, 'Aborted'))
  })
})
