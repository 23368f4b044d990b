import { open } from 'lmdb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type CorsRule, LmdbObjectIndex, MemoryObjectIndex, type ObjectVersion } from '../src/index.js'
import { runObjectIndexTests } from '../src/testing/index.js'
import {
  collectVersions,
  content,
  expectCode,
  G1,
  G2,
  marker,
  utf8Sorted,
  vid,
} from '../src/testing/records.js'
import { contentFor, openTemporary, putMany, removeDirectory, tempDirectory } from './lmdb-fixture.js'

// The suite awaits one putVersion at a time, each its own commit with an fdatasync: on a busy disk
// its 1001-key test takes seconds, past vitest's default 5 s.
vi.setConfig({ testTimeout: 30_000 })

describe('LmdbObjectIndex', () => {
  const disposers = new Map<object, () => Promise<void>>()
  runObjectIndexTests({
    async setup() {
      const { index, dispose } = await openTemporary()
      disposers.set(index, dispose)
      return index
    },
    async teardown(index) {
      await disposers.get(index)?.()
      disposers.delete(index)
    },
  })
})

describe('LmdbObjectIndex across restarts', () => {
  let directory: string
  let index: LmdbObjectIndex

  beforeEach(async () => {
    directory = await tempDirectory()
    index = await LmdbObjectIndex.open(directory)
  })

  afterEach(async () => {
    await index.close()
    await removeDirectory(directory)
  })

  async function reopen(): Promise<void> {
    await index.close()
    index = await LmdbObjectIndex.open(directory)
  }

  it('finds every bucket, version, current pointer and listing again after close and reopen', async () => {
    const made = await index.createBucket('bkt1', { group: G1 })
    await index.createBucket('other', { group: G2 })
    await index.putVersion(content('bkt1', 'a', vid(1), 5))
    await index.putVersion(content('bkt1', 'a', vid(2), 6))
    await index.putVersion(content('bkt1', 'dir/b', vid(3)))
    await index.putVersion(marker('bkt1', 'dir/b', vid(4)))
    await index.putVersion(content('bkt1', 'dir/c', vid(5)))
    await index.putVersion(content('other', 'x', vid(6)))
    const before = {
      buckets: await index.listBuckets(),
      versions: await collectVersions(index.listVersions('bkt1')),
      list: await index.list('bkt1', { delimiter: '/' }),
      nested: await index.list('bkt1', { prefix: 'dir/' }),
      current: await index.getCurrent('bkt1', 'a'),
    }

    await reopen()

    expect(await index.getBucket('bkt1')).toEqual(made)
    expect(await index.listBuckets()).toEqual(before.buckets)
    expect(await collectVersions(index.listVersions('bkt1'))).toEqual(before.versions)
    expect(await index.list('bkt1', { delimiter: '/' })).toEqual(before.list)
    expect(await index.list('bkt1', { prefix: 'dir/' })).toEqual(before.nested)
    expect(await index.getCurrent('bkt1', 'a')).toEqual(before.current)
    expect(await index.getVersion('bkt1', 'dir/b', vid(3))).toEqual(content('bkt1', 'dir/b', vid(3)))
    await expectCode(index.getCurrent('bkt1', 'dir/b'), 'NoSuchKey')
    expect((await index.list('other')).objects.map((o) => o.key)).toEqual(['x'])
    // Still writable, and the rules still hold for records that arrive after the restart.
    expect(await index.putVersion(content('bkt1', 'a', vid(2), 6))).toEqual({
      stored: false,
      current: true,
      onlyVersion: false,
    })
    await expectCode(index.putVersion(content('bkt1', 'a', vid(2), 7)), 'VersionConflict')
    expect(await index.putVersion(content('bkt1', 'a', vid(9)))).toEqual({
      stored: true,
      current: true,
      onlyVersion: false,
    })
  })

  it('keeps a deleted bucket deleted, with its history gone, after a restart', async () => {
    await index.createBucket('gone', { group: G1 })
    await index.createBucket('kept', { group: G1 })
    await index.putVersion(content('gone', 'k', vid(1)))
    await index.putVersion(marker('gone', 'k', vid(2)))
    await index.putVersion(content('kept', 'k', vid(3)))
    await index.deleteBucket('gone')
    await reopen()
    await expectCode(index.getBucket('gone'), 'NoSuchBucket')
    await index.createBucket('gone', { group: G2 })
    expect(await collectVersions(index.listVersions('gone'))).toEqual([])
    expect(await collectVersions(index.listVersions('kept'))).toEqual([['k', vid(3)]])
    expect((await index.getBucket('gone')).group).toBe(G2)
  })

  it('refuses to open a directory that holds an index in another layout, and leaves it as it was', async () => {
    await index.createBucket('bkt1', { group: G1 })
    await index.close()
    const setFormat = async (format: number) => {
      const raw = open({ path: directory, maxDbs: 8, overlappingSync: false })
      await raw.openDB<number, string>('meta', { encoding: 'json' }).put('format', format)
      await raw.close()
    }
    await setFormat(99)
    await expectCode(LmdbObjectIndex.open(directory), 'InvalidArgument')
    await setFormat(1)
    index = await LmdbObjectIndex.open(directory)
    expect((await index.listBuckets()).map((b) => b.name)).toEqual(['bkt1'])
  })

  it('closes once however often it is asked to', async () => {
    await index.close()
    await index.close()
    index = await LmdbObjectIndex.open(directory)
    expect(await index.listBuckets()).toEqual([])
  })
})

