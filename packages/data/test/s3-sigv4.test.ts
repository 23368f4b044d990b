import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  EncryptedAccessKeyStore,
  generateAccessKeyEncryptionKey,
  MemoryAccessKeyRecords,
  MemoryAuthorizer,
  SigV4Verifier,
} from '@aruna/auth'
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createS3App,
  FsBlobStore,
  FsMultipartStore,
  HybridLogicalClock,
  MemoryObjectIndex,
  ObjectEngine,
  SigV4S3Authenticator,
} from '../src/index.js'
import { type Served, serve } from './s3-fixture.js'

const REALM = 'realm1'
const GROUP = 'group-a'

describe('S3 API with real SigV4 verification', () => {
  let dir: string
  let server: Served
  let key: { accessKeyId: string; secretAccessKey: string }

  function client(
    secret = key.secretAccessKey,
    extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {},
  ) {
    return new S3Client({
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: secret },
      ...extra,
    })
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aruna-s3-sigv4-'))
    const keys = new EncryptedAccessKeyStore({
      records: new MemoryAccessKeyRecords(),
      encryptionKey: generateAccessKeyEncryptionKey(),
    })
    key = await keys.create('alice')
    const engine = new ObjectEngine({
      index: new MemoryObjectIndex(),
      blobs: await FsBlobStore.open({ directory: join(dir, 'blobs') }),
      uploads: await FsMultipartStore.open({ directory: join(dir, 'uploads') }),
      clock: new HybridLogicalClock('node-a'),
    })
    const app = createS3App({
      engine,
      authorizer: new MemoryAuthorizer().allow('alice', 'WRITE', `/${REALM}/g/${GROUP}/**`),
      authenticator: new SigV4S3Authenticator(new SigV4Verifier({ keys })),
      realm: REALM,
      defaultGroup: () => GROUP,
    })
    server = await serve(app)
    await client().send(new CreateBucketCommand({ Bucket: 'signed' }))
  })

  afterAll(async () => {
    await server?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('accepts the SDK default (aws-chunked with a CRC32 trailer) and WHEN_REQUIRED uploads', async () => {
    const body = new Uint8Array(300_000).map((_, i) => (i * 31) % 251)
    await client().send(new PutObjectCommand({ Bucket: 'signed', Key: 'a b/é&+.bin', Body: body }))
    const whenRequired = client(undefined, { requestChecksumCalculation: 'WHEN_REQUIRED' })
    await whenRequired.send(new PutObjectCommand({ Bucket: 'signed', Key: 'plain.txt', Body: 'hello' }))
    const got = await client().send(new GetObjectCommand({ Bucket: 'signed', Key: 'a b/é&+.bin' }))
    const bytes = await got.Body!.transformToByteArray()
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(
      createHash('sha256').update(body).digest('hex'),
    )
    const list = await client().send(new ListObjectsV2Command({ Bucket: 'signed' }))
    expect(list.Contents?.map((o) => o.Key)).toEqual(['a b/é&+.bin', 'plain.txt'])
  })

  it('refuses a request signed with the wrong secret, and stores nothing', async () => {
    const wrong = client('x'.repeat(40))
    await expect(
      wrong.send(new PutObjectCommand({ Bucket: 'signed', Key: 'nope', Body: 'x' })),
    ).rejects.toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } })
    await expect(
      client().send(new GetObjectCommand({ Bucket: 'signed', Key: 'nope' })),
    ).rejects.toMatchObject({
      name: 'NoSuchKey',
    })
  })

  it('refuses an unknown access key and an unsigned request', async () => {
    const stranger = new S3Client({
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKAAAAAAAAAAAAAAAAAA', secretAccessKey: 'y'.repeat(40) },
    })
    await expect(stranger.send(new ListObjectsV2Command({ Bucket: 'signed' }))).rejects.toMatchObject({
      name: 'InvalidAccessKeyId',
    })
    const anonymous = await fetch(`${server.endpoint}/signed/plain.txt`)
    expect(anonymous.status).toBe(403)
    expect(await anonymous.text()).toContain('<Code>AccessDenied</Code>')
  })
})
