import { createHash } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketAclCommand,
  GetBucketLocationCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  type Grant,
  HeadBucketCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketAclCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GROUP, rawAuthHeaders, type S3Fixture, sdkClient, startS3 } from './s3-fixture.js'

const BUCKET = 'operations'
/** The fixture's largest single PUT, small so the limit is cheap to reach. */
const MAX_PUT = 64 * 1024
let s3: S3Fixture
let client: S3Client

beforeAll(async () => {
  s3 = await startS3({ maxPutSize: MAX_PUT })
  client = sdkClient(s3.endpoint)
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }))
})

afterAll(async () => {
  await s3?.close()
})

interface RawAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  code: string | undefined
}

/**
 * One raw HTTP request with test-double SigV4 headers. A body given as pieces goes out with
 * `Transfer-Encoding: chunked` and no Content-Length (what Node does when none is set).
 */
function raw(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; pieces?: Uint8Array[]; body?: string } = {},
): Promise<RawAnswer> {
  const url = new URL(path, s3.endpoint)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        headers: {
          ...rawAuthHeaders(),
          ...(options.body !== undefined
            ? { 'content-length': String(Buffer.byteLength(options.body)) }
            : {}),
          ...options.headers,
        },
      },
      (res) => {
        const parts: Buffer[] = []
        res.on('data', (piece: Buffer) => parts.push(piece))
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8')
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1],
          })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    if (options.body !== undefined) req.end(options.body)
    else if (options.pieces !== undefined) {
      for (const piece of options.pieces) req.write(piece)
      req.end()
    } else req.end()
  })
}

describe('PutObject with Transfer-Encoding: chunked (no Content-Length)', () => {
  it('stores the body and answers its MD5 ETag', async () => {
    const pieces = [Buffer.from('hello '), Buffer.from('chunked '), Buffer.from('world')]
    const put = await raw('PUT', `/${BUCKET}/chunked.txt`, { pieces })
    expect(put.status).toBe(200)
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'chunked.txt' }))
    expect(await got.Body!.transformToString()).toBe('hello chunked world')
    expect(got.ContentLength).toBe(19)
    expect(put.headers.etag).toBe(`"${createHash('md5').update('hello chunked world').digest('hex')}"`)
  })

  it('stores an empty chunked body', async () => {
    expect((await raw('PUT', `/${BUCKET}/empty-chunked`, { pieces: [] })).status).toBe(200)
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'empty-chunked' }))
    expect(got.ContentLength).toBe(0)
  })

  it('refuses a chunked body past the PUT size limit with EntityTooLarge and stores nothing', async () => {
    const pieces = Array.from({ length: 5 }, () => Buffer.alloc(16 * 1024, 1))
    const put = await raw('PUT', `/${BUCKET}/too-big`, { pieces })
    expect(put).toMatchObject({ status: 400, code: 'EntityTooLarge' })
    expect(put.text).not.toContain(' at ')
    await expect(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'too-big' }))).rejects.toMatchObject(
      {
        name: 'NoSuchKey',
      },
    )
  })
})

