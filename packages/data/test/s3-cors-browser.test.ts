import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { S3RequestRecord } from '../src/index.js'
import { ACCESS_KEY, rawAuthHeaders, type S3Fixture, sdkClient, startS3 } from './s3-fixture.js'

/**
 * CORS as a browser meets it: preflights (`OPTIONS`, no credentials) and actual requests with the
 * headers a browser sends, over raw fetch against the real server.
 */

const BUCKET = 'site'
const PLAIN = 'plain'
const APP = 'https://app.example.com'
const EVIL = 'https://evil.example.net'
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method'
const NOT_ALLOWED =
  "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
const NOT_ENABLED = 'CORSResponse: CORS is not enabled for this bucket.'

let s3: S3Fixture
let client: S3Client
const log: S3RequestRecord[] = []

beforeAll(async () => {
  s3 = await startS3({}, { onRequest: (record) => log.push(record) })
  client = sdkClient(s3.endpoint)
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }))
  await client.send(new CreateBucketCommand({ Bucket: PLAIN }))
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'index.html', Body: '<p>hi</p>' }))
  await client.send(new PutObjectCommand({ Bucket: PLAIN, Key: 'index.html', Body: '<p>hi</p>' }))
  await client.send(
    new PutBucketCorsCommand({
      Bucket: BUCKET,
      CORSConfiguration: {
        CORSRules: [
          {
            ID: 'web-app',
            AllowedOrigins: [APP, 'https://*.example.org'],
            AllowedMethods: ['GET', 'PUT', 'DELETE'],
            AllowedHeaders: ['Content-Type', 'x-amz-*'],
            ExposeHeaders: ['ETag', 'x-amz-version-id'],
            MaxAgeSeconds: 600,
          },
          { ID: 'public-read', AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] },
        ],
      },
    }),
  )
})

afterAll(async () => {
  await s3?.close()
})

/** Every `access-control-*` and `vary` header of an answer. */
function corsHeaders(response: Response): Record<string, string> {
  const found: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    if (name.startsWith('access-control-') || name === 'vary') found[name] = value
  })
  return found
}

/** A preflight as a browser sends it: no credentials, the origin and what the page is about to do. */
async function preflight(
  path: string,
  headers: { origin?: string; method?: string; requestHeaders?: string },
): Promise<{ status: number; cors: Record<string, string>; code?: string; text: string }> {
  const response = await fetch(`${s3.endpoint}${path}`, {
    method: 'OPTIONS',
    headers: {
      ...(headers.origin !== undefined ? { origin: headers.origin } : {}),
      ...(headers.method !== undefined ? { 'access-control-request-method': headers.method } : {}),
      ...(headers.requestHeaders !== undefined
        ? { 'access-control-request-headers': headers.requestHeaders }
        : {}),
      'sec-fetch-mode': 'cors',
      'user-agent': 'Mozilla/5.0 (test)',
    },
  })
  const text = await response.text()
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1]
  return {
    status: response.status,
    cors: corsHeaders(response),
    text,
    ...(code !== undefined ? { code } : {}),
  }
}

