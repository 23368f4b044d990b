import { CreateBucketCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ArunaNode } from '../src/node.js'
import { readOperatorFile } from '../src/services/operator-file.js'
import { type OneNode, restCall, startOneNode } from './one-node.js'

describe('buckets over REST', () => {
  let one: OneNode
  let node: ArunaNode
  let realm: string
  let admin: string
  let group: string
  let readerId: string
  let reader: string

  const call = (method: string, path: string, token: string, body?: unknown) =>
    restCall(node, method, path, token, body)

  beforeAll(async () => {
    one = await startOneNode('aruna-buckets-')
    node = one.node
    realm = node.realm?.realmId ?? ''
    admin = (await readOperatorFile(one.dir))?.token ?? ''
    group = (await call('POST', '/v1/groups', admin, { name: 'lab' })).body.id
    const store = node.federation?.store
    if (!store) throw new Error('not running')
    readerId = (await store.registerUser({ issuer: 'https://idp.example', subject: 'r', displayName: 'r' }))
      .user.id
    reader = await node.mintToken(readerId)
    const role = await call('POST', '/v1/roles', admin, {
      name: 'bucket-readers',
      rules: [
        { pattern: `/${realm}/g/${group}/data/**`, permission: 'READ' },
        { pattern: `/${realm}/g/${group}/data/hidden-*`, permission: 'DENY' },
      ],
    })
    await call('POST', `/v1/roles/${role.body.id}/members`, admin, { user: readerId })
  }, 60_000)

  afterAll(async () => {
    await one?.stop()
  })

  it('creates, shows, lists and deletes a bucket the S3 API serves', async () => {
    const made = await call('POST', '/v1/buckets', admin, { name: 'raw-data', group })
    expect(made.status).toBe(201)
    expect(made.body).toMatchObject({ name: 'raw-data', group, versioning: 'Unversioned' })
    expect((await call('POST', '/v1/buckets', admin, { name: 'raw-data', group })).status).toBe(409)
    expect((await call('GET', '/v1/buckets/raw-data', admin)).body.name).toBe('raw-data')

    // The S3 API serves the same bucket.
    const key = (await call('POST', '/v1/keys', admin, {})).body
    const s3 = new S3Client({
      endpoint: node.s3Url as string,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    })
    const names = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)
    expect(names).toContain('raw-data')
    await s3.send(new CreateBucketCommand({ Bucket: 'from-s3' }))
    expect(
      (await call('GET', '/v1/buckets', admin)).body.buckets.map((b: { name: string }) => b.name),
    ).toEqual(expect.arrayContaining(['raw-data', 'from-s3']))
    s3.destroy()

    expect((await call('DELETE', '/v1/buckets/raw-data', admin)).status).toBe(204)
    expect((await call('GET', '/v1/buckets/raw-data', admin)).status).toBe(404)
  })

  it('authorizes on the bucket path: READ shows, WRITE is needed to change, DENY hides as absent', async () => {
    for (const name of ['shared-1', 'hidden-1'])
      expect((await call('POST', '/v1/buckets', admin, { name, group })).status).toBe(201)
    expect((await call('GET', '/v1/buckets/shared-1', reader)).status).toBe(200)
    expect((await call('DELETE', '/v1/buckets/shared-1', reader)).status).toBe(403)
    expect((await call('POST', '/v1/buckets', reader, { name: 'mine-1', group })).status).toBe(403)
    const absent = await call('GET', '/v1/buckets/never-was', reader)
    const hidden = await call('GET', '/v1/buckets/hidden-1', reader)
    expect(hidden.status).toBe(404)
    expect(hidden.body.detail.replace('hidden-1', 'X')).toBe(absent.body.detail.replace('never-was', 'X'))
    expect((await call('DELETE', '/v1/buckets/hidden-1', reader)).status).toBe(404)
    const listed = (await call('GET', '/v1/buckets', reader)).body.buckets.map(
      (b: { name: string }) => b.name,
    )
    expect(listed).toContain('shared-1')
    expect(listed).not.toContain('hidden-1')
    expect((await call('POST', '/v1/buckets', admin, { name: 'Bad_Name', group })).status).toBe(400)
  })

  it('refuses to delete a bucket that holds objects, and says so', async () => {
    expect((await call('POST', '/v1/buckets', admin, { name: 'full-1', group })).status).toBe(201)
    const key = (await call('POST', '/v1/keys', admin, {})).body
    const s3 = new S3Client({
      endpoint: node.s3Url as string,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    })
    await s3.send(new PutObjectCommand({ Bucket: 'full-1', Key: 'a.txt', Body: 'x' }))
    s3.destroy()
    const refused = await call('DELETE', '/v1/buckets/full-1', admin)
    expect(refused.status).toBe(409)
    expect(refused.body.detail).toBe('bucket full-1 is not empty: delete its objects first')
    const again = await call('POST', '/v1/buckets', admin, { name: 'full-1', group })
    expect(again.status).toBe(409)
    expect(again.body.detail).toBe('a bucket full-1 exists already in the realm')
    expect((await call('DELETE', '/v1/buckets/never-was', admin)).status).toBe(404)
  })
})