describe('bucket and object owner', () => {
  const owner = { ID: GROUP, DisplayName: GROUP }

  beforeAll(async () => {
    await client.send(new CreateBucketCommand({ Bucket: 'owned' }))
    await client.send(
      new PutBucketVersioningCommand({ Bucket: 'owned', VersioningConfiguration: { Status: 'Enabled' } }),
    )
    await client.send(new PutObjectCommand({ Bucket: 'owned', Key: 'a.txt', Body: 'a' }))
    await client.send(new PutObjectCommand({ Bucket: 'owned', Key: 'gone.txt', Body: 'g' }))
    await client.send(new DeleteObjectCommand({ Bucket: 'owned', Key: 'gone.txt' }))
  })

  it('names the owning group as Owner in ListObjectsV2 with fetch-owner=true only', async () => {
    const fetched = await client.send(new ListObjectsV2Command({ Bucket: 'owned', FetchOwner: true }))
    expect(fetched.Contents?.map((o) => o.Owner)).toEqual([owner])
    const plain = await client.send(new ListObjectsV2Command({ Bucket: 'owned' }))
    expect(plain.Contents?.[0]?.Owner).toBeUndefined()
    expect(await raw('GET', '/owned?list-type=2&fetch-owner=maybe')).toMatchObject({
      status: 400,
      code: 'InvalidArgument',
    })
  })

  it('names the owner in ListObjects v1 and ListObjectVersions (versions and delete markers)', async () => {
    const v1 = await client.send(new ListObjectsCommand({ Bucket: 'owned' }))
    expect(v1.Contents?.map((o) => o.Owner)).toEqual([owner])
    const versions = await client.send(new ListObjectVersionsCommand({ Bucket: 'owned' }))
    expect(versions.Versions?.map((v) => v.Owner)).toEqual([owner, owner])
    expect(versions.DeleteMarkers?.map((m) => m.Owner)).toEqual([owner])
  })

  it('answers 403 AccessDenied when x-amz-expected-bucket-owner is not the owner', async () => {
    await client.send(new HeadBucketCommand({ Bucket: 'owned', ExpectedBucketOwner: GROUP }))
    await client.send(new ListObjectsV2Command({ Bucket: 'owned', ExpectedBucketOwner: GROUP }))
    const got = await client.send(
      new GetObjectCommand({ Bucket: 'owned', Key: 'a.txt', ExpectedBucketOwner: GROUP }),
    )
    expect(await got.Body!.transformToString()).toBe('a')
    const wrong = '111122223333'
    await expect(
      client.send(new HeadBucketCommand({ Bucket: 'owned', ExpectedBucketOwner: wrong })),
    ).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    })
    for (const command of [
      new GetObjectCommand({ Bucket: 'owned', Key: 'a.txt', ExpectedBucketOwner: wrong }),
      new PutObjectCommand({ Bucket: 'owned', Key: 'b.txt', Body: 'b', ExpectedBucketOwner: wrong }),
      new ListObjectsV2Command({ Bucket: 'owned', ExpectedBucketOwner: wrong }),
      new DeleteObjectCommand({ Bucket: 'owned', Key: 'a.txt', ExpectedBucketOwner: wrong }),
      new CopyObjectCommand({
        Bucket: 'owned',
        Key: 'c.txt',
        CopySource: 'owned/a.txt',
        ExpectedSourceBucketOwner: wrong,
      }),
    ]) {
      await expect(client.send(command as never)).rejects.toMatchObject({
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      })
    }
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'owned' }))
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['a.txt'])
  })
})

describe('ACLs', () => {
  const fullControl: Grant[] = [
    { Grantee: { ID: GROUP, DisplayName: GROUP, Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' },
  ]

  it("answers the owner's FULL_CONTROL grant for a bucket and an object", async () => {
    const bucketAcl = await client.send(new GetBucketAclCommand({ Bucket: BUCKET }))
    expect(bucketAcl.Owner).toEqual({ ID: GROUP, DisplayName: GROUP })
    expect(bucketAcl.Grants).toEqual(fullControl)
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'acl.txt', Body: 'x' }))
    const objectAcl = await client.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: 'acl.txt' }))
    expect(objectAcl.Grants).toEqual(fullControl)
    await expect(
      client.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: 'no-such' })),
    ).rejects.toMatchObject({
      name: 'NoSuchKey',
    })
  })

  it('accepts the private ACL, and the policy GetBucketAcl answers sent back', async () => {
    await client.send(new PutBucketAclCommand({ Bucket: BUCKET, ACL: 'private' }))
    await client.send(new PutObjectAclCommand({ Bucket: BUCKET, Key: 'acl.txt', ACL: 'private' }))
    const current = await client.send(new GetBucketAclCommand({ Bucket: BUCKET }))
    await client.send(
      new PutBucketAclCommand({
        Bucket: BUCKET,
        AccessControlPolicy: { Owner: current.Owner!, Grants: current.Grants! },
      }),
    )
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'private.txt', Body: 'p', ACL: 'private' }))
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'owner-full.txt',
        Body: 'p',
        ACL: 'bucket-owner-full-control',
      }),
    )
  })

  it('refuses other canned ACLs and grants with 400 AccessControlListNotSupported, changing nothing', async () => {
    const refused = { name: 'AccessControlListNotSupported', $metadata: { httpStatusCode: 400 } }
    await expect(
      client.send(new PutBucketAclCommand({ Bucket: BUCKET, ACL: 'public-read' })),
    ).rejects.toMatchObject(refused)
    await expect(
      client.send(
        new PutBucketAclCommand({
          Bucket: BUCKET,
          GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"',
        }),
      ),
    ).rejects.toMatchObject(refused)
    await expect(
      client.send(
        new PutObjectAclCommand({
          Bucket: BUCKET,
          Key: 'acl.txt',
          AccessControlPolicy: {
            Owner: { ID: GROUP },
            Grants: [
              ...fullControl,
              {
                Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' },
                Permission: 'READ',
              },
            ],
          },
        }),
      ),
    ).rejects.toMatchObject(refused)
    await expect(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'public.txt', Body: 'x', ACL: 'public-read' })),
    ).rejects.toMatchObject(refused)
    await expect(
      client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'public.txt' })),
    ).rejects.toMatchObject({
      name: 'NoSuchKey',
    })
    const createPublic = await raw('PUT', '/public-bucket', { headers: { 'x-amz-acl': 'public-read-write' } })
    expect(createPublic).toMatchObject({ status: 400, code: 'AccessControlListNotSupported' })
    expect(createPublic.text).toContain('realm roles')
    await expect(client.send(new HeadBucketCommand({ Bucket: 'public-bucket' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    })
    await expect(
      client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp', ACL: 'authenticated-read' })),
    ).rejects.toMatchObject(refused)
  })
})

