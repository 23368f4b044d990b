import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createS3App } from '../src/index.js'
import { LISTING_LIMITS, VISIBILITY_BUDGET } from '../src/listing.js'
import { RoleSubtreeAuthorizer } from '../src/s3/subtree-authorizer.js'
import { FakeSigV4Authenticator } from '../src/testing/index.js'
import {
  ACCESS_KEY,
  GROUP,
  READER_KEY,
  REALM,
  type S3Fixture,
  type Served,
  sdkClient,
  serve,
  startS3,
} from './s3-fixture.js'

/**
 * Issue 12 item 4: bob may READ the bucket but not `private/**`; alice (WRITE) may read everything.
 * No listing shows bob anything of `private/`: keys, sizes, ETags, version ids, upload ids, common
 * prefixes, markers, continuation tokens, across pages of every size.
 */
const BUCKET = 'vis'
const HIDDEN = Array.from({ length: 25 }, (_, i) => `private/${String(i).padStart(2, '0')}`)
const NESTED = ['private/deep/1', 'private/deep/2']
const VISIBLE = ['a', 'b/1', 'b/2', 'pr', 'privatex', 'q/p/1', 'z']
const ALL = [...VISIBLE, ...HIDDEN, ...NESTED].sort()
/** Keys with a current version (`private/01` gets a delete marker). */
const CURRENT = ALL.filter((key) => key !== 'private/01')
const UPLOADS = ['b/up', 'private/up', 'private/up2', 'z-up']

let s3: S3Fixture
let alice: S3Client
let bob: S3Client
let subtree: Served
let aliceSubtree: S3Client
let bobSubtree: S3Client

beforeAll(async () => {
  s3 = await startS3()
  s3.authorizer.deny('bob', `/${REALM}/g/${GROUP}/data/${BUCKET}/private/**`)
  alice = sdkClient(s3.endpoint)
  bob = sdkClient(s3.endpoint, { accessKeyId: READER_KEY })
  await alice.send(new CreateBucketCommand({ Bucket: BUCKET }))
  await alice.send(
    new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }),
  )
  for (const key of ALL)
    await alice.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `body of ${key}` }))
  for (const key of ['a', 'private/00', 'private/03']) {
    await alice.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'again' }))
  }
  await alice.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'private/01' }))
  for (const key of UPLOADS) await alice.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }))
  // The same node's data behind an authorizer that answers for whole directories too.
  const app = createS3App({
    engine: s3.engine,
    authorizer: new RoleSubtreeAuthorizer(s3.authorizer, s3.authorizer),
    authenticator: new FakeSigV4Authenticator({ users: { [ACCESS_KEY]: 'alice', [READER_KEY]: 'bob' } }),
    realm: REALM,
    defaultGroup: () => GROUP,
  })
  subtree = await serve(app)
  aliceSubtree = sdkClient(subtree.endpoint)
  bobSubtree = sdkClient(subtree.endpoint, { accessKeyId: READER_KEY })
})

afterAll(async () => {
  for (const client of [alice, bob, aliceSubtree, bobSubtree]) client?.destroy()
  await subtree?.close()
  await s3?.close()
})

/** What a listing reveals, as text: no part of it may mention a hidden key. */
function leaks(response: object): boolean {
  const { $metadata: _, ...body } = response as Record<string, unknown>
  const text = JSON.stringify(body)
  const tokens = [...text.matchAll(/"(?:NextContinuationToken|ContinuationToken)":"([^"]+)"/g)].map((m) =>
    Buffer.from(m[1]!, 'base64url').toString('utf8'),
  )
  return text.includes('private/') || tokens.some((t) => t.includes('private/'))
}

async function listV2(client: S3Client, maxKeys: number, delimiter?: string): Promise<string[]> {
  const seen: string[] = []
  let token: string | undefined
  for (let page = 0; page < 200; page++) {
    const result = await client.send(
      new ListObjectsV2Command({
        Bucket: BUCKET,
        MaxKeys: maxKeys,
        ...(delimiter !== undefined ? { Delimiter: delimiter } : {}),
        ...(token !== undefined ? { ContinuationToken: token } : {}),
      }),
    )
    if (client === bob || client === bobSubtree) expect(leaks(result)).toBe(false)
    expect(result.KeyCount).toBe((result.Contents?.length ?? 0) + (result.CommonPrefixes?.length ?? 0))
    expect(result.KeyCount).toBeLessThanOrEqual(maxKeys)
    // A page is filled with visible keys unless it is the last.
    if (result.IsTruncated === true) expect(result.KeyCount).toBe(maxKeys)
    seen.push(
      ...(result.Contents ?? []).map((o) => o.Key!),
      ...(result.CommonPrefixes ?? []).map((p) => p.Prefix!),
    )
    if (result.IsTruncated !== true) return seen.sort()
    token = result.NextContinuationToken
  }
  throw new Error('too many pages')
}

