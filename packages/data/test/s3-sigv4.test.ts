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
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
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
/** Group ids are ULIDs: alice may write in GROUP (the default group), bob in OTHER_GROUP. */
const GROUP = '01JAAAAAAAAAAAAAAAAAAAAAAA'
const OTHER_GROUP = '01JBBBBBBBBBBBBBBBBBBBBBBB'

type Key = { accessKeyId: string; secretAccessKey: string }
type GroupHeader = 'signed' | 'added-after-signing'

/** Puts `x-aruna-group: group` on every request of `client`, before the signer runs or after it. */
function sendGroup(client: S3Client, group: string, when: GroupHeader): S3Client {
  const addHeader =
    <T>(next: (args: T) => Promise<unknown>) =>
    (args: T) => {
      ;(args as { request: { headers: Record<string, string> } }).request.headers['x-aruna-group'] = group
      return next(args)
    }
  // build runs before the signer (finalizeRequest); deserialize gets the request as signed.
  if (when === 'signed')
    client.middlewareStack.add(addHeader as never, { step: 'build', name: 'arunaGroupHeader' })
  else
    client.middlewareStack.add(addHeader as never, {
      step: 'deserialize',
      name: 'arunaGroupHeaderAfterSigning',
    })
  return client
}

describe('S3 API with real SigV4 verification', () => {
  let dir: string
  let server: Served
  let engine: ObjectEngine
  let key: Key
  let bobKey: Key

  function client(
    secret = key.secretAccessKey,
    extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {},
    accessKeyId = key.accessKeyId,
  ) {
    return new S3Client({
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId, secretAccessKey: secret },
      maxAttempts: 1,
      ...extra,
    })
  }

  /** A presigned CreateBucket URL; `headers` are signed into it (X-Amz-SignedHeaders). */
  async function presignCreate(bucket: string, headers: Record<string, string> = {}): Promise<string> {
    const { hostname, port } = new URL(server.endpoint)
    const signer = new SignatureV4({
      credentials: key,
      region: 'us-east-1',
      service: 's3',
      sha256: Hash.bind(null, 'sha256'),
      uriEscapePath: false,
    })
    const signed = await signer.presign(
      {
        method: 'PUT',
        protocol: 'http:',
        hostname,
        port: Number(port),
        path: `/${bucket}`,
        query: {},
        // The presigner's own spelling: hoisted into the query, so the payload is signed as unsigned.
        headers: { host: `${hostname}:${port}`, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', ...headers },
      } as never,
      { expiresIn: 300 },
    )
    const query = new URLSearchParams(signed.query as Record<string, string>).toString()
    return `${server.endpoint}/${bucket}?${query}`
  }

  const groupOf = async (bucket: string) => (await engine.getBucket(bucket)).group

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aruna-s3-sigv4-'))
    const keys = new EncryptedAccessKeyStore({
      records: new MemoryAccessKeyRecords(),
      encryptionKey: generateAccessKeyEncryptionKey(),
    })
    key = await keys.create('alice')
    bobKey = await keys.create('bob')
    engine = new ObjectEngine({
      index: new MemoryObjectIndex(),
      blobs: await FsBlobStore.open({ directory: join(dir, 'blobs') }),
      uploads: await FsMultipartStore.open({ directory: join(dir, 'uploads') }),
      clock: new HybridLogicalClock('node-a'),
    })
    const app = createS3App({
      engine,
      authorizer: new MemoryAuthorizer()
        .allow('alice', 'WRITE', `/${REALM}/g/${GROUP}/**`)
        .allow('bob', 'WRITE', `/${REALM}/g/${OTHER_GROUP}/**`),
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

  it('accepts presigned URLs valid for 1 s to 7 days and refuses other X-Amz-Expires with 400 AuthorizationQueryParametersError', async () => {
    const { hostname, port } = new URL(server.endpoint)
    const presignGet = async (expiresIn: number) => {
      const signer = new SignatureV4({
        credentials: key,
        region: 'us-east-1',
        service: 's3',
        sha256: Hash.bind(null, 'sha256'),
        uriEscapePath: false,
      })
      const signed = await signer.presign(
        {
          method: 'GET',
          protocol: 'http:',
          hostname,
          port: Number(port),
          path: '/signed/plain.txt',
          query: {},
          headers: { host: `${hostname}:${port}`, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
        } as never,
        { expiresIn },
      )
      return `${server.endpoint}/signed/plain.txt?${new URLSearchParams(signed.query as Record<string, string>)}`
    }
    const week = await fetch(await presignGet(604_800))
    expect(week.status).toBe(200)
    expect(await week.text()).toBe('hello')
    const url = await presignGet(300)
    for (const expires of ['0', '604801', '-1', 'abc', '']) {
      const refused = await fetch(url.replace('X-Amz-Expires=300', `X-Amz-Expires=${expires}`))
      expect(refused.status).toBe(400)
      const text = await refused.text()
      expect(text).toContain('<Code>AuthorizationQueryParametersError</Code>')
      expect(text).not.toContain(' at ')
    }
  })

  describe('the group of a new bucket (x-aruna-group)', () => {
    it('creates the bucket in the default group when no header is sent', async () => {
      expect(await groupOf('signed')).toBe(GROUP)
    })

    it('creates the bucket in a group named by a signed header, for a user who may write there', async () => {
      await sendGroup(client(), GROUP, 'signed').send(new CreateBucketCommand({ Bucket: 'in-header' }))
      expect(await groupOf('in-header')).toBe(GROUP)
      const url = await presignCreate('presigned-header', { 'x-aruna-group': GROUP })
      expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-aruna-group')
      const response = await fetch(url, { method: 'PUT', headers: { 'x-aruna-group': GROUP } })
      expect(response.status).toBe(200)
      expect(await groupOf('presigned-header')).toBe(GROUP)
    })

    it('refuses a group header added after signing, and creates nothing', async () => {
      const tampered = sendGroup(client(), OTHER_GROUP, 'added-after-signing')
      const refused = await tampered.send(new CreateBucketCommand({ Bucket: 'tampered' })).then(
        () => undefined,
        (err: unknown) => err,
      )
      expect(refused).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })
      expect((refused as Error).message).toContain('x-aruna-group header must be signed')
      // Even naming a group the caller may write in: the header was not what was signed.
      await expect(
        sendGroup(client(), GROUP, 'added-after-signing').send(
          new CreateBucketCommand({ Bucket: 'tampered' }),
        ),
      ).rejects.toMatchObject({ name: 'AccessDenied' })
      const url = await presignCreate('tampered')
      const response = await fetch(url, { method: 'PUT', headers: { 'x-aruna-group': GROUP } })
      expect(response.status).toBe(403)
      expect(await response.text()).toContain('The x-aruna-group header must be signed')
      await expect(engine.getBucket('tampered')).rejects.toMatchObject({ code: 'NoSuchBucket' })
    })

    it('refuses a bucket in a group the user may not write, and leaves the name to its members', async () => {
      const alice = sendGroup(client(), OTHER_GROUP, 'signed')
      await expect(alice.send(new CreateBucketCommand({ Bucket: 'squat' }))).rejects.toMatchObject({
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      })
      await expect(engine.getBucket('squat')).rejects.toMatchObject({ code: 'NoSuchBucket' })
      const bob = sendGroup(client(bobKey.secretAccessKey, {}, bobKey.accessKeyId), OTHER_GROUP, 'signed')
      await bob.send(new CreateBucketCommand({ Bucket: 'squat' }))
      expect(await groupOf('squat')).toBe(OTHER_GROUP)
    })

    it.each([
      ['a path into another bucket', `${GROUP}/data/signed`],
      ['a wildcard', '*'],
      ['a dot-dot segment', '..'],
      ['empty', ''],
      ['not a ULID', 'group-a'],
    ])('refuses a signed group header that is %s', async (_, group) => {
      const refused = await sendGroup(client(), group, 'signed')
        .send(new CreateBucketCommand({ Bucket: 'bad-group' }))
        .then(
          () => undefined,
          (err: unknown) => err,
        )
      expect(refused).toMatchObject({ name: 'InvalidArgument', $metadata: { httpStatusCode: 400 } })
      await expect(engine.getBucket('bad-group')).rejects.toMatchObject({ code: 'NoSuchBucket' })
    })
  })
})
