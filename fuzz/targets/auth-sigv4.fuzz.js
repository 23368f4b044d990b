// Fuzz target: the SigV4 parsers and canonicalisation of `@aruna/auth` (packages/auth/src/sigv4-*.ts):
// what an S3 client controls before any secret is looked up.
//
// The first two bytes choose what the rest is:
//   "H:" an Authorization header value   → parseAuthorizationHeader, then the canonical request it implies
//   "Q:" a presigned URL's query string  → parsePresignedQuery, then the canonical request it implies
//   else "path?query" of a request       → canonicalUri, parseQuery, canonicalQuery
// Only AuthError may escape (a documented refusal of bad input); anything else (TypeError, RangeError…)
// is a finding. What parses must also hold the parsers' promises: a signature is 64 lower-case hex
// digits, signed headers are sorted, unique and include host, an Authorization header formatted back
// from what was parsed parses to the same, and canonical forms are idempotent and use only the
// characters SigV4 allows.
import {
  AuthError,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  MAX_PRESIGNED_EXPIRES,
  parseAuthorizationHeader,
  parsePresignedQuery,
  parseQuery,
} from '@aruna/auth'

const SIGNATURE = /^[0-9a-f]{64}$/
const CANONICAL_COMPONENT = /^[A-Za-z0-9\-._~%]*$/

function check(condition, message) {
  if (!condition) throw new Error(message)
}

function checkSigned(parsed, input) {
  check(SIGNATURE.test(parsed.signature), `bad signature accepted from ${JSON.stringify(input)}`)
  const names = parsed.signedHeaders
  check(names.includes('host'), 'signed headers without host accepted')
  for (let i = 1; i < names.length; i++) check(names[i - 1] < names[i], `unsorted signed headers ${names}`)
  const { accessKeyId, scope } = parsed.credential
  for (const part of [accessKeyId, scope.date, scope.region, scope.service]) {
    check(typeof part === 'string' && part.length > 0 && !part.includes('/'), `bad credential part ${part}`)
  }
}

/** The canonical request of a request carrying every signed header (with the name as its value). */
function canonicalOf(parsed, query, presigned) {
  const headers = {}
  for (const name of parsed.signedHeaders) headers[name] = ` ${name}  value `
  const text = canonicalRequest({
    method: 'GET',
    path: '/bucket/key',
    query,
    headers,
    signedHeaders: parsed.signedHeaders,
    payloadHash: 'UNSIGNED-PAYLOAD',
    presigned,
  })
  check(text.split('\n').length === 6 + parsed.signedHeaders.length, 'canonical request has the wrong shape')
}

function fuzzHeader(value) {
  const parsed = parseAuthorizationHeader(value)
  checkSigned(parsed, value)
  const { accessKeyId, scope } = parsed.credential
  const again = parseAuthorizationHeader(
    `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope.date}/${scope.region}/${scope.service}/aws4_request, ` +
      `SignedHeaders=${parsed.signedHeaders.join(';')}, Signature=${parsed.signature}`,
  )
  check(
    JSON.stringify(again) === JSON.stringify(parsed),
    'an Authorization header did not survive a round trip',
  )
  canonicalOf(parsed, [], false)
}

function fuzzPresigned(query) {
  const params = parseQuery(query)
  const parsed = parsePresignedQuery(params)
  checkSigned(parsed, query)
  check(
    Number.isInteger(parsed.expires) && parsed.expires >= 1 && parsed.expires <= MAX_PRESIGNED_EXPIRES,
    `X-Amz-Expires ${parsed.expires} accepted`,
  )
  check(Number.isFinite(parsed.requestTime), 'X-Amz-Date accepted without a time')
  canonicalOf(parsed, params, true)
}

function fuzzUri(text) {
  const q = text.indexOf('?')
  const path = q < 0 ? text : text.slice(0, q)
  const query = q < 0 ? '' : text.slice(q + 1)
  const uri = canonicalUri(path)
  check(canonicalUri(uri) === uri, `canonical URI not idempotent: ${JSON.stringify(path)}`)
  for (const segment of uri.split('/')) {
    check(CANONICAL_COMPONENT.test(segment), `canonical URI segment ${JSON.stringify(segment)}`)
  }
  const canonical = canonicalQuery(parseQuery(query), false)
  for (const pair of canonical.split('&')) {
    if (pair === '') continue
    const [name, value, extra] = pair.split('=')
    check(
      extra === undefined && CANONICAL_COMPONENT.test(name) && CANONICAL_COMPONENT.test(value),
      `pair ${pair}`,
    )
  }
  check(canonicalQuery(parseQuery(canonical), false) === canonical, 'canonical query not idempotent')
}

/** @param {Buffer} data */
export function fuzz(data) {
  const text = data.toString('utf8')
  try {
    if (text.startsWith('H:')) fuzzHeader(text.slice(2))
    else if (text.startsWith('Q:')) fuzzPresigned(text.slice(2))
    else fuzzUri(text)
  } catch (err) {
    if (err instanceof AuthError && typeof err.code === 'string' && err.message !== '') return
    throw err
  }
}