describe('LmdbObjectIndex writes', () => {
  let index: LmdbObjectIndex
  let dispose: () => Promise<void>

  beforeEach(async () => {
    ;({ index, dispose } = await openTemporary())
    await index.createBucket('bkt1', { group: G1 })
  })

  afterEach(async () => {
    await dispose()
  })

  it('converges to the newest version when many callers put versions of one key at once', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => vid(100 + (i % 10), `node-${i % 4}`, Math.floor(i / 10)))
    // Shuffled deterministically, so the newest id is neither first nor last to arrive.
    const order = ids.map((id, i) => ({ id, rank: (i * 7919) % 41 })).sort((a, b) => a.rank - b.rank)
    const newest = [...ids].sort().at(-1)!
    const results = await Promise.all(
      order.map(async ({ id }, i) => {
        // Spread the callers over several event turns, so they land in several LMDB transactions.
        if (i % 3 === 0) await new Promise((done) => setImmediate(done))
        return index.putVersion(content('bkt1', 'k', id))
      }),
    )
    expect(results.every((r) => r.stored)).toBe(true)
    expect((await index.getCurrent('bkt1', 'k')).versionId).toBe(newest)
    expect((await index.list('bkt1')).objects.map((o) => o.versionId)).toEqual([newest])
    const history = await collectVersions(index.listVersions('bkt1'))
    expect(history.map(([, id]) => id)).toEqual([...ids].sort().reverse())
  })

  it('lets exactly one of several callers store the same record and refuses a conflicting one', async () => {
    const v = content('bkt1', 'k', vid(1))
    const results = await Promise.allSettled([
      index.putVersion(v),
      index.putVersion(structuredClone(v)),
      index.putVersion(content('bkt1', 'k', vid(1), 99)),
      index.putVersion(structuredClone(v)),
    ])
    const stored = results.filter((r) => r.status === 'fulfilled' && r.value.stored)
    expect(stored).toHaveLength(1)
    expect(results[2]).toMatchObject({ status: 'rejected', reason: { code: 'VersionConflict' } })
    expect(await collectVersions(index.listVersions('bkt1'))).toEqual([['k', vid(1)]])
  })

  it('rolls a failed write back whole while the writes beside it in the same commit go through', async () => {
    const results = await Promise.allSettled([
      index.putVersion(content('bkt1', 'a', vid(1))),
      index.putVersion(content('nope', 'a', vid(2))),
      index.createBucket('bkt1', { group: G2 }),
      index.putVersion(content('bkt1', 'b', vid(3))),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled'])
    expect((await index.list('bkt1')).objects.map((o) => o.key)).toEqual(['a', 'b'])
    expect((await index.getBucket('bkt1')).group).toBe(G1)
  })

  it('orders keys with spaces, punctuation and characters beyond ASCII by their UTF-8 bytes', async () => {
    const keys = [
      '&+-é"',
      'a b',
      'a  b',
      'a+b',
      'a&b',
      'a-b',
      'a"b',
      ' leading',
      'trailing ',
      'é',
      'e',
      'z',
      'ß',
      '日本語/ファイル',
      '\uff5e',
      '\ue000',
      '\u{1f600}',
      '\u{10ffff}',
      'A',
      '~',
    ]
    await putMany(index, contentFor('bkt1', keys))
    const expected = utf8Sorted(keys)
    expect((await index.list('bkt1')).objects.map((o) => o.key)).toEqual(expected)
    expect((await collectVersions(index.listVersions('bkt1'))).map(([key]) => key)).toEqual(expected)
    // The same order one key per page, through continuation tokens.
    const paged: string[] = []
    let token: string | undefined
    do {
      const page = await index.list('bkt1', {
        maxKeys: 1,
        ...(token === undefined ? {} : { continuationToken: token }),
      })
      paged.push(...page.objects.map((o) => o.key))
      token = page.nextContinuationToken
    } while (token !== undefined)
    expect(paged).toEqual(expected)
    expect((await index.list('bkt1', { prefix: 'a', delimiter: 'b' })).commonPrefixes).toEqual(
      utf8Sorted(['a b', 'a  b', 'a+b', 'a&b', 'a-b', 'a"b']),
    )
  })

  it('keeps buckets whose names are prefixes of each other apart', async () => {
    await index.createBucket('bkt', { group: G1 })
    await index.createBucket('bkt1-x', { group: G1 })
    await index.putVersion(content('bkt', 'k', vid(1)))
    await index.putVersion(content('bkt1', 'k', vid(2)))
    await index.putVersion(content('bkt1-x', 'k', vid(3)))
    for (const [bucket, id] of [
      ['bkt', vid(1)],
      ['bkt1', vid(2)],
      ['bkt1-x', vid(3)],
    ] as const) {
      expect(await collectVersions(index.listVersions(bucket))).toEqual([['k', id]])
      expect((await index.list(bucket)).objects.map((o) => o.versionId)).toEqual([id])
    }
    await index.putVersion(marker('bkt1', 'k', vid(4)))
    await index.deleteBucket('bkt1')
    expect(await collectVersions(index.listVersions('bkt'))).toHaveLength(1)
    expect(await collectVersions(index.listVersions('bkt1-x'))).toHaveLength(1)
  })

  it('orders versions of one key newest first when one version id is a prefix of another', async () => {
    const short = vid(1, 'n')
    const long = vid(1, 'n1')
    await index.putVersion(content('bkt1', 'k', long))
    expect(await index.putVersion(content('bkt1', 'k', short))).toEqual({
      stored: true,
      current: false,
      onlyVersion: false,
    })
    expect(await collectVersions(index.listVersions('bkt1'))).toEqual([
      ['k', long],
      ['k', short],
    ])
    expect(
      await collectVersions(index.listVersions('bkt1', { keyMarker: 'k', versionIdMarker: long })),
    ).toEqual([['k', short]])
  })

  it('answers NoSuchBucket and NoSuchVersion for names and ids that cannot exist', async () => {
    await index.putVersion(content('bkt1', 'k', vid(1)))
    await expectCode(index.getBucket(''), 'NoSuchBucket')
    await expectCode(index.getBucket('x'.repeat(5000)), 'NoSuchBucket')
    await expectCode(index.list('Not A Bucket'), 'NoSuchBucket')
    await expectCode(index.getVersion('bkt1', 'k', 'v'.repeat(5000)), 'NoSuchVersion')
    await expectCode(index.getVersion('bkt1', 'k', ''), 'NoSuchVersion')
  })

  it('records bucket creation times from its clock and keeps the bucket it returns apart from its own', async () => {
    const { index: clocked, dispose: disposeClocked } = await (async () => {
      const directory = await tempDirectory()
      const opened = await LmdbObjectIndex.open(directory, { now: () => new Date(Date.UTC(2030, 0, 2)) })
      return {
        index: opened,
        dispose: async () => {
          await opened.close()
          await removeDirectory(directory)
        },
      }
    })()
    try {
      const made = await clocked.createBucket('timed', { group: G1 })
      expect(made.createdAt).toBe('2030-01-02T00:00:00.000Z')
      made.group = 'changed'
      expect((await clocked.getBucket('timed')).group).toBe(G1)
      await expectCode(clocked.createBucket('timed2', { group: '' }), 'InvalidArgument')
    } finally {
      await disposeClocked()
    }
  })
})

