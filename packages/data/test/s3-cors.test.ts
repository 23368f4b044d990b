import {
  type CORSRule,
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CorsConfiguration, LmdbObjectIndex } from '../src/index.js'
import { matchCorsRule, requestedHeadersOf } from '../src/s3/cors.js'
import { vid } from '../src/testing/records.js'
import { removeDirectory, tempDirectory } from './lmdb-fixture.js'
import { GROUP, READER_KEY, rawAuthHeaders, type S3Fixture, sdkClient, startS3 } from './s3-fixture.js'

const BUCKET = 'cors-config'
let s3: S3Fixture
let client: S3Client
let strict: S3Client
let reader: S3Client

beforeAll(async () => {
  s3 = await startS3()
  client = sdkClient(s3.endpoint)
  strict = sdkClient(s3.endpoint, { whenRequired: true })
  reader = sdkClient(s3.endpoint, { accessKeyId: READER_KEY })
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }))
})

afterAll(async () => {
  await s3?.close()
})

const RULES = [
  {
    ID: 'web-app',
    AllowedOrigins: ['https://app.example.com', 'https://*.example.org'],
    AllowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'],
    AllowedHeaders: ['*'],
    ExposeHeaders: ['ETag', 'x-amz-version-id'],
    MaxAgeSeconds: 3000,
  },
  { AllowedOrigins: ['*'], AllowedMethods: ['GET'] },
]

/** A raw PutBucketCors with test-double SigV4 headers. */
async function putRaw(
  body: string,
  bucket = BUCKET,
): Promise<{ status: number; code?: string; text: string }> {
  const response = await fetch(`${s3.endpoint}/${bucket}?cors`, {
    method: 'PUT',
    headers: { ...rawAuthHeaders(), 'content-type': 'application/xml' },
    body,
  })
  const text = await response.text()
  return { status: response.status, text, ...codeOf(text) }
}

function codeOf(text: string): { code?: string } {
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1]
  return code === undefined ? {} : { code }
}

const ORIGIN = '<AllowedOrigin>https://app.example.com</AllowedOrigin>'
const METHOD = '<AllowedMethod>GET</AllowedMethod>'

function document(...rules: string[]): string {
  return `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules
    .map((rule) => `<CORSRule>${rule}</CORSRule>`)
    .join('')}</CORSConfiguration>`
}

