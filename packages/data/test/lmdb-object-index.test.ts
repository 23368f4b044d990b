import { open } from 'lmdb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { LmdbObjectIndex, type ObjectVersion } from '../src/index.js'
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
    expect(await index.putVersion(content('bkt1', 'a', vid(2), 6))).toEqual({ stored: false, current: true })
    await expectCode(index.putVersion(content('bkt1', 'a', vid(2), 7)), 'VersionConflict')
    expect(await index.putVersion(content('bkt1', 'a', vid(9)))).toEqual({ stored: true, current: true })
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
    expect(await index.putVersion(content('bkt1', 'k', short))).toEqual({ stored: true, current: false })
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

describe('LmdbObjectIndex range digests', () => {
  const records: ObjectVersion[] = []
  for (const [i, key] of ['a', 'a/b', 'b', 'c/d', 'é', '\u{1f600}'].entries()) {
    records.push(content('bkt1', key, vid(i)), marker('bkt1', key, vid(10 + i, 'node-b')))
  }

  it('gives two holders of the same records the same digest, whatever order the records came in', async () => {
    const one = await openTemporary()
    const two = await openTemporary()
    try {
      for (const { index } of [one, two]) await index.createBucket('bkt1', { group: G1 })
      for (const r of records) await one.index.putVersion(r)
      for (const r of [...records].reverse()) await two.index.putVersion(r)
      const whole = await one.index.digestRange('bkt1')
      expect(whole.count).toBe(records.length)
      expect(await two.index.digestRange('bkt1')).toEqual(whole)

      await two.index.putVersion(content('bkt1', 'c/e', vid(50)))
      expect(await two.index.digestRange('bkt1')).not.toEqual(whole)
      // Narrowing down: the ranges without the new key still agree, the one with it does not.
      expect(await two.index.digestRange('bkt1', { end: 'c/' })).toEqual(
        await one.index.digestRange('bkt1', { end: 'c/' }),
      )
      expect(await two.index.digestRange('bkt1', { start: 'c/e\u0000' })).toEqual(
        await one.index.digestRange('bkt1', { start: 'c/e\u0000' }),
      )
      const differing = await two.index.digestRange('bkt1', { start: 'c/', end: 'c/f' })
      expect(differing.count).toBe(3)
      expect(differing).not.toEqual(await one.index.digestRange('bkt1', { start: 'c/', end: 'c/f' }))

      // A purge: the holder that had the version and the one that never did agree once both hold it.
      const gone = { bucket: 'bkt1', key: 'c/e', versionId: vid(50), purgedAt: '2025-03-01T00:00:00.000Z' }
      await two.index.purgeVersion(gone)
      expect(await two.index.digestRange('bkt1')).not.toEqual(whole)
      await one.index.purgeVersion(gone)
      const purged = await one.index.digestRange('bkt1')
      expect(purged).toMatchObject({ count: records.length, purges: 1 })
      expect(await two.index.digestRange('bkt1')).toEqual(purged)
      expect((await one.index.digestRange('bkt1', { end: 'c/' })).digest).toBe(
        (await two.index.digestRange('bkt1', { end: 'c/' })).digest,
      )
    } finally {
      await one.dispose()
      await two.dispose()
    }
  })

  it('counts exactly the versions of the keys in [start, end)', async () => {
    const { index, dispose } = await openTemporary()
    try {
      await index.createBucket('bkt1', { group: G1 })
      await putMany(index, records)
      expect((await index.digestRange('bkt1', { start: 'a', end: 'b' })).count).toBe(4)
      expect((await index.digestRange('bkt1', { start: 'a/b', end: 'a/b' })).count).toBe(0)
      expect((await index.digestRange('bkt1', { start: 'b', end: 'a' })).count).toBe(0)
      expect((await index.digestRange('bkt1', { start: 'é' })).count).toBe(4)
      expect((await index.digestRange('bkt1', { end: 'x'.repeat(2000) })).count).toBe(8)
      await expectCode(index.digestRange('nope'), 'NoSuchBucket')
    } finally {
      await dispose()
    }
  })
})