describe('LmdbObjectIndex bucket records kept decoded', () => {
  it('hands out copies, and shows every change of a bucket at once, however often it was read', async () => {
    const { index, dispose } = await openTemporary()
    try {
      await index.createBucket('kept', { group: G1 })
      const first = await index.getBucket('kept')
      first.group = 'changed'
      expect((await index.getBucket('kept')).group).toBe(G1)
      await index.setBucketVersioning('kept', 'Enabled', vid(1))
      expect((await index.getBucket('kept')).versioning).toBe('Enabled')
      const rule: CorsRule = {
        allowedOrigins: ['*'],
        allowedMethods: ['GET'],
        allowedHeaders: [],
        exposeHeaders: [],
      }
      await index.setBucketCors('kept', { rules: [rule] }, vid(2))
      const withCors = await index.getBucket('kept')
      withCors.cors?.rules.push(rule)
      expect((await index.getBucket('kept')).cors?.rules).toHaveLength(1)
      await index.setBucketCors('kept', undefined, vid(3))
      expect((await index.getBucket('kept')).cors).toBeUndefined()
      await index.deleteBucket('kept')
      await expectCode(index.getBucket('kept'), 'NoSuchBucket')
      await expectCode(index.putVersion(content('kept', 'k', vid(4))), 'NoSuchBucket')
      await index.createBucket('kept', { group: G1 })
      expect((await index.getBucket('kept')).versioning).toBe('Unversioned')
    } finally {
      await dispose()
    }
  })
})