async function listV1(client: S3Client, maxKeys: number, delimiter?: string): Promise<string[]> {
  const seen: string[] = []
  let marker: string | undefined
  for (let page = 0; page < 200; page++) {
    const result = await client.send(
      new ListObjectsCommand({
        Bucket: BUCKET,
        MaxKeys: maxKeys,
        ...(delimiter !== undefined ? { Delimiter: delimiter } : {}),
        ...(marker !== undefined ? { Marker: marker } : {}),
      }),
    )
    if (client === bob || client === bobSubtree) expect(leaks(result)).toBe(false)
    const names = [
      ...(result.Contents ?? []).map((o) => o.Key!),
      ...(result.CommonPrefixes ?? []).map((p) => p.Prefix!),
    ]
    if (result.IsTruncated === true) expect(names.length).toBe(maxKeys)
    seen.push(...names)
    if (result.IsTruncated !== true) return seen.sort()
    marker = result.NextMarker
  }
  throw new Error('too many pages')
}

async function listVersions(client: S3Client, maxKeys: number, delimiter?: string): Promise<string[]> {
  const seen: string[] = []
  let keyMarker: string | undefined
  let versionIdMarker: string | undefined
  for (let page = 0; page < 200; page++) {
    const result = await client.send(
      new ListObjectVersionsCommand({
        Bucket: BUCKET,
        MaxKeys: maxKeys,
        ...(delimiter !== undefined ? { Delimiter: delimiter } : {}),
        ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
        ...(versionIdMarker !== undefined ? { VersionIdMarker: versionIdMarker } : {}),
      }),
    )
    if (client === bob || client === bobSubtree) expect(leaks(result)).toBe(false)
    const names = [
      ...(result.Versions ?? []).map((v) => `${v.Key}@${v.VersionId}`),
      ...(result.DeleteMarkers ?? []).map((v) => `${v.Key}@${v.VersionId}!`),
      ...(result.CommonPrefixes ?? []).map((p) => p.Prefix!),
    ]
    // Full unless the budget ran out among hidden entries (lowered in one test).
    if (result.IsTruncated === true && !result.NextKeyMarker?.startsWith('s.'))
      expect(names.length).toBe(maxKeys)
    seen.push(...names)
    if (result.IsTruncated !== true) return seen.sort()
    keyMarker = result.NextKeyMarker
    versionIdMarker = result.NextVersionIdMarker
  }
  throw new Error('too many pages')
}

async function listUploads(client: S3Client, maxUploads: number, delimiter?: string): Promise<string[]> {
  const seen: string[] = []
  let keyMarker: string | undefined
  let uploadIdMarker: string | undefined
  for (let page = 0; page < 200; page++) {
    const result = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: BUCKET,
        MaxUploads: maxUploads,
        ...(delimiter !== undefined ? { Delimiter: delimiter } : {}),
        ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
        ...(uploadIdMarker !== undefined ? { UploadIdMarker: uploadIdMarker } : {}),
      }),
    )
    if (client === bob || client === bobSubtree) expect(leaks(result)).toBe(false)
    const names = [
      ...(result.Uploads ?? []).map((u) => `${u.Key}#${u.UploadId}`),
      ...(result.CommonPrefixes ?? []).map((p) => p.Prefix!),
    ]
    // Full unless the budget ran out among hidden entries (lowered in one test).
    if (result.IsTruncated === true && !result.NextKeyMarker?.startsWith('s.'))
      expect(names.length).toBe(maxUploads)
    seen.push(...names)
    if (result.IsTruncated !== true) return seen.sort()
    keyMarker = result.NextKeyMarker
    uploadIdMarker = result.NextUploadIdMarker
  }
  throw new Error('too many pages')
}

const rolledUp = (keys: readonly string[]): string[] =>
  [...new Set(keys.map((k) => (k.includes('/') ? k.slice(0, k.indexOf('/') + 1) : k)))].sort()

const isHidden = (name: string): boolean => name.startsWith('private/')