describe('PutBucketCors, GetBucketCors and DeleteBucketCors with the AWS SDK', () => {
  it('answers NoSuchCORSConfiguration (404) for a bucket without a configuration', async () => {
    await expect(client.send(new GetBucketCorsCommand({ Bucket: BUCKET }))).rejects.toMatchObject({
      name: 'NoSuchCORSConfiguration',
      $metadata: { httpStatusCode: 404 },
    })
  })

  it('stores a configuration and answers it back as it was put, in both checksum modes', async () => {
    for (const sdk of [client, strict]) {
      await sdk.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: RULES } }))
      const got = await sdk.send(new GetBucketCorsCommand({ Bucket: BUCKET }))
      expect(got.CORSRules).toEqual(RULES)
    }
    // Kept on the bucket record with the HLC id of the change (last writer wins between replicas).
    const bucket = await s3.index.getBucket(BUCKET)
    expect(bucket.cors?.rules[0]).toMatchObject({ id: 'web-app', maxAgeSeconds: 3000 })
    expect(bucket.corsChangeId).toMatch(/\S/)
  })

  it('replaces the configuration as a whole, and deletes it (204, also when there is none)', async () => {
    await client.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: RULES } }))
    const replacement = [{ AllowedOrigins: ['https://other.example'], AllowedMethods: ['HEAD'] }]
    await client.send(
      new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: replacement } }),
    )
    expect((await client.send(new GetBucketCorsCommand({ Bucket: BUCKET }))).CORSRules).toEqual(replacement)

    const deleted = await client.send(new DeleteBucketCorsCommand({ Bucket: BUCKET }))
    expect(deleted.$metadata.httpStatusCode).toBe(204)
    await expect(client.send(new GetBucketCorsCommand({ Bucket: BUCKET }))).rejects.toMatchObject({
      name: 'NoSuchCORSConfiguration',
    })
    const again = await client.send(new DeleteBucketCorsCommand({ Bucket: BUCKET }))
    expect(again.$metadata.httpStatusCode).toBe(204)
  })

  it('lets a reader get the configuration but not put or delete it', async () => {
    await client.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: RULES } }))
    expect((await reader.send(new GetBucketCorsCommand({ Bucket: BUCKET }))).CORSRules).toEqual(RULES)
    const other = [{ AllowedOrigins: ['*'], AllowedMethods: ['DELETE'] }]
    await expect(
      reader.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: other } })),
    ).rejects.toMatchObject({ name: 'AccessDenied' })
    await expect(reader.send(new DeleteBucketCorsCommand({ Bucket: BUCKET }))).rejects.toMatchObject({
      name: 'AccessDenied',
    })
    expect((await client.send(new GetBucketCorsCommand({ Bucket: BUCKET }))).CORSRules).toEqual(RULES)
  })

  it('answers NoSuchBucket for a bucket that does not exist', async () => {
    const missing = 'no-such-cors-bucket'
    await expect(client.send(new GetBucketCorsCommand({ Bucket: missing }))).rejects.toMatchObject({
      name: 'NoSuchBucket',
    })
    await expect(
      client.send(new PutBucketCorsCommand({ Bucket: missing, CORSConfiguration: { CORSRules: RULES } })),
    ).rejects.toMatchObject({ name: 'NoSuchBucket' })
    await expect(client.send(new DeleteBucketCorsCommand({ Bucket: missing }))).rejects.toMatchObject({
      name: 'NoSuchBucket',
    })
  })

  it('refuses values S3 refuses with InvalidRequest and keeps the configuration it had', async () => {
    await client.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: RULES } }))
    const cases: Array<[CORSRule, string]> = [
      [
        { AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] },
        'Found unsupported HTTP method in CORS config. Unsupported method is PATCH',
      ],
      [{ AllowedOrigins: ['*'], AllowedMethods: ['get'] }, 'Unsupported method is get'],
      [
        { AllowedOrigins: ['https://*.example.*'], AllowedMethods: ['GET'] },
        'AllowedOrigin "https://*.example.*" can not have more than one wildcard.',
      ],
      [
        { AllowedOrigins: ['*'], AllowedMethods: ['GET'], AllowedHeaders: ['x-*-*'] },
        'AllowedHeader "x-*-*" can not have more than one wildcard.',
      ],
      [
        { AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposeHeaders: ['*'] },
        'ExposeHeader "*" contains wildcard.',
      ],
      [
        { AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposeHeaders: ['two words'] },
        'ExposeHeader "two words" contains invalid character.',
      ],
    ]
    for (const [rule, message] of cases) {
      const refused = client.send(
        new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: [RULES[0]!, rule] } }),
      )
      await expect(refused).rejects.toMatchObject({
        name: 'InvalidRequest',
        $metadata: { httpStatusCode: 400 },
      })
      await expect(refused).rejects.toThrow(message)
    }
    expect((await client.send(new GetBucketCorsCommand({ Bucket: BUCKET }))).CORSRules).toEqual(RULES)
  })
})

