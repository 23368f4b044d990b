import { createHash } from 'node:crypto'
import { MemoryAuthorizer } from '@aruna/auth'
import { beforeEach, describe, expect, it } from 'vitest'
import { MemoryMultipartStore } from '../src/engine/memory-multipart-store.js'
import { ObjectEngine } from '../src/engine/object-engine.js'
import { DataError } from '../src/errors.js'
import { HybridLogicalClock } from '../src/hlc.js'
import { MemoryBlobStore } from '../src/memory-blob-store.js'
import { MemoryObjectIndex } from '../src/memory-object-index.js'
import { createS3App, type S3AppInit, type S3RequestRecord } from '../src/s3/app.js'
import type { S3Authenticator } from '../src/s3/port.js'
import { DRAIN_LIMIT } from '../src/s3/request-body.js'
import { FakeSigV4Authenticator } from '../src/testing/fake-sigv4-authenticator.js'

const REALM = 'realm1'
/** Group ids are ULIDs. */
const GROUP_A = '01JAAAAAAAAAAAAAAAAAAAAAAA'
const GROUP_B = '01JBBBBBBBBBBBBBBBBBBBBBBB'
const SIGNED = 'host;x-amz-date'
const SIGNS_GROUP = 'host;x-amz-date;x-aruna-group'
const auth = (key = 'AKIDALICE', signed = SIGNED) => ({
  authorization: `AWS4-HMAC-SHA256 Credential=${key}/20250101/us-east-1/s3/aws4_request, SignedHeaders=${signed}, Signature=${'0'.repeat(64)}`,
  'x-amz-date': '20250101T000000Z',
})

let engine: ObjectEngine
let authorizer: MemoryAuthorizer
let init: S3AppInit
let app: ReturnType<typeof createS3App>
let internalErrors: unknown[]

beforeEach(async () => {
  engine = new ObjectEngine({
    blobs: new MemoryBlobStore(),
    index: new MemoryObjectIndex(),
    uploads: new MemoryMultipartStore(),
    clock: new HybridLogicalClock('node-a'),
    chunkSize: 8,
    minPartSize: 4,
  })
  authorizer = new MemoryAuthorizer()
    .allow('alice', 'WRITE', `/${REALM}/g/${GROUP_A}/**`)
    .allow('bob', 'READ', `/${REALM}/g/${GROUP_A}/data/shared/**`)
    .allow('carol', 'WRITE', `/${REALM}/g/${GROUP_B}/**`)
  internalErrors = []
  init = {
    engine,
    authorizer,
    authenticator: new FakeSigV4Authenticator({
      users: { AKIDALICE: 'alice', AKIDBOB: 'bob', AKIDCAROL: 'carol' },
      acceptChunk: (sig) => !sig.startsWith('bad'),
    }),
    realm: REALM,
    region: 'eu-central-1',
    virtualHostDomains: ['s3.test'],
    onInternalError: (err) => internalErrors.push(err),
  }
  app = createS3App(init)
  await engine.createBucket('shared', GROUP_A)
  await engine.putBucketVersioning('shared', 'Enabled')
  await engine.createBucket('private', GROUP_A)
  await engine.createBucket('elsewhere', GROUP_B)
})

interface Call {
  headers?: Record<string, string>
  body?: string | Uint8Array
  key?: string
  /** The `SignedHeaders` the request claims (the test double believes them). */
  signed?: string
}

async function call(method: string, path: string, options: Call = {}) {
  const body = options.body
  const headers: Record<string, string> = { ...auth(options.key, options.signed), ...options.headers }
  if (
    body !== undefined &&
    headers['content-length'] === undefined &&
    headers['x-amz-decoded-content-length'] === undefined
  ) {
    headers['content-length'] = String(Buffer.byteLength(body))
  }
  const response = await app.request(
    path,
    { method, headers, ...(body !== undefined ? { body } : {}) },
    { incoming: { url: path } },
  )
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    text,
    code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1],
  }
}

const put = (key: string, body: string, headers: Record<string, string> = {}) =>
  call('PUT', `/shared/${key}`, { body, headers })

describe('S3 errors', () => {
  it('answers with an S3 XML error document and a request id', async () => {
    const response = await call('GET', '/shared/missing')
    expect(response.status).toBe(404)
    expect(response.text).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>NoSuchKey<\/Code>/)
    expect(response.text).toContain('<Resource>/shared/missing</Resource>')
    const id = response.headers.get('x-amz-request-id')
    expect(id).toMatch(/^[0-9A-F]{16}$/)
    expect(response.text).toContain(`<RequestId>${id}</RequestId>`)
    expect(response.headers.get('content-type')).toBe('application/xml')
  })

  it('never sends a stack trace or internal message, and reports the fault', async () => {
    engine.getBucket = async () => {
      throw new Error('ENOENT: /var/lib/aruna/secret/path')
    }
    const response = await call('GET', '/shared/x')
    expect(response).toMatchObject({ status: 500, code: 'InternalError' })
    expect(response.text).not.toContain('/var/lib')
    expect(response.text).not.toContain(' at ')
    expect(internalErrors).toHaveLength(1)
  })

  it('sends no body with a HEAD error', async () => {
    const response = await call('HEAD', '/shared/missing')
    expect(response.status).toBe(404)
    expect(response.text).toBe('')
  })

  it.each([
    ['GET', '/shared?website'],
    ['PUT', '/shared?policy'],
    ['DELETE', '/shared?tagging'],
    ['GET', '/shared/k?tagging'],
    ['PUT', '/shared/k?retention'],
    ['POST', '/shared/k?restore'],
    ['POST', '/shared/k'],
    ['POST', '/shared'],
    ['GET', '/shared?lifecycle'],
    ['GET', '/shared?attributes'],
  ])('answers 501 NotImplemented for %s %s', async (method, path) => {
    await put('k', 'x')
    expect(await call(method, path)).toMatchObject({ status: 501, code: 'NotImplemented' })
  })

  it('answers MethodNotAllowed for methods S3 does not have and InvalidURI for bad encoding', async () => {
    expect(await call('PATCH', '/shared/k')).toMatchObject({ status: 405, code: 'MethodNotAllowed' })
    expect(await call('PUT', '/')).toMatchObject({ status: 405, code: 'MethodNotAllowed' })
    expect(await call('GET', '/shared/%E0%A4%A')).toMatchObject({ status: 400, code: 'InvalidURI' })
  })
})

