import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CorsConfiguration, ObjectIndex, ObjectVersion, PurgeRecord } from '../port.js'
import type { TestSetup } from './index.js'
import { runObjectRangeTests } from './object-index-range-suite.js'
import { runObjectListingTests } from './object-listing-suite.js'
import { collectVersions, content, expectCode, G1, G2, marker, purge, vid } from './records.js'

/** Registers the behaviour every `ObjectIndex` must have: buckets, versions and listing. */
export function runObjectIndexTests(common: TestSetup<ObjectIndex>): void {
  describe('ObjectIndex compliance: buckets', () => {
    let index: ObjectIndex
    beforeEach(async () => {
      index = await common.setup()
    })
    afterEach(async () => {
      await common.teardown(index)
    })

    it('creates buckets and lists them by name, optionally by group', async () => {
      const made = await index.createBucket('zebra', { group: G1 })
      expect(made).toMatchObject({ name: 'zebra', group: G1 })
      expect(Number.isNaN(Date.parse(made.createdAt))).toBe(false)
      await index.createBucket('alpha', { group: G2 })
      await index.createBucket('mid.dle-1', { group: G1 })
      expect((await index.listBuckets()).map((b) => b.name)).toEqual(['alpha', 'mid.dle-1', 'zebra'])
      expect((await index.listBuckets({ group: G1 })).map((b) => b.name)).toEqual(['mid.dle-1', 'zebra'])
      expect(await index.getBucket('zebra')).toEqual(made)
    })

    it('refuses a bucket name that is taken', async () => {
      await index.createBucket('taken', { group: G1 })
      await expectCode(index.createBucket('taken', { group: G2 }), 'BucketAlreadyExists')
      expect((await index.getBucket('taken')).group).toBe(G1)
    })

    it('refuses bucket names that break S3 rules', async () => {
      const bad = ['ab', 'a'.repeat(64), 'Upper', 'under_score', '-start', 'end-', 'two..dots', '192.168.1.1']
      for (const name of [...bad, 'xn--punycode', 'sthree-x', 'bucket-s3alias', 'bucket.mrap', 'a b']) {
        await expectCode(index.createBucket(name, { group: G1 }), 'InvalidBucketName')
      }
      expect(await index.listBuckets()).toEqual([])
    })

    it('refuses an owning group that is not a group id (a ULID)', async () => {
      const bad = [
        '',
        'lab',
        `${G1}/data/other`,
        '*',
        '..',
        `${G1}*`,
        G1.toLowerCase(),
        `${G1}0`,
        'O'.repeat(26),
      ]
      for (const group of bad) await expectCode(index.createBucket('bkt1', { group }), 'InvalidArgument')
      expect(await index.listBuckets()).toEqual([])
    })

    it('fails every bucket-scoped call on a bucket that does not exist', async () => {
      await expectCode(index.getBucket('nope'), 'NoSuchBucket')
      await expectCode(index.deleteBucket('nope'), 'NoSuchBucket')
      await expectCode(index.putVersion(content('nope', 'k', vid(1))), 'NoSuchBucket')
      await expectCode(index.getCurrent('nope', 'k'), 'NoSuchBucket')
      await expectCode(index.getVersion('nope', 'k', vid(1)), 'NoSuchBucket')
      await expectCode(index.list('nope'), 'NoSuchBucket')
      await expectCode(collectVersions(index.listVersions('nope')), 'NoSuchBucket')
    })

    it('refuses to delete a bucket while a key holds content, and deletes it once all are deleted', async () => {
      await index.createBucket('bkt1', { group: G1 })
      await index.putVersion(content('bkt1', 'k', vid(1)))
      await expectCode(index.deleteBucket('bkt1'), 'BucketNotEmpty')
      await index.putVersion(marker('bkt1', 'k', vid(2)))
      await index.deleteBucket('bkt1')
      await expectCode(index.getBucket('bkt1'), 'NoSuchBucket')
      await index.createBucket('bkt1', { group: G1 })
      expect(await collectVersions(index.listVersions('bkt1'))).toEqual([])
      await expectCode(index.getCurrent('bkt1', 'k'), 'NoSuchKey')
    })
  })

  describe('ObjectIndex compliance: versions', () => {
    let index: ObjectIndex
    beforeEach(async () => {
      index = await common.setup()
      await index.createBucket('bkt1', { group: G1 })
    })
    afterEach(async () => {
      await common.teardown(index)
    })

    it('returns the version it recorded as the current one', async () => {
      const v = content('bkt1', 'dir/file.txt', vid(1), 1234)
      expect(await index.putVersion(v)).toEqual({ stored: true, current: true, onlyVersion: true })
      expect(await index.getCurrent('bkt1', 'dir/file.txt')).toEqual(v)
      expect(await index.getVersion('bkt1', 'dir/file.txt', v.versionId)).toEqual(v)
    })

    it('reports keys and versions it does not hold', async () => {
      await index.putVersion(content('bkt1', 'k', vid(1)))
      await expectCode(index.getCurrent('bkt1', 'other'), 'NoSuchKey')
      await expectCode(index.getVersion('bkt1', 'k', vid(2)), 'NoSuchVersion')
      await expectCode(index.getVersion('bkt1', 'other', vid(1)), 'NoSuchVersion')
    })

    it('makes the greatest version id current whatever order versions arrive in', async () => {
      expect(await index.putVersion(content('bkt1', 'k', vid(20)))).toEqual({
        stored: true,
        current: true,
        onlyVersion: true,
      })
      expect(await index.putVersion(content('bkt1', 'k', vid(10)))).toEqual({
        stored: true,
        current: false,
        onlyVersion: false,
      })
      expect(await index.putVersion(content('bkt1', 'k', vid(30)))).toEqual({
        stored: true,
        current: true,
        onlyVersion: false,
      })
      expect((await index.getCurrent('bkt1', 'k')).versionId).toBe(vid(30))
    })

    it('breaks a tie in time by node id', async () => {
      await index.putVersion(content('bkt1', 'k', vid(5, 'node-b')))
      await index.putVersion(content('bkt1', 'k', vid(5, 'node-a')))
      expect((await index.getCurrent('bkt1', 'k')).versionId).toBe(vid(5, 'node-b'))
      await index.putVersion(content('bkt1', 'k', vid(5, 'node-a', 1)))
      expect((await index.getCurrent('bkt1', 'k')).versionId).toBe(vid(5, 'node-a', 1))
    })

    it('ignores a record it already holds', async () => {
      const v = content('bkt1', 'k', vid(1))
      await index.putVersion(v)
      const reordered = {
        manifest: v.manifest,
        createdAt: v.createdAt,
        versionId: v.versionId,
        key: 'k',
        bucket: 'bkt1',
      }
      expect(await index.putVersion(reordered)).toEqual({ stored: false, current: true, onlyVersion: false })
      await index.putVersion(content('bkt1', 'k', vid(2)))
      expect(await index.putVersion(v)).toEqual({ stored: false, current: false, onlyVersion: false })
      expect(await collectVersions(index.listVersions('bkt1'))).toEqual([
        ['k', vid(2)],
        ['k', vid(1)],
      ])
    })

    it('refuses a different record under a version id it already holds', async () => {
      await index.putVersion(content('bkt1', 'k', vid(1), 10))
      await expectCode(index.putVersion(content('bkt1', 'k', vid(1), 11)), 'VersionConflict')
      await expectCode(index.putVersion(marker('bkt1', 'k', vid(1))), 'VersionConflict')
      expect((await index.getCurrent('bkt1', 'k')).manifest.size).toBe(10)
    })

    it('hides a key whose newest version is a delete marker but keeps its history', async () => {
      const v1 = content('bkt1', 'k', vid(1))
      await index.putVersion(v1)
      expect(await index.putVersion(marker('bkt1', 'k', vid(2)))).toEqual({
        stored: true,
        current: true,
        onlyVersion: false,
      })
      await expectCode(index.getCurrent('bkt1', 'k'), 'NoSuchKey')
      expect(await index.getVersion('bkt1', 'k', vid(1))).toEqual(v1)
      expect(await index.getVersion('bkt1', 'k', vid(2))).toEqual(marker('bkt1', 'k', vid(2)))
      expect((await index.list('bkt1')).objects).toEqual([])
      await index.putVersion(content('bkt1', 'k', vid(3)))
      expect((await index.getCurrent('bkt1', 'k')).versionId).toBe(vid(3))
    })

    it('keeps content current when an older delete marker arrives late', async () => {
      await index.putVersion(content('bkt1', 'k', vid(5)))
      expect(await index.putVersion(marker('bkt1', 'k', vid(4)))).toEqual({
        stored: true,
        current: false,
        onlyVersion: false,
      })
      expect((await index.getCurrent('bkt1', 'k')).versionId).toBe(vid(5))
      expect((await index.list('bkt1')).objects.map((o) => o.key)).toEqual(['k'])
    })

    it('converges to the same state from the same records in any order', async () => {
      const records: ObjectVersion[] = []
      for (const [i, key] of ['a', 'b/c', 'b/d', 'é', 'z'].entries()) {
        records.push(content('bkt1', key, vid(i)), content('bkt1', key, vid(10 + i, 'node-b')))
        if (i % 2 === 0) records.push(marker('bkt1', key, vid(20 + i, 'node-c')))
      }
      const other = await common.setup()
      try {
        await other.createBucket('bkt1', { group: G1 })
        for (const r of records) await index.putVersion(r)
        const shuffled = [...records].reverse()
        for (const r of [...shuffled.slice(3), ...shuffled.slice(0, 3), ...records]) await other.putVersion(r)
        expect(await collectVersions(other.listVersions('bkt1'))).toEqual(
          await collectVersions(index.listVersions('bkt1')),
        )
        expect(await other.list('bkt1')).toEqual(await index.list('bkt1'))
        expect((await index.list('bkt1')).objects.map((o) => o.key)).toEqual(['b/c', 'é'])
      } finally {
        await common.teardown(other)
      }
    })

    it('refuses records with a bad key, version id or manifest', async () => {
      for (const key of [
        '',
        'a/../b',
        '..',
        'nul\u0000',
        'tab\there',
        'del\u007f',
        'x'.repeat(1025),
        'é'.repeat(513),
      ]) {
        await expectCode(index.putVersion(content('bkt1', key, vid(1))), 'InvalidKey')
      }
      for (const versionId of ['', '1', 'v1', vid(1).toUpperCase(), `${vid(1)}/x`]) {
        await expectCode(index.putVersion(content('bkt1', 'k', versionId)), 'InvalidVersionId')
      }
      const wrongSize = content('bkt1', 'k', vid(1), 10)
      wrongSize.manifest.size = 11
      await expectCode(index.putVersion(wrongSize), 'InvalidManifest')
      const badChunk = content('bkt1', 'k', vid(1), 10)
      badChunk.manifest.chunks[0]!.cid = 'not-a-cid'
      await expectCode(index.putVersion(badChunk), 'InvalidManifest')
      await expectCode(index.getCurrent('bkt1', 'a/../b'), 'InvalidKey')
      expect(await collectVersions(index.listVersions('bkt1'))).toEqual([])
    })

    it('accepts the longest key S3 allows', async () => {
      const key = `${'é'.repeat(511)}ab`
      await index.putVersion(content('bkt1', key, vid(1)))
      expect((await index.getCurrent('bkt1', key)).key).toBe(key)
    })

    it('keeps its own copies of records', async () => {
      const v = content('bkt1', 'k', vid(1))
      await index.putVersion(v)
      v.manifest.userMetadata.origin = 'changed'
      const read = await index.getCurrent('bkt1', 'k')
      expect(read.manifest.userMetadata.origin).toBe('suite')
      read.manifest.chunks.pop()
      expect((await index.getCurrent('bkt1', 'k')).manifest.chunks).toHaveLength(2)
    })

    it('lists versions by key in UTF-8 order, newest first within a key', async () => {
      await index.putVersion(content('bkt1', 'b', vid(1)))
      await index.putVersion(marker('bkt1', 'a', vid(3)))
      await index.putVersion(content('bkt1', 'a', vid(2)))
      await index.putVersion(content('bkt1', '\uff5e', vid(4)))
      await index.putVersion(content('bkt1', '\u{1f600}', vid(5)))
      await index.putVersion(content('bkt1', 'a/x', vid(6)))
      expect(await collectVersions(index.listVersions('bkt1'))).toEqual([
        ['a', vid(3)],
        ['a', vid(2)],
        ['a/x', vid(6)],
        ['b', vid(1)],
        ['\uff5e', vid(4)],
        ['\u{1f600}', vid(5)],
      ])
      expect(await collectVersions(index.listVersions('bkt1', { key: 'a' }))).toEqual([
        ['a', vid(3)],
        ['a', vid(2)],
      ])
      expect(await collectVersions(index.listVersions('bkt1', { prefix: 'a' }))).toHaveLength(3)
      expect(await collectVersions(index.listVersions('bkt1', { key: 'missing' }))).toEqual([])
    })

    it('resumes a version listing after a key marker and a version id marker', async () => {
      for (const [i, key] of ['a', 'b', 'c'].entries()) {
        for (const n of [1, 2, 3]) await index.putVersion(content('bkt1', key, vid(10 * i + n)))
      }
      const afterA = await collectVersions(index.listVersions('bkt1', { keyMarker: 'a' }))
      expect(afterA.map(([key]) => key)).toEqual(['b', 'b', 'b', 'c', 'c', 'c'])
      const fromB2 = await collectVersions(
        index.listVersions('bkt1', { keyMarker: 'b', versionIdMarker: vid(13) }),
      )
      expect(fromB2).toEqual([
        ['b', vid(12)],
        ['b', vid(11)],
        ['c', vid(23)],
        ['c', vid(22)],
        ['c', vid(21)],
      ])
      const fromPrefix = await collectVersions(index.listVersions('bkt1', { prefix: 'c', keyMarker: 'a' }))
      expect(fromPrefix.map(([key]) => key)).toEqual(['c', 'c', 'c'])
    })

    it('stops a version listing when the consumer stops', async () => {
      for (let n = 0; n < 50; n++) await index.putVersion(content('bkt1', `k${n}`, vid(n)))
      const seen: string[] = []
      for await (const v of index.listVersions('bkt1')) {
        seen.push(v.key)
        if (seen.length === 3) break
      }
      expect(seen).toEqual(['k0', 'k1', 'k10'])
    })
  })

  describe('ObjectIndex compliance: purges and versioning', () => {
    let index: ObjectIndex
    beforeEach(async () => {
      index = await common.setup()
      await index.createBucket('bkt1', { group: G1 })
    })
    afterEach(async () => {
      await common.teardown(index)
    })

    it('removes a purged version for good, and the next newest becomes current', async () => {
      const v1 = content('bkt1', 'k', vid(1))
      const v2 = content('bkt1', 'k', vid(2))
      await index.putVersion(v1)
      await index.putVersion(v2)
      expect(await index.purgeVersion(purge('bkt1', 'k', vid(2)))).toEqual({ stored: true, removed: v2 })
      expect((await index.getCurrent('bkt1', 'k')).versionId).toBe(vid(1))
      await expectCode(index.getVersion('bkt1', 'k', vid(2)), 'NoSuchVersion')
      expect(await collectVersions(index.listVersions('bkt1'))).toEqual([['k', vid(1)]])
      expect((await index.list('bkt1')).objects.map((o) => o.versionId)).toEqual([vid(1)])
      expect(await index.purgeVersion(purge('bkt1', 'k', vid(2)))).toEqual({ stored: false })
      expect(await index.putVersion(v2)).toEqual({ stored: false, current: false, onlyVersion: false })
      expect((await index.getCurrent('bkt1', 'k')).versionId).toBe(vid(1))
    })

    it('hides a key when the purge leaves a delete marker or nothing current', async () => {
      await index.putVersion(content('bkt1', 'a', vid(1)))
      await index.putVersion(marker('bkt1', 'a', vid(2)))
      await index.putVersion(content('bkt1', 'a', vid(3)))
      await index.putVersion(content('bkt1', 'b', vid(4)))
      await index.purgeVersion(purge('bkt1', 'a', vid(3)))
      await index.purgeVersion(purge('bkt1', 'b', vid(4)))
      await expectCode(index.getCurrent('bkt1', 'a'), 'NoSuchKey')
      await expectCode(index.getCurrent('bkt1', 'b'), 'NoSuchKey')
      expect((await index.list('bkt1')).objects).toEqual([])
      await index.purgeVersion(purge('bkt1', 'a', vid(2)))
      expect((await index.getCurrent('bkt1', 'a')).versionId).toBe(vid(1))
      await index.purgeVersion(purge('bkt1', 'a', vid(1)))
      expect(await collectVersions(index.listVersions('bkt1'))).toEqual([])
      await index.deleteBucket('bkt1')
    })

    it('keeps a version out that arrives after its purge (a replica that was offline)', async () => {
      expect(await index.purgeVersion(purge('bkt1', 'k', vid(5)))).toEqual({ stored: true })
      expect(await index.putVersion(content('bkt1', 'k', vid(5)))).toEqual({
        stored: false,
        current: false,
        onlyVersion: false,
      })
      await expectCode(index.getCurrent('bkt1', 'k'), 'NoSuchKey')
      expect(await collectVersions(index.listVersions('bkt1'))).toEqual([])
      expect(await collectPurges(index, 'bkt1')).toEqual([purge('bkt1', 'k', vid(5))])
    })

    it('keeps the earlier of two purges of one version, in any order', async () => {
      const early = { ...purge('bkt1', 'k', vid(1)), purgedAt: '2025-01-01T00:00:00.000Z' }
      const late = { ...purge('bkt1', 'k', vid(1)), purgedAt: '2025-02-01T00:00:00.000Z' }
      await index.purgeVersion(late)
      expect(await index.purgeVersion(early)).toEqual({ stored: true })
      expect(await index.purgeVersion(late)).toEqual({ stored: false })
      expect(await collectPurges(index, 'bkt1')).toEqual([early])
    })

    it('converges to the same state from the same versions and purges in any order', async () => {
      const records: Array<ObjectVersion | PurgeRecord> = []
      for (const [i, key] of ['a', 'b/c', 'é', 'z'].entries()) {
        records.push(content('bkt1', key, vid(i)), content('bkt1', key, vid(10 + i, 'node-b')))
        if (i % 2 === 0) records.push(marker('bkt1', key, vid(20 + i, 'node-c')))
        records.push(purge('bkt1', key, i % 2 === 0 ? vid(20 + i, 'node-c') : vid(10 + i, 'node-b')))
      }
      const apply = (target: ObjectIndex, r: ObjectVersion | PurgeRecord) =>
        'purgedAt' in r ? target.purgeVersion(r) : target.putVersion(r)
      const other = await common.setup()
      try {
        await other.createBucket('bkt1', { group: G1 })
        for (const r of records) await apply(index, r)
        const shuffled = [...records].reverse()
        for (const r of [...shuffled.slice(3), ...shuffled.slice(0, 3), ...records]) await apply(other, r)
        expect(await collectVersions(other.listVersions('bkt1'))).toEqual(
          await collectVersions(index.listVersions('bkt1')),
        )
        expect(await collectPurges(other, 'bkt1')).toEqual(await collectPurges(index, 'bkt1'))
        expect(await other.list('bkt1')).toEqual(await index.list('bkt1'))
        expect((await index.list('bkt1')).objects.map((o) => [o.key, o.versionId])).toEqual([
          ['a', vid(10, 'node-b')],
          ['b/c', vid(1)],
          ['z', vid(3)],
          ['é', vid(12, 'node-b')],
        ])
      } finally {
        await common.teardown(other)
      }
    })

    it('refuses purges with a bad key or version id, and on a missing bucket', async () => {
      await expectCode(index.purgeVersion(purge('bkt1', 'a/../b', vid(1))), 'InvalidKey')
      await expectCode(index.purgeVersion(purge('bkt1', 'k', 'null')), 'InvalidVersionId')
      await expectCode(index.purgeVersion(purge('nope', 'k', vid(1))), 'NoSuchBucket')
      await expectCode(
        index.purgeVersion({ ...purge('bkt1', 'k', vid(1)), purgedAt: 'x' }),
        'InvalidArgument',
      )
      expect(await collectPurges(index, 'bkt1')).toEqual([])
    })

    it('stores null versions with their flag', async () => {
      const v = { ...content('bkt1', 'k', vid(1)), nullVersion: true as const }
      await index.putVersion(v)
      expect(await index.getCurrent('bkt1', 'k')).toEqual(v)
      await expectCode(index.putVersion(content('bkt1', 'k', vid(1))), 'VersionConflict')
    })

    it('creates buckets unversioned and changes versioning last writer wins', async () => {
      expect((await index.getBucket('bkt1')).versioning).toBe('Unversioned')
      await index.createBucket('bkt2', { group: G1, versioning: 'Enabled' })
      expect((await index.getBucket('bkt2')).versioning).toBe('Enabled')
      expect(await index.setBucketVersioning('bkt1', 'Enabled', vid(5))).toMatchObject({
        versioning: 'Enabled',
        versioningChangeId: vid(5),
      })
      expect((await index.setBucketVersioning('bkt1', 'Suspended', vid(4))).versioning).toBe('Enabled')
      expect((await index.setBucketVersioning('bkt1', 'Suspended', vid(6))).versioning).toBe('Suspended')
      expect(await index.getBucket('bkt1')).toMatchObject({
        versioning: 'Suspended',
        versioningChangeId: vid(6),
      })
      await expectCode(index.setBucketVersioning('bkt1', 'Unversioned', vid(7)), 'InvalidArgument')
      await expectCode(index.setBucketVersioning('bkt1', 'Enabled', 'x'), 'InvalidVersionId')
      await expectCode(index.setBucketVersioning('nope', 'Enabled', vid(8)), 'NoSuchBucket')
    })

    it('creates buckets without CORS and sets, replaces and deletes it last writer wins', async () => {
      const site: CorsConfiguration = {
        rules: [
          {
            id: 'site',
            allowedOrigins: ['https://example.com', 'https://*.example.com'],
            allowedMethods: ['GET', 'PUT'],
            allowedHeaders: ['*'],
            exposeHeaders: ['ETag'],
            maxAgeSeconds: 3000,
          },
        ],
      }
      const open: CorsConfiguration = {
        rules: [{ allowedOrigins: ['*'], allowedMethods: ['GET'], allowedHeaders: [], exposeHeaders: [] }],
      }
      const made = await index.getBucket('bkt1')
      expect(made.cors).toBeUndefined()
      expect(made.corsChangeId).toBeUndefined()

      expect(await index.setBucketCors('bkt1', site, vid(5))).toMatchObject({
        cors: site,
        corsChangeId: vid(5),
      })
      // An older change arriving late (from a replica) loses; the same id again changes nothing.
      expect((await index.setBucketCors('bkt1', open, vid(4))).cors).toEqual(site)
      expect((await index.setBucketCors('bkt1', undefined, vid(5))).cors).toEqual(site)
      expect((await index.setBucketCors('bkt1', open, vid(6))).cors).toEqual(open)
      // The versioning state is a register of its own.
      await index.setBucketVersioning('bkt1', 'Enabled', vid(7))
      expect(await index.getBucket('bkt1')).toMatchObject({
        cors: open,
        corsChangeId: vid(6),
        versioning: 'Enabled',
        group: G1,
      })

      // A deletion keeps its change id, so an older configuration cannot come back.
      const deleted = await index.setBucketCors('bkt1', undefined, vid(8))
      expect(deleted.cors).toBeUndefined()
      expect(deleted.corsChangeId).toBe(vid(8))
      expect((await index.setBucketCors('bkt1', site, vid(7))).cors).toBeUndefined()
      expect((await index.getBucket('bkt1')).cors).toBeUndefined()
      expect((await index.setBucketCors('bkt1', site, vid(9))).cors).toEqual(site)

      await expectCode(index.setBucketCors('bkt1', open, 'x'), 'InvalidVersionId')
      await expectCode(index.setBucketCors('nope', open, vid(10)), 'NoSuchBucket')
    })

    it('keeps its own copy of a CORS configuration', async () => {
      const cors: CorsConfiguration = {
        rules: [
          {
            allowedOrigins: ['https://a.example'],
            allowedMethods: ['GET'],
            allowedHeaders: [],
            exposeHeaders: [],
          },
        ],
      }
      const returned = await index.setBucketCors('bkt1', cors, vid(1))
      cors.rules[0]!.allowedOrigins.push('*')
      returned.cors!.rules[0]!.allowedMethods.push('DELETE')
      const read = await index.getBucket('bkt1')
      read.cors!.rules.push(read.cors!.rules[0]!)
      expect((await index.getBucket('bkt1')).cors).toEqual({
        rules: [
          {
            allowedOrigins: ['https://a.example'],
            allowedMethods: ['GET'],
            allowedHeaders: [],
            exposeHeaders: [],
          },
        ],
      })
      expect((await index.listBuckets())[0]!.cors!.rules).toHaveLength(1)
    })
  })

  runObjectListingTests(common)
  runObjectRangeTests(common)
}

async function collectPurges(index: ObjectIndex, bucket: string): Promise<PurgeRecord[]> {
  const out: PurgeRecord[] = []
  for await (const p of index.listPurges(bucket)) out.push(p)
  return out
}