describe('PutBucketCors documents', () => {
  it('refuses documents that break the schema with MalformedXML', async () => {
    const bad = [
      'not xml at all',
      `<CORSConfiguration><CORSRule>${ORIGIN}${METHOD}</CORSConfiguration>`,
      `<CORSRules><CORSRule>${ORIGIN}${METHOD}</CORSRule></CORSRules>`,
      document(),
      '<CORSConfiguration/>',
      document(METHOD),
      document(ORIGIN),
      document(`${ORIGIN}${METHOD}`, ORIGIN),
      document(''),
      document(`${ORIGIN}${METHOD}<AllowedHeaders>*</AllowedHeaders>`),
      document(`${ORIGIN}${METHOD}text`),
      `<CORSConfiguration>${ORIGIN}${METHOD}</CORSConfiguration>`,
      `<CORSConfiguration><CORSRule>${ORIGIN}${METHOD}</CORSRule><Owner>me</Owner></CORSConfiguration>`,
      document(`<AllowedOrigin><Origin>x</Origin></AllowedOrigin>${METHOD}`),
      document(`${ORIGIN}${METHOD}<MaxAgeSeconds>-1</MaxAgeSeconds>`),
      document(`${ORIGIN}${METHOD}<MaxAgeSeconds>1.5</MaxAgeSeconds>`),
      document(`${ORIGIN}${METHOD}<MaxAgeSeconds>2147483648</MaxAgeSeconds>`),
      document(`${ORIGIN}${METHOD}<MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>2</MaxAgeSeconds>`),
      document(`${ORIGIN}${METHOD}<ID>a</ID><ID>b</ID>`),
      document(`${ORIGIN}${METHOD}<ID>${'a'.repeat(256)}</ID>`),
      document(...Array.from({ length: 101 }, () => `${ORIGIN}${METHOD}`)),
      `<!DOCTYPE CORSConfiguration>${document(`${ORIGIN}${METHOD}`)}`,
    ]
    for (const body of bad)
      expect(await putRaw(body), body.slice(0, 120)).toMatchObject({ status: 400, code: 'MalformedXML' })
    // Schema errors are found before value errors, as S3 does.
    expect(
      await putRaw(document(`<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>`, ORIGIN)),
    ).toMatchObject({
      code: 'MalformedXML',
    })
  })

  it('accepts 100 rules, a namespace prefix, whitespace, comments and entities, and answers in S3 order', async () => {
    expect(await putRaw(document(...Array.from({ length: 100 }, () => `${ORIGIN}${METHOD}`)))).toMatchObject({
      status: 200,
    })
    const pretty = `<?xml version="1.0" encoding="UTF-8"?>
<s3:CORSConfiguration xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">
  <!-- the web app -->
  <s3:CORSRule>
    <s3:MaxAgeSeconds>600</s3:MaxAgeSeconds>
    <s3:ExposeHeader>ETag</s3:ExposeHeader>
    <s3:AllowedHeader>x-amz-*</s3:AllowedHeader>
    <s3:AllowedOrigin>https://app.example.com/?a=1&amp;b=2</s3:AllowedOrigin>
    <s3:AllowedMethod>PUT</s3:AllowedMethod>
    <s3:ID>rule &#x31;</s3:ID>
  </s3:CORSRule>
</s3:CORSConfiguration>`
    expect(await putRaw(pretty)).toMatchObject({ status: 200 })
    const got = await fetch(`${s3.endpoint}/${BUCKET}?cors`, { headers: rawAuthHeaders() })
    expect(got.status).toBe(200)
    expect(got.headers.get('content-type')).toBe('application/xml')
    expect(await got.text()).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule>' +
        '<ID>rule 1</ID><AllowedMethod>PUT</AllowedMethod>' +
        '<AllowedOrigin>https://app.example.com/?a=1&amp;b=2</AllowedOrigin>' +
        '<AllowedHeader>x-amz-*</AllowedHeader><MaxAgeSeconds>600</MaxAgeSeconds>' +
        '<ExposeHeader>ETag</ExposeHeader></CORSRule></CORSConfiguration>',
    )
  })

  it('refuses a body over 64 KiB before storing anything', async () => {
    const before = await s3.index.getBucket(BUCKET)
    const padding = `<!-- ${'x'.repeat(64 * 1024)} -->`
    expect(await putRaw(document(`${ORIGIN}${METHOD}${padding}`))).toMatchObject({
      status: 400,
      code: 'EntityTooLarge',
    })
    expect((await s3.index.getBucket(BUCKET)).corsChangeId).toBe(before.corsChangeId)
  })

  it('answers NotImplemented for ?cors on a key', async () => {
    const response = await fetch(`${s3.endpoint}/${BUCKET}/some/key?cors`, { headers: rawAuthHeaders() })
    expect(response.status).toBe(501)
    expect(codeOf(await response.text()).code).toBe('NotImplemented')
  })
})