describe('S3 authentication and authorization', () => {
  it('refuses anonymous, unknown, malformed and badly signed requests', async () => {
    const anonymous = await app.request('/shared/k', {}, { incoming: { url: '/shared/k' } })
    expect(anonymous.status).toBe(403)
    expect(await anonymous.text()).toContain('<Code>AccessDenied</Code>')
    expect(await call('GET', '/shared/k', { key: 'AKIDNOBODY' })).toMatchObject({
      status: 403,
      code: 'InvalidAccessKeyId',
    })
    expect(await call('GET', '/shared/k', { headers: { authorization: 'AWS AKID:sig' } })).toMatchObject({
      status: 400,
      code: 'AuthorizationHeaderMalformed',
    })
    const badSignature = auth().authorization.replace('0'.repeat(64), 'xyz')
    expect(await call('GET', '/shared/k', { headers: { authorization: badSignature } })).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
    })
  })

  it('accepts presigned URLs until they expire', async () => {
    await put('k', 'presigned')
    const query = (date: string) =>
      `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDBOB%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=${date}&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=${'1'.repeat(64)}`
    const now = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')
    const fresh = await app.request(
      `/shared/k?${query(now)}`,
      {},
      { incoming: { url: `/shared/k?${query(now)}` } },
    )
    expect(await fresh.text()).toBe('presigned')
    const old = await app.request(
      `/shared/k?${query('20200101T000000Z')}`,
      {},
      { incoming: { url: `/shared/k?${query('20200101T000000Z')}` } },
    )
    expect(old.status).toBe(403)
  })

  it('authorizes every request on the resource path of its bucket and key', async () => {
    await put('doc', 'content')
    expect((await call('GET', '/shared/doc', { key: 'AKIDBOB' })).text).toBe('content')
    expect(await call('PUT', '/shared/doc', { key: 'AKIDBOB', body: 'x' })).toMatchObject({
      status: 403,
      code: 'AccessDenied',
    })
    expect(await call('GET', '/private?list-type=2', { key: 'AKIDBOB' })).toMatchObject({
      status: 403,
      code: 'AccessDenied',
    })
    expect(await call('GET', '/elsewhere?list-type=2')).toMatchObject({ status: 403, code: 'AccessDenied' })
    const paths = authorizer.calls.map((c) => `${c.access} ${c.path}`)
    expect(paths).toContain(`READ /${REALM}/g/${GROUP_A}/data/shared/doc`)
    expect(paths).toContain(`WRITE /${REALM}/g/${GROUP_A}/data/shared/doc`)
  })

  it('lists only the buckets the caller may read', async () => {
    const listing = await call('GET', '/', { key: 'AKIDBOB' })
    expect(listing.text).toContain('<Name>shared</Name>')
    expect(listing.text).not.toContain('<Name>private</Name>')
    const all = await call('GET', '/')
    expect(all.text.match(/<Name>/g)).toHaveLength(2)
    expect(all.text).toContain('<Owner><ID>alice</ID>')
  })

  it('refuses keys that are not resource paths and keys with control characters', async () => {
    expect(await put('a/./b', 'x')).toMatchObject({ status: 400, code: 'InvalidArgument' })
    expect(await put('a%00b', 'x')).toMatchObject({ status: 400, code: 'InvalidArgument' })
    expect(await put('a%0Ab', 'x')).toMatchObject({ status: 400, code: 'InvalidArgument' })
  })
})