describe.each([
  ['per-key checks', false],
  ['directory answers', true],
])('listings (%s)', (_name, directories) => {
  const users = () => (directories ? { alice: aliceSubtree, bob: bobSubtree } : { alice, bob })
  describe.each([1, 2, 1000])('max-keys %i', (maxKeys) => {
    it.each([undefined, '/'])(
      'ListObjectsV2 (delimiter %s): bob sees no private/, alice everything',
      async (delimiter) => {
        const expectAll = delimiter === undefined ? CURRENT : rolledUp(CURRENT)
        const expectBob = delimiter === undefined ? VISIBLE : rolledUp(VISIBLE)
        expect(await listV2(users().bob, maxKeys, delimiter)).toEqual([...expectBob].sort())
        expect(await listV2(users().alice, maxKeys, delimiter)).toEqual([...expectAll].sort())
      },
    )

    it.each([undefined, '/'])(
      'ListObjects v1 (delimiter %s): bob sees no private/, alice everything',
      async (delimiter) => {
        const expectAll = delimiter === undefined ? CURRENT : rolledUp(CURRENT)
        const expectBob = delimiter === undefined ? VISIBLE : rolledUp(VISIBLE)
        expect(await listV1(users().bob, maxKeys, delimiter)).toEqual([...expectBob].sort())
        expect(await listV1(users().alice, maxKeys, delimiter)).toEqual([...expectAll].sort())
      },
    )

    it.each([undefined, '/'])(
      'ListObjectVersions (delimiter %s): no private/ version or marker',
      async (delimiter) => {
        const all = await listVersions(users().alice, maxKeys, delimiter)
        expect(all.some(isHidden)).toBe(true)
        expect(await listVersions(users().bob, maxKeys, delimiter)).toEqual(
          all.filter((name) => !isHidden(name)),
        )
      },
    )

    it.each([undefined, '/'])(
      'ListMultipartUploads (delimiter %s): no private/ upload',
      async (delimiter) => {
        const all = await listUploads(users().alice, maxKeys, delimiter)
        expect(all.some(isHidden)).toBe(true)
        expect(await listUploads(users().bob, maxKeys, delimiter)).toEqual(
          all.filter((name) => !isHidden(name)),
        )
      },
    )
  })
})

describe('listings under a hidden prefix', () => {
  it('answers an empty page for prefix=private/, and hides a marker inside it', async () => {
    const v2 = await bob.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'private/' }))
    expect(v2.Contents ?? []).toEqual([])
    expect(v2.IsTruncated).toBe(false)
    const after = await bob.send(
      new ListObjectsV2Command({ Bucket: BUCKET, StartAfter: 'private/05', MaxKeys: 1 }),
    )
    expect(after.Contents?.map((o) => o.Key)).toEqual(['privatex'])
    const versions = await bob.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: 'private/' }))
    expect(versions.Versions ?? []).toEqual([])
    expect(versions.DeleteMarkers ?? []).toEqual([])
    const uploads = await bob.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'private/' }))
    expect(uploads.Uploads ?? []).toEqual([])
  })
})

describe('authorization cost', () => {
  it('checks once per listing for a caller who may read the bucket, when directories can be answered', async () => {
    s3.authorizer.calls.length = 0
    const page = await aliceSubtree.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 1000 }))
    expect(page.KeyCount).toBe(CURRENT.length)
    expect(s3.authorizer.calls).toHaveLength(1)
    s3.authorizer.calls.length = 0
    await aliceSubtree.send(new ListObjectVersionsCommand({ Bucket: BUCKET }))
    await aliceSubtree.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))
    expect(s3.authorizer.calls).toHaveLength(2)
  })

  it('skips the denied directory instead of checking its keys one by one', async () => {
    s3.authorizer.calls.length = 0
    const page = await bobSubtree.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 1000 }))
    expect(page.KeyCount).toBe(VISIBLE.length)
    // The bucket, the visible keys, and one hidden key before the jump.
    expect(s3.authorizer.calls.length).toBeLessThanOrEqual(1 + VISIBLE.length + 1)
  })
})

describe('bounded work among hidden versions and uploads', () => {
  it('ends a page early with a sealed marker, and the pages still show every visible entry', async () => {
    for (let i = 0; i < 6; i++) {
      await alice.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `private/more-${i}` }))
    }
    const expectedVersions = (await listVersions(alice, 1000)).filter((name) => !isHidden(name))
    const expectedUploads = (await listUploads(alice, 1000)).filter((name) => !isHidden(name))
    LISTING_LIMITS.budget = 3
    try {
      for (const maxKeys of [1, 2, 1000]) {
        for (const delimiter of [undefined, '/']) {
          const versions = await listVersions(bob, maxKeys, delimiter)
          const uploads = await listUploads(bob, maxKeys, delimiter)
          if (delimiter === undefined) {
            expect(versions).toEqual(expectedVersions)
            expect(uploads).toEqual(expectedUploads)
          }
        }
      }
      const early = await bob.send(new ListObjectVersionsCommand({ Bucket: BUCKET, KeyMarker: 'pr' }))
      expect(early.IsTruncated).toBe(true)
      expect(early.NextKeyMarker?.startsWith('s.')).toBe(true)
      expect(early.NextVersionIdMarker).toBeUndefined()
      const resumed = await bob.send(
        new ListObjectVersionsCommand({ Bucket: BUCKET, KeyMarker: early.NextKeyMarker! }),
      )
      expect(resumed.KeyMarker).toBe(early.NextKeyMarker)
      expect(leaks(resumed)).toBe(false)
      const uploads = await bob.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, KeyMarker: 'pr' }))
      expect(uploads.IsTruncated).toBe(true)
      expect(uploads.NextKeyMarker?.startsWith('s.')).toBe(true)
      expect(leaks(uploads)).toBe(false)
    } finally {
      LISTING_LIMITS.budget = VISIBILITY_BUDGET
    }
  })
})