describe('a CORS configuration on disk', () => {
  it('is kept by LmdbObjectIndex across a reopen, deletion and its change id included', async () => {
    const directory = await tempDirectory()
    try {
      const cors: CorsConfiguration = {
        rules: [
          {
            id: 'web',
            allowedOrigins: ['https://app.example.com'],
            allowedMethods: ['GET', 'PUT'],
            allowedHeaders: ['*'],
            exposeHeaders: ['ETag'],
            maxAgeSeconds: 60,
          },
        ],
      }
      let index = await LmdbObjectIndex.open(directory)
      await index.createBucket('kept', { group: GROUP })
      await index.createBucket('dropped', { group: GROUP })
      await index.setBucketCors('kept', cors, vid(1))
      await index.setBucketCors('dropped', cors, vid(2))
      await index.setBucketCors('dropped', undefined, vid(3))
      await index.close()
      index = await LmdbObjectIndex.open(directory)
      expect(await index.getBucket('kept')).toMatchObject({ cors, corsChangeId: vid(1) })
      const dropped = await index.getBucket('dropped')
      expect(dropped.cors).toBeUndefined()
      expect(dropped.corsChangeId).toBe(vid(3))
      expect((await index.setBucketCors('dropped', cors, vid(2))).cors).toBeUndefined()
      await index.close()
    } finally {
      await removeDirectory(directory)
    }
  })
})

describe('matching a request against the rules', () => {
  const rule = (allowedOrigins: string[], allowedHeaders: string[] = []): CorsConfiguration => ({
    rules: [{ allowedOrigins, allowedMethods: ['GET'], allowedHeaders, exposeHeaders: [] }],
  })

  it.each([
    ['*', 'null', true],
    ['https://example.com', 'https://example.com', true],
    ['https://example.com', 'https://example.com:8443', false],
    ['https://example.com', 'https://EXAMPLE.com', false],
    ['https://*.example.com', 'https://a.b.example.com', true],
    ['https://*.example.com', 'https://example.com', false],
    ['https://*.example.com', 'http://www.example.com', false],
    ['https://example.com:*', 'https://example.com:3000', true],
    ['http*://example.com', 'https://example.com', true],
    ['https://a*a', 'https://aa', true],
    ['https://a*a', 'https://a', false],
  ])('origin pattern %s and origin %s: %s', (pattern, origin, matches) => {
    const match = matchCorsRule(rule([pattern]), origin, 'GET')
    expect(match?.allowOrigin).toBe(matches ? (pattern === '*' ? '*' : origin) : undefined)
  })

  it('answers * when the rule lists * beside other origins, and takes the first rule that matches', () => {
    expect(matchCorsRule(rule(['https://example.com', '*']), 'https://example.com', 'GET')?.allowOrigin).toBe(
      '*',
    )
    const two: CorsConfiguration = {
      rules: [
        { id: 'a', allowedOrigins: ['*'], allowedMethods: ['PUT'], allowedHeaders: [], exposeHeaders: [] },
        { id: 'b', allowedOrigins: ['*'], allowedMethods: ['GET'], allowedHeaders: [], exposeHeaders: [] },
        { id: 'c', allowedOrigins: ['*'], allowedMethods: ['GET'], allowedHeaders: ['*'], exposeHeaders: [] },
      ],
    }
    expect(matchCorsRule(two, 'https://x', 'GET')?.rule.id).toBe('b')
    expect(matchCorsRule(two, 'https://x', 'GET', ['x-amz-date'])?.rule.id).toBe('c')
    expect(matchCorsRule(two, 'https://x', 'DELETE')).toBeUndefined()
  })

  it('allows requested headers by name, case-insensitively, with one wildcard', () => {
    const cors = rule(['*'], [' Content-Type ', 'X-Amz-*', '*-id'])
    expect(matchCorsRule(cors, 'o', 'GET', ['content-type', 'x-amz-date', 'x-request-id'])).toBeDefined()
    expect(matchCorsRule(cors, 'o', 'GET', ['authorization'])).toBeUndefined()
    expect(requestedHeadersOf(' Content-Type, ,X-Amz-Date ,')).toEqual(['content-type', 'x-amz-date'])
    expect(requestedHeadersOf(undefined)).toEqual([])
  })
})