describe('LmdbObjectIndex range digests', () => {
  const records: ObjectVersion[] = []
  for (const [i, key] of ['a', 'a/b', 'b', 'c/d', 'é', '\u{1f600}', '\uffff'].entries()) {
    records.push(content('bkt1', key, vid(i)), marker('bkt1', key, vid(10 + i, 'node-b')))
  }

  // The compliance suite holds each index to RangeDigest's definition; this holds them to each other.
  it('agrees with a MemoryObjectIndex replica of the same records on every range', async () => {
    const { index, dispose } = await openTemporary()
    const memory = new MemoryObjectIndex()
    try {
      for (const replica of [index, memory]) await replica.createBucket('bkt1', { group: G1 })
      await putMany(index, records)
      for (const r of [...records].reverse()) await memory.putVersion(r)
      const gone = { bucket: 'bkt1', key: 'c/e', versionId: vid(50), purgedAt: '2025-03-01T00:00:00.000Z' }
      await index.purgeVersion(gone)
      await memory.purgeVersion(gone)
      const bounds = [undefined, '', 'a', 'a/', 'c/d\u0000', 'é', '\ud83d', '\uffff', 'x'.repeat(2000)]
      for (const start of bounds) {
        for (const end of bounds) {
          const range = { ...(start === undefined ? {} : { start }), ...(end === undefined ? {} : { end }) }
          const label = JSON.stringify(range).slice(0, 60)
          expect(await index.digestRange('bkt1', range), label).toEqual(
            await memory.digestRange('bkt1', range),
          )
          expect(await collectVersions(index.listVersions('bkt1', { range })), label).toEqual(
            await collectVersions(memory.listVersions('bkt1', { range })),
          )
          expect(await collectVersions(index.listPurges('bkt1', { range })), label).toEqual(
            await collectVersions(memory.listPurges('bkt1', { range })),
          )
        }
      }
    } finally {
      await dispose()
    }
  })
})