describe('S3 buckets', () => {
  /** CreateBucket in `group`, with the group header signed. */
  const createIn = (bucket: string, group: string, key = 'AKIDALICE') =>
    call('PUT', `/${bucket}`, { key, headers: { 'x-aruna-group': group }, signed: SIGNS_GROUP })

  it('creates buckets in the named group, the default group or not at all', async () => {
    expect((await createIn('new-bucket', GROUP_A)).status).toBe(200)
    expect((await engine.getBucket('new-bucket')).group).toBe(GROUP_A)
    // The caller may write the existing bucket: S3 says it is theirs (clients take that as done).
    expect(await createIn('new-bucket', GROUP_A)).toMatchObject({
      status: 409,
      code: 'BucketAlreadyOwnedByYou',
    })
    // A bucket of another group the caller may not write: the name is simply taken.
    expect(await createIn('elsewhere', GROUP_A)).toMatchObject({ status: 409, code: 'BucketAlreadyExists' })
    expect(await call('PUT', '/other-bucket')).toMatchObject({ status: 400, code: 'InvalidArgument' })
    expect(await createIn('other-bucket', GROUP_B)).toMatchObject({ status: 403, code: 'AccessDenied' })
    expect(await createIn('Bad_Name', GROUP_A)).toMatchObject({ status: 400, code: 'InvalidBucketName' })
  })

  it('keeps a group a user may not write free of their buckets: the name stays free for its members', async () => {
    // alice may write in group A only.
    const denied = await createIn('lab-results', GROUP_B)
    expect(denied).toMatchObject({ status: 403, code: 'AccessDenied' })
    await expect(engine.getBucket('lab-results')).rejects.toMatchObject({ code: 'NoSuchBucket' })
    expect(authorizer.calls.at(-1)).toMatchObject({
      access: 'WRITE',
      path: `/${REALM}/g/${GROUP_B}/data/lab-results`,
    })
    // carol, who may write in group B, gets the name; alice then finds it taken, not hers.
    expect((await createIn('lab-results', GROUP_B, 'AKIDCAROL')).status).toBe(200)
    expect((await engine.getBucket('lab-results')).group).toBe(GROUP_B)
    expect(await createIn('lab-results', GROUP_A)).toMatchObject({ status: 409, code: 'BucketAlreadyExists' })
  })

  it.each([
    ['empty', ''],
    ['a name', 'group-a'],
    ['a path into another bucket', `${GROUP_A}/data/shared`],
    ['a slash', `${GROUP_A}/`],
    ['a wildcard', '*'],
    ['a wildcard suffix', `${GROUP_A}*`],
    ['a recursive wildcard', '**'],
    ['a dot-dot segment', '..'],
    ['a walk up', `../${GROUP_A}`],
    ['a lower-case ULID', GROUP_A.toLowerCase()],
    ['a ULID with I, L, O or U', 'O1JAAAAAAAAAAAAAAAAAAAAAAA'],
    ['27 characters', `${GROUP_A}0`],
    ['25 characters', GROUP_A.slice(1)],
    ['two groups', `${GROUP_A},${GROUP_B}`],
    ['an escaped slash', `${GROUP_A}%2Fdata`],
  ])('refuses a group header that is %s, before authorization or any change', async (_, group) => {
    const before = await engine.listBuckets()
    const calls = authorizer.calls.length
    const refused = await createIn('squatted', group)
    expect(refused).toMatchObject({ status: 400, code: 'InvalidArgument' })
    expect(refused.text).toContain('The x-aruna-group header must be one group id (a 26-character ULID)')
    expect(authorizer.calls.length).toBe(calls)
    expect(await engine.listBuckets()).toEqual(before)
  })

  it('takes x-aruna-group only when the signature covers it', async () => {
    const unsigned = await call('PUT', '/new-bucket', { headers: { 'x-aruna-group': GROUP_A } })
    expect(unsigned).toMatchObject({ status: 403, code: 'AccessDenied' })
    expect(unsigned.text).toContain('<Message>The x-aruna-group header must be signed')
    await expect(engine.getBucket('new-bucket')).rejects.toMatchObject({ code: 'NoSuchBucket' })
    // Presigned URLs: the header must be in X-Amz-SignedHeaders.
    const presigned = (signedHeaders: string) => {
      const now = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')
      const target = `/new-bucket?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDALICE%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=${now}&X-Amz-Expires=900&X-Amz-SignedHeaders=${encodeURIComponent(signedHeaders)}&X-Amz-Signature=${'1'.repeat(64)}`
      return app.request(
        target,
        { method: 'PUT', headers: { 'x-aruna-group': GROUP_A } },
        { incoming: { url: target } },
      )
    }
    const unsignedUrl = await presigned('host')
    expect(unsignedUrl.status).toBe(403)
    expect(await unsignedUrl.text()).toContain('The x-aruna-group header must be signed')
    await expect(engine.getBucket('new-bucket')).rejects.toMatchObject({ code: 'NoSuchBucket' })
    expect((await presigned('host;x-aruna-group')).status).toBe(200)
    expect((await engine.getBucket('new-bucket')).group).toBe(GROUP_A)
  })

  it('counts no header as signed when the authenticator does not say which were', async () => {
    const silent: S3Authenticator = {
      authenticate: async () => ({ userId: 'alice', payload: { kind: 'unsigned' } }),
    }
    app = createS3App({ ...init, authenticator: silent })
    expect(await createIn('new-bucket', GROUP_A)).toMatchObject({ status: 403, code: 'AccessDenied' })
    await expect(engine.getBucket('new-bucket')).rejects.toMatchObject({ code: 'NoSuchBucket' })
  })

  it('uses the default group when there is no header, and refuses a default that is not a group id', async () => {
    const defaults: string[] = []
    app = createS3App({
      ...init,
      defaultGroup: (identity, bucket) => {
        defaults.push(`${identity.userId} ${bucket}`)
        return GROUP_A
      },
    })
    expect((await call('PUT', '/by-default')).status).toBe(200)
    expect((await engine.getBucket('by-default')).group).toBe(GROUP_A)
    expect(defaults).toEqual(['alice by-default'])
    // A header, even one naming the default group, must be signed: no falling back to the default.
    expect(await call('PUT', '/by-header', { headers: { 'x-aruna-group': GROUP_A } })).toMatchObject({
      status: 403,
      code: 'AccessDenied',
    })
    expect(await createIn('by-header', 'default')).toMatchObject({ status: 400, code: 'InvalidArgument' })
    // The default group is as much a path segment as the header.
    for (const group of ['default', `${GROUP_B}/data/elsewhere`, '']) {
      app = createS3App({ ...init, defaultGroup: () => group })
      const refused = await call('PUT', '/by-default-2')
      expect(refused).toMatchObject({ status: 400, code: 'InvalidArgument' })
      expect(refused.text).toContain('The default group for new buckets is not a group id')
    }
    await expect(engine.getBucket('by-default-2')).rejects.toMatchObject({ code: 'NoSuchBucket' })
  })

  it('heads, locates and describes versioning of a bucket', async () => {
    const head = await call('HEAD', '/shared')
    expect(head.status).toBe(200)
    expect(head.headers.get('x-amz-bucket-region')).toBe('eu-central-1')
    expect((await call('HEAD', '/nope')).status).toBe(404)
    expect((await call('GET', '/shared?location')).text).toContain('>eu-central-1</LocationConstraint>')
    expect((await call('GET', '/shared?versioning')).text).toContain('<Status>Enabled</Status>')
    expect((await call('GET', '/private?versioning')).text).not.toContain('<Status>')
  })

  it('deletes only empty buckets', async () => {
    await put('k', 'x')
    expect(await call('DELETE', '/shared')).toMatchObject({ status: 409, code: 'BucketNotEmpty' })
    await call('DELETE', '/shared/k')
    expect((await call('DELETE', '/shared')).status).toBe(204)
    expect(await call('DELETE', '/shared')).toMatchObject({ status: 404, code: 'NoSuchBucket' })
  })

  it('addresses buckets by virtual host too', async () => {
    await put('dir/k', 'vhost')
    const response = await app.request(
      '/dir/k',
      { headers: { ...auth(), host: 'shared.s3.test:9000' } },
      { incoming: { url: '/dir/k' } },
    )
    expect(await response.text()).toBe('vhost')
  })
})