/** A presigned URL (the test double checks its shape), as a web app hands to the browser. */
function presigned(path: string): string {
  const query = new URLSearchParams({
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${ACCESS_KEY}/20250101/us-east-1/s3/aws4_request`,
    'X-Amz-Date': new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, ''),
    'X-Amz-Expires': '900',
    'X-Amz-SignedHeaders': 'host',
    'X-Amz-Signature': '0'.repeat(64),
  })
  return `${s3.endpoint}${path}${path.includes('?') ? '&' : '?'}${query}`
}

describe('CORS preflight (OPTIONS)', () => {
  it('allows an origin, method and headers of the first matching rule, without credentials', async () => {
    const answer = await preflight(`/${BUCKET}/uploads/photo.jpg`, {
      origin: APP,
      method: 'PUT',
      requestHeaders: 'content-type,x-amz-meta-author',
    })
    expect(answer.status).toBe(200)
    expect(answer.text).toBe('')
    expect(answer.cors).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, PUT, DELETE',
      'access-control-allow-headers': 'content-type, x-amz-meta-author',
      'access-control-expose-headers': 'ETag, x-amz-version-id',
      'access-control-max-age': '600',
      'access-control-allow-credentials': 'true',
      vary: VARY,
    })
    const record = log.find((r) => r.method === 'OPTIONS' && r.key === 'uploads/photo.jpg')
    expect(record).toMatchObject({ operation: 'PreflightRequest', status: 200 })
    expect(record?.userId).toBeUndefined()
  })

  it('matches an origin against a rule wildcard, case-sensitively', async () => {
    const sub = await preflight(`/${BUCKET}/k`, { origin: 'https://a.b.example.org', method: 'DELETE' })
    expect(sub.status).toBe(200)
    expect(sub.cors['access-control-allow-origin']).toBe('https://a.b.example.org')
    expect(sub.cors['access-control-allow-headers']).toBeUndefined()
    const upper = await preflight(`/${BUCKET}/k`, { origin: 'https://APP.example.com', method: 'PUT' })
    expect(upper).toMatchObject({ status: 403, code: 'AccessForbidden' })
    const bare = await preflight(`/${BUCKET}/k`, { origin: 'https://example.org', method: 'PUT' })
    expect(bare).toMatchObject({ status: 403, code: 'AccessForbidden' })
  })

  it('answers * for a rule that allows every origin, with no credentials header', async () => {
    const answer = await preflight(`/${BUCKET}/index.html`, { origin: EVIL, method: 'GET' })
    expect(answer.status).toBe(200)
    expect(answer.cors).toEqual({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, HEAD',
      vary: VARY,
    })
  })

  it('refuses what no rule allows with 403 AccessForbidden, as S3 words it', async () => {
    const refused = [
      { origin: EVIL, method: 'PUT' },
      { origin: APP, method: 'POST' },
      { origin: APP, method: 'PUT', requestHeaders: 'content-type, authorization' },
      // The public rule allows no header at all.
      { origin: EVIL, method: 'GET', requestHeaders: 'x-amz-date' },
    ]
    for (const request of refused) {
      const answer = await preflight(`/${BUCKET}/k`, request)
      expect(answer, JSON.stringify(request)).toMatchObject({
        status: 403,
        code: 'AccessForbidden',
        cors: {},
      })
      expect(answer.text).toContain(`<Message>${NOT_ALLOWED.replace(/'/g, '&apos;')}</Message>`)
      expect(answer.text).toContain(`<Method>${request.method}</Method><ResourceType>OBJECT</ResourceType>`)
    }
    // Header names compare case-insensitively; a wildcard rule header covers its family.
    const mixed = await preflight(`/${BUCKET}/k`, {
      origin: APP,
      method: 'PUT',
      requestHeaders: 'Content-Type, X-Amz-Date, x-amz-content-sha256',
    })
    expect(mixed.status).toBe(200)
    expect(mixed.cors['access-control-allow-headers']).toBe('content-type, x-amz-date, x-amz-content-sha256')
  })

  it('answers 403 for a bucket without a configuration and for a bucket that does not exist', async () => {
    for (const path of [`/${PLAIN}/index.html`, '/no-such-bucket/index.html', `/${PLAIN}`]) {
      const answer = await preflight(path, { origin: APP, method: 'GET' })
      expect(answer, path).toMatchObject({ status: 403, code: 'AccessForbidden', cors: {} })
      expect(answer.text).toContain(NOT_ENABLED)
    }
    const bucket = await preflight(`/${PLAIN}`, { origin: APP, method: 'GET' })
    expect(bucket.text).toContain('<ResourceType>BUCKET</ResourceType>')
  })

  it('answers 400 without an Origin, or without a method a rule could allow', async () => {
    expect(await preflight(`/${BUCKET}/k`, { method: 'GET' })).toMatchObject({
      status: 400,
      code: 'BadRequest',
    })
    expect((await preflight(`/${BUCKET}/k`, { method: 'GET' })).text).toContain(
      'Insufficient information. Origin request header needed.',
    )
    const noMethod = await preflight(`/${BUCKET}/k`, { origin: APP })
    expect(noMethod).toMatchObject({ status: 400, code: 'BadRequest' })
    expect(noMethod.text).toContain('Invalid Access-Control-Request-Method: null')
    for (const method of ['PATCH', 'get', 'OPTIONS']) {
      const answer = await preflight(`/${BUCKET}/k`, { origin: APP, method })
      expect(answer).toMatchObject({ status: 400, code: 'BadRequest' })
      expect(answer.text).toContain(`Invalid Access-Control-Request-Method: ${method}`)
    }
  })
})