describe('GetBucketLocation', () => {
  it('answers an empty LocationConstraint for us-east-1, as S3 does', async () => {
    const location = await client.send(new GetBucketLocationCommand({ Bucket: BUCKET }))
    expect(location.LocationConstraint ?? '').toBe('')
    const answer = await raw('GET', `/${BUCKET}?location`)
    expect(answer.text).toMatch(
      /<LocationConstraint xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"><\/LocationConstraint>$/,
    )
    await expect(
      client.send(new GetBucketLocationCommand({ Bucket: 'no-such-bucket' })),
    ).rejects.toMatchObject({
      name: 'NoSuchBucket',
    })
  })
})

describe('encoding-type=url in listings', () => {
  const keys = ['enc/a b+c.txt', 'enc/dir é/x', 'enc/z&<>.bin']

  beforeAll(async () => {
    await client.send(new CreateBucketCommand({ Bucket: 'encoded' }))
    for (const Key of keys) await client.send(new PutObjectCommand({ Bucket: 'encoded', Key, Body: 'e' }))
  })

  const all = (text: string, name: string) =>
    [...text.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1])

  it('url-encodes keys, prefixes, delimiters and markers in ListObjects v1', async () => {
    const page = await raw(
      'GET',
      '/encoded?encoding-type=url&prefix=enc%2F&delimiter=%20&marker=enc%2Fa&max-keys=1',
    )
    expect(page.status).toBe(200)
    expect(page.text).toContain('<EncodingType>url</EncodingType>')
    expect(page.text).toContain('<Marker>enc/a</Marker>')
    expect(page.text).toContain('<Delimiter>+</Delimiter>')
    expect(all(page.text, 'Prefix')).toEqual(['enc/', 'enc/a+'])
    expect(page.text).toContain('<NextMarker>enc/a+</NextMarker>')
    const rest = await raw('GET', '/encoded?encoding-type=url&prefix=enc%2F&marker=enc%2Fdir')
    expect(all(rest.text, 'Key')).toEqual(['enc/dir+%C3%A9/x', 'enc/z%26%3C%3E.bin'])
  })

  it('url-encodes keys, prefixes and start-after in ListObjectsV2, through the SDK too', async () => {
    const page = await raw(
      'GET',
      '/encoded?list-type=2&encoding-type=url&start-after=enc%2Fa%20b&delimiter=%2F&prefix=enc%2F',
    )
    expect(page.text).toContain('<StartAfter>enc/a+b</StartAfter>')
    expect(all(page.text, 'Key')).toEqual(['enc/a+b%2Bc.txt', 'enc/z%26%3C%3E.bin'])
    expect(all(page.text, 'Prefix')).toEqual(['enc/', 'enc/dir+%C3%A9/'])
    const sdk = await client.send(new ListObjectsV2Command({ Bucket: 'encoded', EncodingType: 'url' }))
    expect(sdk.EncodingType).toBe('url')
    expect(sdk.Contents?.map((o) => decodeURIComponent(o.Key!.replace(/\+/g, ' ')))).toEqual(keys)
  })

  it('url-encodes keys and key markers in ListObjectVersions', async () => {
    const page = await raw(
      'GET',
      '/encoded?versions&encoding-type=url&key-marker=enc%2Fa%20b%2Bc.txt&max-keys=1',
    )
    expect(page.text).toContain('<KeyMarker>enc/a+b%2Bc.txt</KeyMarker>')
    expect(all(page.text, 'Key')).toEqual(['enc/dir+%C3%A9/x'])
    expect(page.text).toContain('<NextKeyMarker>enc/dir+%C3%A9/x</NextKeyMarker>')
    expect(page.text).toContain('<EncodingType>url</EncodingType>')
  })

  it('refuses another encoding-type with 400 InvalidArgument in every listing', async () => {
    for (const path of [
      '/encoded?encoding-type=base64',
      '/encoded?list-type=2&encoding-type=URL2',
      '/encoded?versions&encoding-type=x',
    ]) {
      expect(await raw('GET', path)).toMatchObject({ status: 400, code: 'InvalidArgument' })
    }
  })
})
