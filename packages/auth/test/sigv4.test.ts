import { createHash, createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { SigV4Request } from '../src/index.js'
import {
  canonicalRequest,
  credentialScope,
  deriveSigningKey,
  formatAmzDate,
  parseQuery,
  SigV4Verifier,
  sigV4AuthKind,
  stringToSign,
  verifyPayloadSha256,
} from '../src/index.js'
import {
  AKID,
  escapeKey,
  expectAuthError,
  keys,
  presigned,
  SECRET,
  s3Signer,
  signed,
  smithyRequest,
  T,
  USER,
} from './sigv4-fixtures.js'

const verifier = new SigV4Verifier({ keys })

function sha256(data: string): string {
  return createHash('sha256').update(data).digest('hex')
}

function withHeader(request: SigV4Request, name: string, value: string | undefined): SigV4Request {
  return { ...request, headers: { ...request.headers, [name]: value } }
}

describe('SigV4Verifier: requests signed in the Authorization header by the AWS signer', () => {
  it('accepts a GET and says who signed it', async () => {
    const request = await signed(
      smithyRequest({ path: '/bucket/key.txt', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }),
    )
    const verified = await verifier.verify(request)
    expect(verified).toMatchObject({
      accessKeyId: AKID,
      userId: USER,
      via: 'header',
      scope: { date: '20300317', region: 'us-east-1', service: 's3' },
      requestTime: T,
      expiresAt: undefined,
      payload: { kind: 'unsigned' },
    })
    expect(verified.signedHeaders).toContain('host')
  })

  it('accepts a PUT whose body hash is signed, and returns the hash to check the body against', async () => {
    const body = 'hello, world'
    const request = await signed(smithyRequest({ method: 'PUT', path: '/bucket/k', body }))
    const verified = await verifier.verify(request)
    expect(verified.payload).toEqual({ kind: 'sha256', sha256: sha256(body) })
    expect(() => verifyPayloadSha256(verified, sha256(body))).not.toThrow()
    expect(() => verifyPayloadSha256(verified, sha256('hello, world!'))).toThrow(
      expect.objectContaining({ code: 'XAmzContentSHA256Mismatch' }),
    )
  })

  it('canonicalises exactly the signed headers, trimming values and collapsing inner spaces', async () => {
    const request = await signed(
      smithyRequest({
        path: '/bucket/k',
        headers: {
          'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
          'x-amz-meta-note': '  two   spaces\tand a tab  ',
          'content-type': 'text/plain',
          range: 'bytes=0-9',
        },
      }),
    )
    await expect(verifier.verify(request)).resolves.toMatchObject({ userId: USER })
    // Headers the signer did not sign may come and go (proxies add them).
    const withUnsigned = withHeader(request, 'user-agent', 'curl/8')
    await expect(verifier.verify(withUnsigned)).resolves.toMatchObject({ userId: USER })
  })

  it('accepts keys with characters the SDK escapes, and the same path sent with lower-case escapes', async () => {
    for (const key of [
      'a b/c+d',
      'ü/ñ/文字',
      "x!'()*~.-_",
      'dir/',
      'a//b',
      'semi;colon=eq&amp',
      '%2F literal',
    ]) {
      const request = await signed(
        smithyRequest({
          path: `/bucket/${escapeKey(key)}`,
          headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
        }),
      )
      await expect(verifier.verify(request), key).resolves.toMatchObject({ userId: USER })
      const lower = { ...request, path: request.path.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()) }
      await expect(verifier.verify(lower), key).resolves.toMatchObject({ userId: USER })
    }
  })

  it('neither normalises nor double-encodes the path (S3 rules)', async () => {
    const request = await signed(
      smithyRequest({ path: '/bucket/a/./b/../c', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }),
    )
    await expect(verifier.verify(request)).resolves.toMatchObject({ userId: USER })
    await expectAuthError(verifier.verify({ ...request, path: '/bucket/a/c' }), 'SignatureDoesNotMatch')
  })

  it('canonicalises the query: sorted, re-encoded, valueless parameters and path-style x-id included', async () => {
    const request = await signed(
      smithyRequest({
        path: '/bucket',
        query: { 'list-type': '2', prefix: 'a b/ü', delimiter: '/', 'x-id': 'ListObjectsV2', uploads: '' },
        headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      }),
    )
    expect(request.query).toContain('x-id=ListObjectsV2')
    await expect(verifier.verify(request)).resolves.toMatchObject({ userId: USER })
    // The order of parameters on the wire does not matter, their encoding is normalised.
    const reordered = {
      ...request,
      query: request.query.split('&').reverse().join('&').replace('%2F', '%2f'),
    }
    await expect(verifier.verify(reordered)).resolves.toMatchObject({ userId: USER })
    // A parameter without '=' has the empty value, as `uploads=` (CreateMultipartUpload sends it bare).
    const bare = { ...request, query: request.query.replace('uploads=', 'uploads') }
    expect(bare.query).not.toBe(request.query)
    await expect(verifier.verify(bare)).resolves.toMatchObject({ userId: USER })
  })

  it('refuses a request signed with another secret', async () => {
    const request = await signed(smithyRequest({ path: '/bucket/k', body: '' }), {
      signer: s3Signer('not-the-secret'),
    })
    await expectAuthError(verifier.verify(request), 'SignatureDoesNotMatch')
  })

  it('refuses an unknown access key', async () => {
    const request = await signed(smithyRequest({ path: '/bucket/k', body: '' }), {
      signer: s3Signer('whatever', 'AKUNKNOWN'),
    })
    await expectAuthError(verifier.verify(request), 'InvalidAccessKeyId')
  })

  it('refuses a request whose signed parts were altered: header, path, query, method', async () => {
    const request = await signed(
      smithyRequest({
        path: '/bucket/k',
        query: { versionId: 'v1' },
        headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', range: 'bytes=0-9' },
      }),
    )
    await expect(verifier.verify(request)).resolves.toBeDefined()
    const altered: SigV4Request[] = [
      withHeader(request, 'range', 'bytes=0-99'),
      withHeader(request, 'host', 'evil.example.org'),
      withHeader(request, 'x-amz-content-sha256', sha256('')),
      { ...request, path: '/bucket/k2' },
      { ...request, path: '/bucket/K' },
      { ...request, path: '/bucket/k/' },
      { ...request, query: 'versionId=v2' },
      { ...request, query: `${request.query}&acl` },
      { ...request, query: '' },
      { ...request, method: 'DELETE' },
    ]
    for (const each of altered) await expectAuthError(verifier.verify(each), 'SignatureDoesNotMatch')
  })

  it('refuses a signed header that is missing from the request', async () => {
    const request = await signed(
      smithyRequest({
        path: '/b/k',
        headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', range: 'bytes=0-1' },
      }),
    )
    await expectAuthError(verifier.verify(withHeader(request, 'range', undefined)), 'SignatureDoesNotMatch')
  })

  it('refuses an x-amz-* header that is present but not signed', async () => {
    const request = await signed(
      smithyRequest({ method: 'PUT', path: '/b/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }),
    )
    const err = await expectAuthError(
      verifier.verify(withHeader(request, 'x-amz-copy-source', '/b/secret')),
      'AccessDenied',
    )
    expect(err.message).toContain('x-amz-copy-source')
  })

  it('accepts up to 15 minutes of clock skew either way, not a second more', async () => {
    const request = await signed(
      smithyRequest({ path: '/b/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }),
    )
    for (const now of [T - 900, T + 900]) {
      await expect(verifier.verify({ ...request, now })).resolves.toBeDefined()
    }
    for (const now of [T - 901, T + 901, T + 86_400]) {
      await expectAuthError(verifier.verify({ ...request, now }), 'RequestTimeTooSkewed')
    }
  })

  it('uses the clock when the request does not say what time it is', async () => {
    const request = await signed(
      smithyRequest({ path: '/b/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }),
    )
    const { now: _, ...withoutNow } = request
    await expectAuthError(verifier.verify(withoutNow), 'RequestTimeTooSkewed')
    const atT = new SigV4Verifier({ keys, clock: () => T + 1 })
    await expect(atT.verify(withoutNow)).resolves.toBeDefined()
  })

  it('needs x-amz-content-sha256 and a date, and refuses an unknown payload mode', async () => {
    const request = await signed(
      smithyRequest({ path: '/b/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }),
    )
    await expectAuthError(
      verifier.verify(withHeader(request, 'x-amz-content-sha256', undefined)),
      'MissingSecurityHeader',
    )
    await expectAuthError(
      verifier.verify(withHeader(request, 'x-amz-date', undefined)),
      'MissingSecurityHeader',
    )
    await expectAuthError(
      verifier.verify(
        withHeader(request, 'x-amz-content-sha256', 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD'),
      ),
      'InvalidArgument',
    )
  })

  it('accepts the HTTP Date header in place of x-amz-date when it is signed', async () => {
    const date = new Date(T * 1000).toUTCString()
    const request = await signed(
      smithyRequest({ path: '/b/k', headers: { date, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }),
    )
    // The signer adds x-amz-date; take it out and sign with Date alone, as older clients do.
    expect(request.headers['x-amz-date']).toBeDefined()
    const viaDate = signedWithDateHeaderOnly(date)
    await expect(verifier.verify(viaDate)).resolves.toMatchObject({ requestTime: T })
    await expectAuthError(
      verifier.verify(withHeader(viaDate, 'date', 'yesterday')),
      'AuthorizationHeaderMalformed',
    )
  })

  it('refuses a request whose date header is not among the signed ones', async () => {
    const viaDate = signedWithDateHeaderOnly(new Date(T * 1000).toUTCString())
    const authorization = String(viaDate.headers.authorization).replace(
      'SignedHeaders=date;',
      'SignedHeaders=',
    )
    await expectAuthError(
      verifier.verify({ ...viaDate, headers: { ...viaDate.headers, authorization } }),
      'AuthorizationHeaderMalformed',
    )
  })

  it('keeps verifying across more scopes than it keeps signing keys for', async () => {
    const own = new SigV4Verifier({ keys })
    const regions = Array.from({ length: 1030 }, (_, i) => `region-${i}`)
    const requests = await Promise.all(
      regions.map((region) =>
        signed(smithyRequest({ path: '/b/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }), {
          signer: s3Signer(undefined, undefined, region),
        }),
      ),
    )
    for (const request of [...requests, requests[0]!])
      await expect(own.verify(request)).resolves.toBeDefined()
  })

  it('refuses a scope for another service, region (when restricted) or day', async () => {
    const request = await signed(
      smithyRequest({ path: '/b/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }),
    )
    await expectAuthError(
      new SigV4Verifier({ keys, service: 'sts' }).verify(request),
      'AuthorizationHeaderMalformed',
    )
    await expectAuthError(
      new SigV4Verifier({ keys, regions: ['eu-central-1'] }).verify(request),
      'AuthorizationHeaderMalformed',
    )
    await expect(new SigV4Verifier({ keys, regions: ['us-east-1'] }).verify(request)).resolves.toBeDefined()
    const otherDay = withHeader(request, 'x-amz-date', '20300318T000000Z')
    await expectAuthError(verifier.verify({ ...otherDay, now: T + 22_000 }), 'AuthorizationHeaderMalformed')
  })

  it('refuses session tokens, which this node never issues', async () => {
    const signer = s3Signer()
    const withToken = await signed(
      smithyRequest({
        path: '/b/k',
        headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-security-token': 't' },
      }),
      { signer },
    )
    await expectAuthError(verifier.verify(withToken), 'InvalidToken')
  })

  it('tells anonymous, header and presigned requests apart, and refuses both at once', async () => {
    const header = await signed(
      smithyRequest({ path: '/b/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }),
    )
    const query = await presigned(smithyRequest({ path: '/b/k' }))
    expect(sigV4AuthKind(header)).toBe('header')
    expect(sigV4AuthKind(query)).toBe('presigned')
    expect(sigV4AuthKind({ headers: {}, query: 'x=1' })).toBe('anonymous')
    await expectAuthError(verifier.verify({ ...query, headers: {} }), 'SignatureDoesNotMatch')
    await expectAuthError(
      verifier.verify({ method: 'GET', path: '/b/k', query: '', headers: {} }),
      'AccessDenied',
    )
    const both = { ...query, headers: { ...query.headers, authorization: header.headers.authorization } }
    await expectAuthError(verifier.verify(both), 'InvalidArgument')
  })

  it('refuses a malformed percent-escape in the path or query', async () => {
    const request = await signed(
      smithyRequest({ path: '/b/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }),
    )
    await expectAuthError(verifier.verify({ ...request, path: '/b/%zz' }), 'InvalidURI')
    await expectAuthError(verifier.verify({ ...request, query: 'a=%4' }), 'InvalidURI')
  })
})

describe('SigV4Verifier: presigned URLs made by the AWS signer', () => {
  it('accepts a presigned GET until it expires, and not after', async () => {
    const request = await presigned(smithyRequest({ path: '/bucket/photo.jpg' }), { expiresIn: 600 })
    expect(request.query).toContain('X-Amz-Signature=')
    const verified = await verifier.verify(request)
    expect(verified).toMatchObject({
      userId: USER,
      via: 'presigned',
      expiresAt: T + 600,
      payload: { kind: 'unsigned' },
    })
    await expect(verifier.verify({ ...request, now: T + 600 })).resolves.toBeDefined()
    await expectAuthError(verifier.verify({ ...request, now: T + 601 }), 'ExpiredPresignedRequest')
    // Used long after it was made, but before it expires: fine (no skew rule for presigned URLs).
    const week = await presigned(smithyRequest({ path: '/bucket/photo.jpg' }), { expiresIn: 604_800 })
    await expect(verifier.verify({ ...week, now: T + 604_800 })).resolves.toBeDefined()
    await expectAuthError(verifier.verify({ ...week, now: T + 604_801 }), 'ExpiredPresignedRequest')
  })

  it('refuses a presigned URL dated more than 15 minutes in the future', async () => {
    const request = await presigned(smithyRequest({ path: '/b/k' }), { at: T + 901 })
    await expectAuthError(verifier.verify(request), 'RequestTimeTooSkewed')
    const soon = await presigned(smithyRequest({ path: '/b/k' }), { at: T + 900 })
    await expect(verifier.verify(soon)).resolves.toBeDefined()
  })

  it('keeps the other query parameters signed, and the signature itself out of the canonical query', async () => {
    const request = await presigned(
      smithyRequest({
        path: '/bucket/k',
        query: { 'response-content-type': 'text/plain', 'x-id': 'GetObject' },
      }),
    )
    await expect(verifier.verify(request)).resolves.toBeDefined()
    const tampered = {
      ...request,
      query: request.query.replace('response-content-type=text%2Fplain', 'response-content-type=text%2Fhtml'),
    }
    expect(tampered.query).not.toBe(request.query)
    await expectAuthError(verifier.verify(tampered), 'SignatureDoesNotMatch')
    await expectAuthError(
      verifier.verify({ ...request, query: `${request.query}&partNumber=2` }),
      'SignatureDoesNotMatch',
    )
    await expectAuthError(verifier.verify({ ...request, path: '/bucket/other' }), 'SignatureDoesNotMatch')
    await expectAuthError(verifier.verify({ ...request, method: 'PUT' }), 'SignatureDoesNotMatch')
  })

  it('refuses a lifetime above seven days and a replayed URL whose expiry was raised', async () => {
    const request = await presigned(smithyRequest({ path: '/b/k' }), { expiresIn: 60 })
    const longer = {
      ...request,
      query: request.query.replace('X-Amz-Expires=60', 'X-Amz-Expires=3600'),
      now: T + 120,
    }
    await expectAuthError(verifier.verify(longer), 'SignatureDoesNotMatch')
    const tooLong = { ...request, query: request.query.replace('X-Amz-Expires=60', 'X-Amz-Expires=604801') }
    await expectAuthError(verifier.verify(tooLong), 'AuthorizationQueryParametersError')
  })

  it('signs the payload of a presigned URL as UNSIGNED-PAYLOAD, as S3 does', async () => {
    // Presigned without the UNSIGNED-PAYLOAD header, the AWS signer would sign the empty body's hash:
    // S3 refuses such a URL, and so do we.
    const request = await presigned(smithyRequest({ path: '/b/k' }), { unsignedPayloadHeader: false })
    await expectAuthError(verifier.verify(request), 'SignatureDoesNotMatch')
  })

  it('refuses a presigned URL with a wrong secret, unknown key or a missing parameter', async () => {
    await expectAuthError(
      verifier.verify(await presigned(smithyRequest({ path: '/b/k' }), { signer: s3Signer('wrong') })),
      'SignatureDoesNotMatch',
    )
    await expectAuthError(
      verifier.verify(await presigned(smithyRequest({ path: '/b/k' }), { signer: s3Signer('x', 'AKOTHER') })),
      'InvalidAccessKeyId',
    )
    const request = await presigned(smithyRequest({ path: '/b/k' }))
    const noDate = request.query.replace(/X-Amz-Date=[^&]*&?/, '')
    await expectAuthError(verifier.verify({ ...request, query: noDate }), 'AuthorizationQueryParametersError')
  })

  it('refuses x-amz-* headers that the presigned URL did not sign', async () => {
    const request = await presigned(smithyRequest({ method: 'PUT', path: '/b/k' }))
    await expectAuthError(
      verifier.verify(withHeader(request, 'x-amz-copy-source', '/b/secret')),
      'AccessDenied',
    )
  })
})

/**
 * A request signed with only the HTTP Date header. The AWS signer always replaces Date by x-amz-date, so
 * this one is signed with our own canonical request (the AWS-signed tests above cover that code).
 */
function signedWithDateHeaderOnly(date: string): SigV4Request {
  const headers = { host: 's3.example.org', date, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }
  const signedHeaders = ['date', 'host', 'x-amz-content-sha256']
  const canonical = canonicalRequest({
    method: 'GET',
    path: '/b/k',
    query: parseQuery(''),
    headers,
    signedHeaders,
    payloadHash: 'UNSIGNED-PAYLOAD',
    presigned: false,
  })
  const scope = credentialScope('20300317', 'us-east-1', 's3')
  const key = deriveSigningKey(SECRET, '20300317', 'us-east-1', 's3')
  const signature = createHmac('sha256', key)
    .update(stringToSign(formatAmzDate(T), scope, canonical))
    .digest('hex')
  const authorization = `AWS4-HMAC-SHA256 Credential=${AKID}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`
  return { method: 'GET', path: '/b/k', query: '', headers: { ...headers, authorization }, now: T }
}