describe('CORS on actual requests', () => {
  it('lets a browser PUT through a presigned URL and read the exposed headers', async () => {
    const response = await fetch(presigned(`/${BUCKET}/uploads/from-browser.txt`), {
      method: 'PUT',
      headers: { origin: APP, 'content-type': 'text/plain', 'sec-fetch-mode': 'cors' },
      body: 'uploaded from a web page',
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/)
    expect(corsHeaders(response)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, PUT, DELETE',
      'access-control-expose-headers': 'ETag, x-amz-version-id',
      'access-control-max-age': '600',
      'access-control-allow-credentials': 'true',
      vary: VARY,
    })
    const stored = await s3.engine.headObject(BUCKET, 'uploads/from-browser.txt')
    expect(stored.manifest.size).toBe(24)
  })

  it('answers a GET from any origin through the public rule, and a PUT from another origin without CORS headers', async () => {
    const get = await fetch(presigned(`/${BUCKET}/index.html`), { headers: { origin: EVIL } })
    expect(get.status).toBe(200)
    expect(await get.text()).toBe('<p>hi</p>')
    expect(corsHeaders(get)).toEqual({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, HEAD',
      vary: VARY,
    })
    // The request itself is authorized and runs; without CORS headers the browser keeps the answer from the page.
    const put = await fetch(presigned(`/${BUCKET}/uploads/other.txt`), {
      method: 'PUT',
      headers: { origin: EVIL, 'content-type': 'text/plain' },
      body: 'x',
    })
    expect(put.status).toBe(200)
    expect(corsHeaders(put)).toEqual({})
  })

  it('matches the request method: a HEAD only the public rule allows gets *', async () => {
    const head = await fetch(presigned(`/${BUCKET}/index.html`), { method: 'HEAD', headers: { origin: APP } })
    expect(head.status).toBe(200)
    expect(head.headers.get('access-control-allow-origin')).toBe('*')
    const del = await fetch(presigned(`/${BUCKET}/uploads/other.txt`), {
      method: 'DELETE',
      headers: { origin: EVIL },
    })
    expect(del.status).toBe(204)
    expect(corsHeaders(del)).toEqual({})
  })

  it('carries the CORS headers on error answers too, so the page can read why', async () => {
    const missing = await fetch(presigned(`/${BUCKET}/no/such/key`), { headers: { origin: APP } })
    expect(missing.status).toBe(404)
    expect(missing.headers.get('access-control-allow-origin')).toBe(APP)
    expect(await missing.text()).toContain('<Code>NoSuchKey</Code>')
    const anonymous = await fetch(`${s3.endpoint}/${BUCKET}/index.html`, { headers: { origin: APP } })
    expect(anonymous.status).toBe(403)
    expect(anonymous.headers.get('access-control-allow-origin')).toBe(APP)
    expect(anonymous.headers.get('access-control-expose-headers')).toBe('ETag, x-amz-version-id')
  })

  it('adds nothing without an Origin, for a bucket without a configuration, or for the service', async () => {
    const noOrigin = await fetch(presigned(`/${BUCKET}/index.html`))
    expect(noOrigin.status).toBe(200)
    expect(corsHeaders(noOrigin)).toEqual({})
    const plain = await fetch(presigned(`/${PLAIN}/index.html`), { headers: { origin: APP } })
    expect(plain.status).toBe(200)
    expect(corsHeaders(plain)).toEqual({})
    const service = await fetch(`${s3.endpoint}/`, { headers: { ...rawAuthHeaders(), origin: APP } })
    expect(service.status).toBe(200)
    expect(corsHeaders(service)).toEqual({})
  })

  it('stops answering CORS once the configuration is deleted', async () => {
    await client.send(new CreateBucketCommand({ Bucket: 'short-lived' }))
    await client.send(
      new PutBucketCorsCommand({
        Bucket: 'short-lived',
        CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] },
      }),
    )
    expect((await preflight('/short-lived/k', { origin: APP, method: 'GET' })).status).toBe(200)
    await client.send(new DeleteBucketCorsCommand({ Bucket: 'short-lived' }))
    const after = await preflight('/short-lived/k', { origin: APP, method: 'GET' })
    expect(after).toMatchObject({ status: 403, code: 'AccessForbidden' })
    const get = await fetch(presigned('/short-lived?list-type=2'), { headers: { origin: APP } })
    expect(get.status).toBe(200)
    expect(corsHeaders(get)).toEqual({})
  })
})
