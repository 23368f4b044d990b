import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type S3Fixture, sdkClient, startS3 } from './s3-fixture.js'

let s3: S3Fixture

beforeAll(async () => {
  s3 = await startS3()
})

afterAll(async () => {
  await s3?.close()
})

describe.each([
  ['default checksums', false],
  ['WHEN_REQUIRED', true],
])('bucket versioning and deleting versions with the AWS SDK (%s)', (_mode, whenRequired) => {
  let client: S3Client
  let n = 0
  const fresh = async (): Promise<string> => {
    const bucket = `ver-${whenRequired ? 'w' : 'd'}-${n++}`
    await client.send(new CreateBucketCommand({ Bucket: bucket }))
    return bucket
  }
  const put = (bucket: string, key: string, body: string) =>
    client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
  const text = async (bucket: string, key: string, versionId?: string) =>
    (
      await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }))
    ).Body!.transformToString()
  const versions = async (bucket: string) => {
    const listed = await client.send(new ListObjectVersionsCommand({ Bucket: bucket }))
    return [
      ...(listed.Versions ?? []).map((v) => ({
        key: v.Key,
        id: v.VersionId,
        latest: v.IsLatest,
        marker: false,
      })),
      ...(listed.DeleteMarkers ?? []).map((v) => ({
        key: v.Key,
        id: v.VersionId,
        latest: v.IsLatest,
        marker: true,
      })),
    ]
  }

  beforeAll(() => {
    client = sdkClient(s3.endpoint, { whenRequired })
  })

  it('starts a bucket unversioned: an overwrite replaces the null version, a delete removes it', async () => {
    const bucket = await fresh()
    expect((await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBeUndefined()
    expect((await put(bucket, 'k', 'one')).VersionId).toBe('null')
    await put(bucket, 'k', 'two')
    expect(await text(bucket, 'k')).toBe('two')
    expect(await text(bucket, 'k', 'null')).toBe('two')
    expect(await versions(bucket)).toEqual([{ key: 'k', id: 'null', latest: true, marker: false }])
    const deleted = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }))
    expect(deleted.DeleteMarker).toBeUndefined()
    expect(await versions(bucket)).toEqual([])
    await client.send(new DeleteBucketCommand({ Bucket: bucket }))
  })

  it('keeps every version when Enabled and removes one for good by id, delete markers too', async () => {
    const bucket = await fresh()
    await client.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    )
    expect((await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Enabled')
    const v1 = (await put(bucket, 'k', 'one')).VersionId!
    const v2 = (await put(bucket, 'k', 'two')).VersionId!
    expect(v1).not.toBe('null')
    const removed = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v2 }))
    expect(removed.VersionId).toBe(v2)
    expect(await text(bucket, 'k')).toBe('one')
    await expect(text(bucket, 'k', v2)).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } })
    const marker = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }))
    expect(marker.DeleteMarker).toBe(true)
    await expect(text(bucket, 'k')).rejects.toMatchObject({ name: 'NoSuchKey' })
    const unmarked = await client.send(
      new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: marker.VersionId! }),
    )
    expect(unmarked.DeleteMarker).toBe(true)
    expect(await text(bucket, 'k')).toBe('one')
    expect(await versions(bucket)).toEqual([{ key: 'k', id: v1, latest: true, marker: false }])
    await expect(
      client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: 'not-a-version' })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } })
  })

  it('writes null versions when Suspended, keeping the versions from before', async () => {
    const bucket = await fresh()
    await client.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    )
    const kept = (await put(bucket, 'k', 'kept')).VersionId!
    await client.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }),
    )
    expect((await client.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status).toBe('Suspended')
    expect((await put(bucket, 'k', 'a')).VersionId).toBe('null')
    await put(bucket, 'k', 'b')
    expect(await versions(bucket)).toEqual([
      { key: 'k', id: 'null', latest: true, marker: false },
      { key: 'k', id: kept, latest: false, marker: false },
    ])
    const marker = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }))
    expect(marker).toMatchObject({ DeleteMarker: true, VersionId: 'null' })
    expect(await versions(bucket)).toEqual([
      { key: 'k', id: kept, latest: false, marker: false },
      { key: 'k', id: 'null', latest: true, marker: true },
    ])
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: 'null' }))
    expect(await text(bucket, 'k')).toBe('kept')
  })

  it('empties a versioned bucket with DeleteObjects by version id, as rclone purge does', async () => {
    const bucket = await fresh()
    await client.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    )
    for (const key of ['a', 'b/c', 'b/d']) {
      await put(bucket, key, `${key}1`)
      await put(bucket, key, `${key}2`)
    }
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a' }))
    const all = await versions(bucket)
    expect(all).toHaveLength(7)
    const result = await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: all.map((v) => ({ Key: v.key!, VersionId: v.id! })) },
      }),
    )
    expect(result.Errors ?? []).toEqual([])
    expect(result.Deleted).toHaveLength(7)
    expect(result.Deleted!.filter((d) => d.DeleteMarker === true)).toHaveLength(1)
    expect(await versions(bucket)).toEqual([])
    await client.send(new DeleteBucketCommand({ Bucket: bucket }))
  })

  it('refuses a versioning configuration without a valid status', async () => {
    const bucket = await fresh()
    await expect(
      client.send(
        new PutBucketVersioningCommand({
          Bucket: bucket,
          VersioningConfiguration: { Status: 'Off' as 'Enabled' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'MalformedXML' })
  })
})