describe('S3 objects', () => {
  it('stores metadata and standard headers and returns them', async () => {
    const sent = await put('doc.txt', 'hello', {
      'content-type': 'text/plain',
      'x-amz-meta-project': 'aruna',
      'content-disposition': 'attachment; filename="doc.txt"',
      'cache-control': 'no-cache',
      'content-encoding': 'gzip',
    })
    expect(sent.headers.get('etag')).toBe(`"${createHash('md5').update('hello').digest('hex')}"`)
    expect(sent.headers.get('x-amz-request-id')).toMatch(/^[0-9A-F]{16}$/)
    const got = await call('GET', '/shared/doc.txt')
    expect(got.text).toBe('hello')
    expect(Object.fromEntries(got.headers)).toMatchObject({
      'content-type': 'text/plain',
      'x-amz-meta-project': 'aruna',
      'content-disposition': 'attachment; filename="doc.txt"',
      'cache-control': 'no-cache',
      'content-encoding': 'gzip',
      'content-length': '5',
      'accept-ranges': 'bytes',
    })
    const overridden = await call('GET', '/shared/doc.txt?response-content-type=application%2Fjson')
    expect(overridden.headers.get('content-type')).toBe('application/json')
    const head = await call('HEAD', '/shared/doc.txt')
    expect(head.text).toBe('')
    expect(head.headers.get('content-length')).toBe('5')
  })

  it.each([
    'response-content-disposition',
    'response-content-type',
    'response-cache-control',
    'response-content-encoding',
    'response-content-language',
    'response-expires',
  ])('answers 400 InvalidArgument for a %s that cannot be a header, and reports no fault', async (name) => {
    await put('doc.txt', 'hello')
    for (const bad of ['a%0D%0ASet-Cookie%3A%20x%3D1', 'a%0Ab', 'a%00b', 'a%7Fb', '%E6%97%A5']) {
      for (const method of ['GET', 'HEAD']) {
        const response = await call(method, `/shared/doc.txt?${name}=${bad}`)
        expect(response.status).toBe(400)
        if (method === 'GET') expect(response.code).toBe('InvalidArgument')
        expect(response.headers.get('set-cookie')).toBeNull()
      }
    }
    const fine = await call(
      'GET',
      `/shared/doc.txt?${name}=attachment%3B%09filename%3D%22r%C3%A9sum%C3%A9%22`,
    )
    expect(fine.status).toBe(200)
    expect(internalErrors).toEqual([])
  })

  it('answers 400 for a versionId that cannot be a header on DELETE', async () => {
    await put('doc.txt', 'hello')
    const response = await call('DELETE', '/shared/doc.txt?versionId=a%0D%0Ab')
    expect(response).toMatchObject({ status: 400, code: 'InvalidArgument' })
    expect(internalErrors).toEqual([])
  })

  it('refuses metadata over 2 KB and bodies without a length', async () => {
    expect(await put('big-meta', 'x', { 'x-amz-meta-a': 'v'.repeat(2100) })).toMatchObject({
      status: 400,
      code: 'MetadataTooLarge',
    })
    const response = await app.request(
      '/shared/nolength',
      { method: 'PUT', headers: auth(), body: new Blob(['abc']).stream(), duplex: 'half' } as RequestInit,
      { incoming: { url: '/shared/nolength' } },
    )
    expect(response.status).toBe(411)
  })

  it('checks a signed payload hash', async () => {
    const sha = createHash('sha256').update('signed').digest('hex')
    expect((await put('signed', 'signed', { 'x-amz-content-sha256': sha })).status).toBe(200)
    expect(await put('signed2', 'changed', { 'x-amz-content-sha256': sha })).toMatchObject({
      status: 400,
      code: 'XAmzContentSHA256Mismatch',
    })
    expect(await put('signed3', 'x', { 'x-amz-content-sha256': 'STREAMING-UNKNOWN' })).toMatchObject({
      status: 501,
    })
    expect(await put('signed4', 'x', { 'x-amz-checksum-crc64nvme': 'AAAAAAAAAAA=' })).toMatchObject({
      status: 400,
      code: 'InvalidRequest',
    })
  })

  it('decodes signed aws-chunked bodies through the chunk verifier', async () => {
    const sig = (s: string) => s.padEnd(64, '0')
    const body = (first: string) =>
      `5;chunk-signature=${sig(first)}\r\nhello\r\n0;chunk-signature=${sig('ab')}\r\n\r\n`
    const headers = {
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'x-amz-decoded-content-length': '5',
      'content-encoding': 'aws-chunked',
    }
    expect((await put('chunked', body('ab'), headers)).status).toBe(200)
    expect((await call('GET', '/shared/chunked')).text).toBe('hello')
    expect((await call('HEAD', '/shared/chunked')).headers.get('content-encoding')).toBeNull()
    expect(await put('chunked2', body('bad'), headers)).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
    })
    expect((await call('HEAD', '/shared/chunked2')).status).toBe(404)
    expect(await put('chunked3', 'x', { ...headers, 'x-amz-decoded-content-length': '' })).toMatchObject({
      status: 400,
    })
    const { 'x-amz-decoded-content-length': _, ...noLength } = headers
    expect(await put('chunked4', 'x', noLength)).toMatchObject({ status: 411, code: 'MissingContentLength' })
    expect(await put('chunked5', 'x', { ...headers, 'x-amz-trailer': 'x-amz-meta-nope' })).toMatchObject({
      status: 400,
      code: 'InvalidRequest',
    })
    // Framing that disagrees with the payload mode is refused rather than stored as data.
    expect(await put('chunked6', 'x', { 'content-encoding': 'aws-chunked' })).toMatchObject({
      status: 400,
      code: 'InvalidRequest',
    })
  })

  it('serves ranges and refuses unsatisfiable ones', async () => {
    await put('r', '0123456789')
    const part = await call('GET', '/shared/r', { headers: { range: 'bytes=2-4' } })
    expect(part).toMatchObject({ status: 206, text: '234' })
    expect(part.headers.get('content-range')).toBe('bytes 2-4/10')
    expect(part.headers.get('content-length')).toBe('3')
    expect((await call('GET', '/shared/r', { headers: { range: 'bytes=-3' } })).text).toBe('789')
    expect(await call('GET', '/shared/r', { headers: { range: 'bytes=10-' } })).toMatchObject({
      status: 416,
      code: 'InvalidRange',
    })
    expect(await call('GET', '/shared/r', { headers: { range: 'bytes=0-1,4-5' } })).toMatchObject({
      status: 200,
      text: '0123456789',
    })
  })

  it('answers conditional GETs with 304 and 412', async () => {
    const etag = (await put('c', 'conditional')).headers.get('etag')!
    const get = (headers: Record<string, string>) => call('GET', '/shared/c', { headers })
    expect((await get({ 'if-match': etag })).status).toBe(200)
    expect(await get({ 'if-match': '"other"' })).toMatchObject({ status: 412, code: 'PreconditionFailed' })
    const notModified = await get({ 'if-none-match': etag })
    expect(notModified).toMatchObject({ status: 304, text: '' })
    expect(notModified.headers.get('etag')).toBe(etag)
    expect((await get({ 'if-modified-since': new Date(Date.now() + 60_000).toUTCString() })).status).toBe(304)
    expect((await get({ 'if-unmodified-since': 'Mon, 01 Jan 2001 00:00:00 GMT' })).status).toBe(412)
  })

  it('writes conditionally with If-None-Match: *', async () => {
    expect((await put('once', 'first', { 'if-none-match': '*' })).status).toBe(200)
    expect(await put('once', 'second', { 'if-none-match': '*' })).toMatchObject({
      status: 412,
      code: 'PreconditionFailed',
    })
    expect(await put('once', 'third', { 'if-match': '"x"' })).toMatchObject({
      status: 412,
      code: 'PreconditionFailed',
    })
    expect(await put('once', 'fourth', { 'if-none-match': '"x"' })).toMatchObject({ status: 501 })
    expect((await call('GET', '/shared/once')).text).toBe('first')
  })

  it('deletes with a delete marker and reads old versions by id', async () => {
    const first = await put('v', 'one')
    const deleted = await call('DELETE', '/shared/v')
    expect(deleted.status).toBe(204)
    expect(deleted.headers.get('x-amz-delete-marker')).toBe('true')
    const marker = deleted.headers.get('x-amz-version-id')!
    expect((await call('GET', '/shared/v')).status).toBe(404)
    expect((await call('GET', `/shared/v?versionId=${first.headers.get('x-amz-version-id')}`)).text).toBe(
      'one',
    )
    expect(await call('GET', `/shared/v?versionId=${marker}`)).toMatchObject({
      status: 405,
      code: 'MethodNotAllowed',
    })
    expect((await call('DELETE', '/shared/never-existed')).status).toBe(204)
  })

  it('copies with COPY and REPLACE metadata directives and copy-source conditions', async () => {
    await put('src', 'copy me', { 'content-type': 'text/plain', 'x-amz-meta-a': '1' })
    const copied = await call('PUT', '/shared/dst', { headers: { 'x-amz-copy-source': '/shared/src' } })
    expect(copied.text).toContain('<CopyObjectResult')
    expect(copied.headers.get('x-amz-copy-source-version-id')).toBeTruthy()
    expect((await call('HEAD', '/shared/dst')).headers.get('x-amz-meta-a')).toBe('1')
    await call('PUT', '/shared/dst2', {
      headers: {
        'x-amz-copy-source': 'shared/src',
        'x-amz-metadata-directive': 'REPLACE',
        'x-amz-meta-b': '2',
        'content-type': 'text/csv',
      },
    })
    const replaced = await call('HEAD', '/shared/dst2')
    expect(replaced.headers.get('x-amz-meta-a')).toBeNull()
    expect(replaced.headers.get('content-type')).toBe('text/csv')
    expect(
      await call('PUT', '/shared/src', { headers: { 'x-amz-copy-source': '/shared/src' } }),
    ).toMatchObject({ status: 400, code: 'InvalidRequest' })
    expect(
      await call('PUT', '/shared/d3', {
        headers: { 'x-amz-copy-source': '/shared/src', 'x-amz-copy-source-if-none-match': '*' },
      }),
    ).toMatchObject({ status: 412 })
    expect(
      await call('PUT', '/shared/d4', {
        headers: { 'x-amz-copy-source': '/shared/src', 'x-amz-metadata-directive': 'MOVE' },
      }),
    ).toMatchObject({ status: 400, code: 'InvalidArgument' })
    expect(await call('PUT', '/shared/d5', { headers: { 'x-amz-copy-source': 'nokey' } })).toMatchObject({
      status: 400,
      code: 'InvalidArgument',
    })
    expect(
      await call('PUT', '/shared/d6', { headers: { 'x-amz-copy-source': '/private/src' } }),
    ).toMatchObject({ status: 404, code: 'NoSuchKey' })
    expect(
      await call('PUT', '/shared/d7', { key: 'AKIDBOB', headers: { 'x-amz-copy-source': '/shared/src' } }),
    ).toMatchObject({ status: 403 })
  })

  it('deletes many objects at once, reporting each failure on its own', async () => {
    await put('m1', 'x')
    await put('m2', 'x')
    const body =
      '<Delete><Object><Key>m1</Key></Object><Object><Key>m2</Key></Object><Object><Key>a/../b</Key></Object><Object><Key>m1</Key><VersionId>v</VersionId></Object></Delete>'
    const result = await call('POST', '/shared?delete', {
      body,
      headers: { 'content-md5': createHash('md5').update(body).digest('base64') },
    })
    expect(result.status).toBe(200)
    expect(result.text.match(/<Deleted>/g)).toHaveLength(2)
    expect(result.text).toContain('<Error><Key>a/../b</Key><Code>InvalidArgument</Code>')
    expect(result.text).toContain('<Error><Key>m1</Key><VersionId>v</VersionId><Code>InvalidArgument</Code>')
    const quiet = await call('POST', '/shared?delete', {
      body: '<Delete><Quiet>true</Quiet><Object><Key>m2</Key></Object></Delete>',
    })
    expect(quiet.text).not.toContain('<Deleted>')
    expect(
      await call('POST', '/shared?delete', {
        body,
        headers: { 'content-md5': createHash('md5').update('x').digest('base64') },
      }),
    ).toMatchObject({ code: 'BadDigest' })
    const denied = await call('POST', '/shared?delete', {
      key: 'AKIDBOB',
      body: '<Delete><Object><Key>m2</Key></Object></Delete>',
    })
    expect(denied.text).toContain('<Code>AccessDenied</Code>')
    const tooMany = `<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`
    expect(await call('POST', '/shared?delete', { body: tooMany })).toMatchObject({ code: 'MalformedXML' })
  })
})

describe('S3 access log', () => {
  let records: S3RequestRecord[]
  beforeEach(() => {
    records = []
    app = createS3App({ ...init, onRequest: (record) => records.push(record) })
  })

  it('records every request once its answer is sent, with the id of its answer and error document', async () => {
    const stored = await put('dir/a.txt', 'hello')
    expect(records).toHaveLength(1)
    expect(records[0]).toMatchObject({
      requestId: stored.headers.get('x-amz-request-id'),
      method: 'PUT',
      operation: 'PutObject',
      bucket: 'shared',
      key: 'dir/a.txt',
      userId: 'alice',
      status: 200,
      bytesIn: 5,
      bytesOut: 0,
    })
    expect(records[0]!.durationMs).toBeGreaterThanOrEqual(0)
    expect(records[0]!.error).toBeUndefined()

    await call('GET', '/shared/dir/a.txt')
    expect(records[1]).toMatchObject({
      method: 'GET',
      operation: 'GetObject',
      status: 200,
      bytesIn: 0,
      bytesOut: 5,
    })
    await call('HEAD', '/shared/dir/a.txt')
    expect(records[2]).toMatchObject({ method: 'HEAD', operation: 'HeadObject', status: 200, bytesOut: 0 })

    const missing = await call('GET', '/shared/missing')
    const id = /<RequestId>([^<]*)<\/RequestId>/.exec(missing.text)?.[1]
    expect(records[3]).toMatchObject({
      requestId: id,
      status: 404,
      error: 'NoSuchKey',
      key: 'missing',
      bytesOut: Buffer.byteLength(missing.text),
    })
    expect(id).toBe(missing.headers.get('x-amz-request-id'))
  })

  it('records refusals before authentication and bad targets, without an operation or user', async () => {
    await call('GET', '/shared/k', { key: 'AKIDNOBODY' })
    expect(records[0]).toMatchObject({ status: 403, error: 'InvalidAccessKeyId', bucket: 'shared', key: 'k' })
    expect(records[0]!.operation).toBeUndefined()
    expect(records[0]!.userId).toBeUndefined()
    await call('GET', '/shared/%ZZ')
    expect(records[1]).toMatchObject({ status: 400, error: 'InvalidURI' })
    expect(records[1]!.bucket).toBeUndefined()
  })

  it('asks to close after a body the operation stopped reading midway, not after one it read whole', async () => {
    const sig = (s: string) => s.padEnd(64, '0')
    const body = (first: string) =>
      `5;chunk-signature=${sig(first)}\r\nhello\r\n0;chunk-signature=${sig('ab')}\r\n\r\n`
    const headers = {
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'x-amz-decoded-content-length': '5',
      'content-encoding': 'aws-chunked',
    }
    const stored = await put('chunked', body('ab'), headers)
    expect(stored.status).toBe(200)
    expect(stored.headers.get('connection')).toBeNull()
    expect(records[0]).toMatchObject({ bytesIn: Buffer.byteLength(body('ab')) })
    expect(records[0]!.closed).toBeUndefined()
    const refused = await put('chunked2', body('bad'), headers)
    expect(refused).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' })
    expect(refused.headers.get('connection')).toBe('close')
    expect(records[1]).toMatchObject({ status: 403, closed: true })
  })

  it('keeps signatures, credentials and query strings out of the log', async () => {
    await put('k', 'v')
    const signature = 'abcdef0123456789'.repeat(4)
    const query = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDBOB%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=${signature}&response-content-type=text%2Fsecret`
    const response = await app.request(`/shared/k?${query}`, {}, { incoming: { url: `/shared/k?${query}` } })
    expect(await response.text()).toBe('v')
    const logged = JSON.stringify(records)
    expect(records.at(-1)).toMatchObject({ status: 200, userId: 'bob', bytesOut: 1 })
    for (const secret of [signature, '0'.repeat(64), 'AKIDBOB', 'AKIDALICE', 'X-Amz', 'text/secret'])
      expect(logged).not.toContain(secret)
  })

  it('answers the same when the hook throws', async () => {
    app = createS3App({
      ...init,
      onRequest: () => {
        throw new Error('log full')
      },
    })
    expect((await put('k', 'v')).status).toBe(200)
    expect((await call('GET', '/shared/k')).text).toBe('v')
  })

  it('counts a body dropped after an early answer, and asks to close when it is too large to drop', async () => {
    const small = await call('PUT', '/nowhere/k', { body: 'x'.repeat(1000) })
    expect(small.status).toBe(404)
    expect(small.headers.get('connection')).toBeNull()
    expect(records[0]).toMatchObject({ status: 404, error: 'NoSuchBucket', bytesIn: 1000 })
    expect(records[0]!.closed).toBeUndefined()
    const large = await call('PUT', '/nowhere/k', { body: 'x'.repeat(DRAIN_LIMIT + 1) })
    expect(large.headers.get('connection')).toBe('close')
    expect(records[1]).toMatchObject({ status: 404, bytesIn: 0, closed: true })
  })
})

describe('S3 listing', () => {
  beforeEach(async () => {
    for (const key of ['a/1', 'a/2', 'b/1', 'c', 'd e', 'f+g'])
      await put(encodeURIComponent(key).replace(/%2F/g, '/'), key)
  })

  const keys = (xml: string, tag = 'Key'): string[] =>
    [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => m[1]!)

  it('pages ListObjects v1 with markers through common prefixes', async () => {
    const seen: string[] = []
    let marker = ''
    for (let page = 0; page < 10; page++) {
      const result = await call(
        'GET',
        `/shared?delimiter=%2F&max-keys=2&marker=${encodeURIComponent(marker)}`,
      )
      seen.push(...keys(result.text), ...keys(result.text, 'Prefix').filter((p) => p !== ''))
      const next = /<NextMarker>([^<]*)<\/NextMarker>/.exec(result.text)?.[1]
      if (!result.text.includes('<IsTruncated>true')) break
      marker = next!
    }
    expect(seen).toEqual(['a/', 'b/', 'c', 'd e', 'f+g'])
  })

  it('url-encodes names with encoding-type=url', async () => {
    const result = await call('GET', '/shared?list-type=2&encoding-type=url&prefix=d')
    expect(keys(result.text)).toEqual(['d+e'])
    expect(result.text).toContain('<EncodingType>url</EncodingType>')
    expect(keys((await call('GET', '/shared?list-type=2&encoding-type=url&prefix=f')).text)).toEqual([
      'f%2Bg',
    ])
    expect(await call('GET', '/shared?list-type=2&encoding-type=base64')).toMatchObject({ status: 400 })
    expect(await call('GET', '/shared?list-type=2&max-keys=-1')).toMatchObject({
      status: 400,
      code: 'InvalidArgument',
    })
    expect(await call('GET', '/shared?list-type=2&continuation-token=%25%25')).toMatchObject({ status: 400 })
  })

  it('supports start-after in ListObjectsV2', async () => {
    const result = await call('GET', '/shared?list-type=2&start-after=c')
    expect(keys(result.text)).toEqual(['d e', 'f+g'])
    expect(result.text).toContain('<StartAfter>c</StartAfter>')
  })

  it('lists versions and delete markers, newest first, across pages', async () => {
    await put('c', 'again')
    await call('DELETE', '/shared/d%20e')
    const entries: string[] = []
    let query = 'versions&max-keys=3'
    for (let page = 0; page < 10; page++) {
      const result = await call('GET', `/shared?${query}`)
      for (const m of result.text.matchAll(
        /<(Version|DeleteMarker)><Key>([^<]*)<\/Key><VersionId>[^<]*<\/VersionId><IsLatest>(\w+)</g,
      )) {
        entries.push(`${m[1]} ${m[2]} ${m[3]}`)
      }
      if (!result.text.includes('<IsTruncated>true')) break
      const keyMarker = /<NextKeyMarker>([^<]*)</.exec(result.text)![1]!
      const versionMarker = /<NextVersionIdMarker>([^<]*)</.exec(result.text)?.[1]
      query = `versions&max-keys=3&key-marker=${encodeURIComponent(keyMarker)}${versionMarker ? `&version-id-marker=${versionMarker}` : ''}`
    }
    expect(entries).toEqual([
      'Version a/1 true',
      'Version a/2 true',
      'Version b/1 true',
      'Version c true',
      'Version c false',
      'DeleteMarker d e true',
      'Version d e false',
      'Version f+g true',
    ])
    const rolled = await call('GET', '/shared?versions&delimiter=%2F')
    expect(keys(rolled.text, 'Prefix').filter((p) => p !== '')).toEqual(['a/', 'b/'])
    const rolledPage = await call('GET', '/shared?versions&delimiter=%2F&key-marker=a%2F')
    expect(keys(rolledPage.text, 'Prefix').filter((p) => p !== '')).toEqual(['b/'])
    expect(await call('GET', '/shared?versions&version-id-marker=x')).toMatchObject({ status: 400 })
  })
})

describe('S3 multipart uploads', () => {
  async function create(key: string) {
    const result = await call('POST', `/shared/${key}?uploads`, {
      headers: { 'content-type': 'text/plain', 'x-amz-checksum-algorithm': 'CRC32C' },
    })
    expect(result.headers.get('x-amz-checksum-algorithm')).toBe('CRC32C')
    return /<UploadId>([^<]+)</.exec(result.text)![1]!
  }

  it('uploads, lists, completes and reads back a multipart object', async () => {
    const uploadId = await create('mp')
    const etags: string[] = []
    for (const [i, body] of ['part one ', 'part two ', 'end'].entries()) {
      const response = await call('PUT', `/shared/mp?partNumber=${i + 1}&uploadId=${uploadId}`, { body })
      expect(response.headers.get('x-amz-checksum-crc32c')).toMatch(/==$/)
      etags.push(response.headers.get('etag')!)
    }
    const parts = await call('GET', `/shared/mp?uploadId=${uploadId}&max-parts=2`)
    expect(parts.text).toContain('<NextPartNumberMarker>2</NextPartNumberMarker>')
    expect(parts.text).toContain('<IsTruncated>true</IsTruncated>')
    expect(parts.text).toContain('<ChecksumAlgorithm>CRC32C</ChecksumAlgorithm>')
    const uploads = await call('GET', '/shared?uploads')
    expect(uploads.text).toContain(`<UploadId>${uploadId}</UploadId>`)
    const xml = `<CompleteMultipartUpload>${etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`
    const done = await call('POST', `/shared/mp?uploadId=${uploadId}`, { body: xml })
    expect(done.status).toBe(200)
    expect(done.text).toMatch(/<ETag>&quot;[0-9a-f]{32}-3&quot;<\/ETag>/)
    expect(done.text).toMatch(/<ChecksumCRC32C>[^<]+-3<\/ChecksumCRC32C>/)
    const got = await call('GET', '/shared/mp')
    expect(got.text).toBe('part one part two end')
    expect(got.headers.get('content-type')).toBe('text/plain')
    expect(got.headers.get('x-amz-checksum-type')).toBe('COMPOSITE')
    expect((await call('GET', `/shared/mp?uploadId=${uploadId}`)).code).toBe('NoSuchUpload')
  })

  it('aborts uploads and refuses UploadPartCopy of a missing source and half-named parts', async () => {
    const uploadId = await create('ab')
    expect(
      await call('PUT', `/shared/ab?partNumber=1&uploadId=${uploadId}`, {
        headers: { 'x-amz-copy-source': '/shared/x' },
      }),
    ).toMatchObject({ status: 404, code: 'NoSuchKey' })
    expect(await call('PUT', `/shared/ab?partNumber=x&uploadId=${uploadId}`, { body: 'x' })).toMatchObject({
      status: 400,
      code: 'InvalidArgument',
    })
    expect(await call('PUT', '/shared/ab?partNumber=1', { body: 'x' })).toMatchObject({
      status: 400,
      code: 'InvalidRequest',
    })
    expect((await call('DELETE', `/shared/ab?uploadId=${uploadId}`)).status).toBe(204)
    expect(await call('DELETE', `/shared/ab?uploadId=${uploadId}`)).toMatchObject({
      status: 404,
      code: 'NoSuchUpload',
    })
    expect(await call('PUT', `/shared/ab?partNumber=1&uploadId=${uploadId}`, { body: 'x' })).toMatchObject({
      status: 404,
      code: 'NoSuchUpload',
    })
  })

  it('pages ListMultipartUploads with markers and prefixes', async () => {
    const first = await create('dir/one')
    await create('dir/two')
    await create('top')
    const page = await call('GET', '/shared?uploads&max-uploads=1&prefix=dir%2F')
    expect(page.text).toContain(`<NextUploadIdMarker>${first}</NextUploadIdMarker>`)
    const next = await call(
      'GET',
      `/shared?uploads&prefix=dir%2F&key-marker=dir%2Fone&upload-id-marker=${first}`,
    )
    expect(next.text).toContain('<Key>dir/two</Key>')
    expect(next.text).not.toContain('<Key>dir/one</Key>')
    const rolled = await call('GET', '/shared?uploads&delimiter=%2F')
    expect(rolled.text).toContain('<CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes>')
    expect(rolled.text).toContain('<Key>top</Key>')
  })

  it('checks the XML and the checksums listed in CompleteMultipartUpload', async () => {
    const uploadId = await create('x')
    const part = await call('PUT', `/shared/x?partNumber=1&uploadId=${uploadId}`, { body: 'data' })
    const etag = part.headers.get('etag')!
    const complete = (inner: string) =>
      call('POST', `/shared/x?uploadId=${uploadId}`, {
        body: `<CompleteMultipartUpload>${inner}</CompleteMultipartUpload>`,
      })
    expect(await complete(`<Part><PartNumber>one</PartNumber><ETag>${etag}</ETag></Part>`)).toMatchObject({
      code: 'MalformedXML',
    })
    expect(await complete('<Part><PartNumber>1</PartNumber></Part>')).toMatchObject({ code: 'MalformedXML' })
    expect(
      await complete(
        `<Part><PartNumber>1</PartNumber><ETag>${etag}</ETag><ChecksumCRC32C>AAAAAA==</ChecksumCRC32C></Part>`,
      ),
    ).toMatchObject({ code: 'InvalidPart' })
    expect(
      await complete(
        `<Part><PartNumber>1</PartNumber><ETag>${etag}</ETag><ChecksumCRC32C>${part.headers.get('x-amz-checksum-crc32c')}</ChecksumCRC32C></Part>`,
      ),
    ).toMatchObject({ status: 200 })
  })
})

describe('DataError mapping', () => {
  it('maps codes it does not know to InternalError', async () => {
    engine.getBucket = async () => {
      throw new DataError('VersionConflict', 'internal detail')
    }
    expect(await call('GET', '/shared/x')).toMatchObject({ status: 500, code: 'InternalError' })
  })
})

describe('S3 access log, served by @hono/node-server', () => {
  let records: S3RequestRecord[]
  let base: string
  let server: import('node:http').Server

  beforeEach(async () => {
    records = []
    const { createAdaptorServer } = await import('@hono/node-server')
    // Chunks of a realistic size, so that large bodies are quick to store and stream.
    const served = new ObjectEngine({
      blobs: new MemoryBlobStore(),
      index: new MemoryObjectIndex(),
      uploads: new MemoryMultipartStore(),
      clock: new HybridLogicalClock('node-a'),
      chunkSize: 64 * 1024,
    })
    await served.createBucket('shared', GROUP_A)
    server = createAdaptorServer({
      fetch: createS3App({ ...init, engine: served, onRequest: (record) => records.push(record) })
        .fetch as never,
    }) as import('node:http').Server
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`
    return async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  const send = (method: string, path: string, body?: Uint8Array) =>
    fetch(`${base}${path}`, { method, headers: { ...auth() }, ...(body === undefined ? {} : { body }) })
  const logged = async (count: number): Promise<S3RequestRecord[]> => {
    // The record is made when the Node response closes, just after the client has the answer.
    for (let round = 0; round < 200 && records.length < count; round++)
      await new Promise((resolve) => setTimeout(resolve, 5))
    return records
  }

  it('puts the request id on every answer and logs the bytes that went out, small or streamed', async () => {
    const small = new Uint8Array(1000).fill(7)
    const large = new Uint8Array(200_000).map((_, i) => i % 251)
    expect((await send('PUT', '/shared/small', small)).status).toBe(200)
    expect((await send('PUT', '/shared/large', large)).status).toBe(200)
    const got = await send('GET', '/shared/small')
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(small)
    const id = got.headers.get('x-amz-request-id')
    expect(id).toMatch(/^[0-9A-F]{16}$/)
    expect(got.headers.get('x-amz-id-2')).toBe(id)
    const streamed = await send('GET', '/shared/large')
    expect(new Uint8Array(await streamed.arrayBuffer())).toEqual(large)
    const missing = await send('GET', '/shared/missing')
    const text = await missing.text()
    expect(missing.status).toBe(404)
    expect(text).toContain(`<RequestId>${missing.headers.get('x-amz-request-id')}</RequestId>`)
    const [, , getSmall, getLarge, notFound] = await logged(5)
    expect(getSmall).toMatchObject({ requestId: id, status: 200, bytesOut: 1000 })
    expect(getLarge).toMatchObject({ status: 200, bytesOut: 200_000 })
    expect(notFound).toMatchObject({ status: 404, error: 'NoSuchKey', bytesOut: Buffer.byteLength(text) })
  })

  it('answers a body refused midway with its S3 error, then closes the connection', async () => {
    const sig = (text: string) => text.padEnd(64, '0')
    // A first chunk whose signature is refused, and a megabyte after it that is never read.
    const rest = 'x'.repeat(1024 * 1024)
    const body = `5;chunk-signature=${sig('bad')}\r\nhello\r\n${rest.length.toString(16)};chunk-signature=${sig('ab')}\r\n${rest}\r\n0;chunk-signature=${sig('ab')}\r\n\r\n`
    const { request } = await import('node:http')
    const answer = await new Promise<{ status: number; connection: string | undefined; text: string }>(
      (resolve, reject) => {
        const sent = request(`${base}/shared/refused`, {
          method: 'PUT',
          headers: {
            ...auth(),
            'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
            'x-amz-decoded-content-length': String(5 + rest.length),
            'content-encoding': 'aws-chunked',
            'content-length': String(Buffer.byteLength(body)),
          },
        })
        sent.on('response', (response) => {
          let text = ''
          response.on('data', (piece: Buffer) => {
            text += piece.toString()
          })
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, text }),
          )
        })
        // The server may stop reading and close while the rest is still being sent.
        sent.on('error', (err) => reject(err))
        sent.end(body)
      },
    )
    expect(answer.status).toBe(403)
    expect(answer.text).toContain('<Code>SignatureDoesNotMatch</Code>')
    expect(answer.connection).toBe('close')
    const [refused] = await logged(1)
    expect(refused).toMatchObject({ status: 403, error: 'SignatureDoesNotMatch', closed: true })
  })

  it('logs what left of a download the client gave up on', async () => {
    // Larger than what the sockets between server and client can hold at once.
    const large = new Uint8Array(32 * 1024 * 1024).fill(1)
    expect((await send('PUT', '/shared/big', large)).status).toBe(200)
    const abort = new AbortController()
    const answer = await fetch(`${base}/shared/big`, { headers: { ...auth() }, signal: abort.signal })
    const reader = answer.body?.getReader()
    await reader?.read()
    abort.abort()
    const [, download] = await logged(2)
    expect(download?.status).toBe(200)
    expect(download?.bytesOut).toBeGreaterThan(0)
    expect(download?.bytesOut).toBeLessThan(large.byteLength)
  })
})
