import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalUri,
  formatAmzDate,
  MAX_AUTHORIZATION_LENGTH,
  parseAmzDate,
  parseAuthorizationHeader,
  parsePresignedQuery,
  parseQuery,
} from '../src/index.js'
import { hmacPads, percentDecode, signHexWithPads, uriEncodeBytes } from '../src/sigv4-canonical.js'
import { parseCredential } from '../src/sigv4-parse.js'
import { expectThrowsCode } from './sigv4-fixtures.js'

const SIG = 'a'.repeat(64)
const CRED = 'AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request'

describe('parseAuthorizationHeader', () => {
  it('reads the three components, in any order, with or without spaces after the commas', () => {
    const expected = {
      credential: {
        accessKeyId: 'AKIDEXAMPLE',
        scope: { date: '20150830', region: 'us-east-1', service: 's3' },
      },
      signedHeaders: ['host', 'x-amz-date'],
      signature: SIG,
    }
    for (const value of [
      `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host;x-amz-date, Signature=${SIG}`,
      `AWS4-HMAC-SHA256 Credential=${CRED},SignedHeaders=host;x-amz-date,Signature=${SIG}`,
      `AWS4-HMAC-SHA256  Signature=${SIG} , Credential=${CRED},SignedHeaders=host;x-amz-date`,
    ]) {
      expect(parseAuthorizationHeader(value)).toEqual(expected)
    }
  })

  it('refuses everything else with AuthorizationHeaderMalformed', () => {
    const ok = (c = CRED, h = 'host;x-amz-date', s = SIG) =>
      `AWS4-HMAC-SHA256 Credential=${c}, SignedHeaders=${h}, Signature=${s}`
    const bad = [
      '',
      'AWS4-HMAC-SHA256',
      'AWS AKIDEXAMPLE:signature',
      'Bearer token',
      `AWS4-HMAC-SHA512 Credential=${CRED}, SignedHeaders=host, Signature=${SIG}`,
      `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host`,
      `AWS4-HMAC-SHA256 Credential=${CRED}, Credential=${CRED}, SignedHeaders=host, Signature=${SIG}`,
      `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=${SIG}, Extra=1`,
      `AWS4-HMAC-SHA256 Credential, SignedHeaders=host, Signature=${SIG}`,
      ok('AKIDEXAMPLE/20150830/us-east-1/s3'),
      ok('AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request/x'),
      ok('AKIDEXAMPLE/20150230/us-east-1/s3/aws4_request'),
      ok('AKIDEXAMPLE/2015083/us-east-1/s3/aws4_request'),
      ok('AKIDEXAMPLE/20150830/us east/s3/aws4_request'),
      ok('AKIDEXAMPLE/20150830/us-east-1/S3/aws4_request'),
      ok('AKIDEXAMPLE/20150830/us-east-1/s3/aws5_request'),
      ok('/20150830/us-east-1/s3/aws4_request'),
      ok('AKID EXAMPLE/20150830/us-east-1/s3/aws4_request'),
      ok(CRED, 'x-amz-date;host'),
      ok(CRED, 'host;host'),
      ok(CRED, 'Host;x-amz-date'),
      ok(CRED, 'x-amz-date'),
      ok(CRED, 'host;'),
      ok(CRED, 'host', SIG.toUpperCase()),
      ok(CRED, 'host', SIG.slice(1)),
      `AWS4-HMAC-SHA256 Credential=${CRED}, SignedHeaders=host, Signature=${SIG}${' '.repeat(MAX_AUTHORIZATION_LENGTH)}`,
      ok(CRED, Array.from({ length: 300 }, (_, i) => `h${String(i).padStart(3, '0')}`).join(';')),
    ]
    for (const value of bad)
      expectThrowsCode(() => parseAuthorizationHeader(value), 'AuthorizationHeaderMalformed')
    expectThrowsCode(() => parseAuthorizationHeader(42 as unknown as string), 'AuthorizationHeaderMalformed')
  })
})

describe('parsePresignedQuery', () => {
  const QUERY = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${encodeURIComponent(CRED)}&X-Amz-Date=20150830T123600Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=${SIG}`

  it('reads the X-Amz-* parameters, decoded', () => {
    expect(parsePresignedQuery(`${QUERY}&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&other=1`)).toEqual({
      credential: {
        accessKeyId: 'AKIDEXAMPLE',
        scope: { date: '20150830', region: 'us-east-1', service: 's3' },
      },
      signedHeaders: ['host'],
      signature: SIG,
      amzDate: '20150830T123600Z',
      requestTime: Date.UTC(2015, 7, 30, 12, 36) / 1000,
      expires: 86_400,
      contentSha256: 'UNSIGNED-PAYLOAD',
    })
    expect(parsePresignedQuery(`${QUERY}&X-Amz-Security-Token=abc`).securityToken).toBe('abc')
  })

  it('refuses missing, repeated or malformed parameters with AuthorizationQueryParametersError', () => {
    const without = (name: string) =>
      QUERY.split('&')
        .filter((p) => !p.startsWith(`${name}=`))
        .join('&')
    const bad = [
      ...[
        'X-Amz-Algorithm',
        'X-Amz-Credential',
        'X-Amz-Date',
        'X-Amz-Expires',
        'X-Amz-SignedHeaders',
        'X-Amz-Signature',
      ].map(without),
      `${QUERY}&X-Amz-Date=20150830T123600Z`,
      QUERY.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256'),
      QUERY.replace('86400', '0'),
      QUERY.replace('86400', '604801'),
      QUERY.replace('86400', '-1'),
      QUERY.replace('86400', '1e3'),
      QUERY.replace('86400', ''),
      QUERY.replace('20150830T123600Z', '20150830T123600'),
      QUERY.replace('20150830T123600Z', '20150830T246000Z'),
      QUERY.replace('X-Amz-SignedHeaders=host', 'X-Amz-SignedHeaders=x-amz-date'),
    ]
    for (const query of bad)
      expectThrowsCode(() => parsePresignedQuery(query), 'AuthorizationQueryParametersError')
    expectThrowsCode(() => parsePresignedQuery(`${QUERY}&x=%G0`), 'InvalidURI')
  })
})

describe('dates', () => {
  it('parses and formats ISO 8601 basic times, refusing impossible ones', () => {
    expect(parseAmzDate('20130524T000000Z', 'AuthorizationHeaderMalformed')).toBe(
      Date.UTC(2013, 4, 24) / 1000,
    )
    expect(formatAmzDate(Date.UTC(2013, 4, 24, 1, 2, 3) / 1000)).toBe('20130524T010203Z')
    for (const text of [
      '20130230T000000Z',
      '20131324T000000Z',
      '20130524T240000Z',
      '20130524T006000Z',
      '2013-05-24T00:00:00Z',
      '00990524T000000Z',
    ]) {
      expectThrowsCode(
        () => parseAmzDate(text, 'AuthorizationHeaderMalformed'),
        'AuthorizationHeaderMalformed',
      )
    }
  })
})

describe('canonical request parts', () => {
  it('encodes the path once, per segment, keeping / and unreserved characters', () => {
    expect(canonicalUri('')).toBe('/')
    expect(canonicalUri('/bucket/key')).toBe('/bucket/key')
    expect(canonicalUri('/b/a%20b')).toBe('/b/a%20b')
    expect(canonicalUri('/b/a%2fb')).toBe('/b/a%2Fb')
    expect(canonicalUri('/b/%7Etilde')).toBe('/b/~tilde')
    expect(canonicalUri('/b/a+b!')).toBe('/b/a%2Bb%21')
    expect(canonicalUri('/b/ü')).toBe('/b/%C3%BC')
    expect(canonicalUri('/b/😀')).toBe('/b/%F0%9F%98%80')
    expect(canonicalUri('/b/./../c//')).toBe('/b/./../c//')
    expectThrowsCode(() => canonicalUri('/b/%'), 'InvalidURI')
    expectThrowsCode(() => canonicalUri('/b/%2'), 'InvalidURI')
  })

  it('sorts the query by name then value and re-encodes it; + is a space', () => {
    expect(canonicalQuery(parseQuery('b=2&a=2&a=1&c&d='), false)).toBe('a=1&a=2&b=2&c=&d=')
    expect(canonicalQuery(parseQuery('prefix=a+b&x=%7e&y=a%2fb&z=*'), false)).toBe(
      'prefix=a%20b&x=~&y=a%2Fb&z=%2A',
    )
    expect(canonicalQuery(parseQuery('X-Amz-Signature=s&a=1'), true)).toBe('a=1')
    expect(canonicalQuery(parseQuery('X-Amz-Signature=s&a=1'), false)).toBe('X-Amz-Signature=s&a=1')
    expect(parseQuery('&&a=1&&')).toHaveLength(1)
    expect(parseQuery('k=%E2%9C%93')[0]).toMatchObject({ name: 'k', value: '✓' })
  })

  it('gives every path and query value the encoding of its decoded bytes, already encoded or not', () => {
    // The fast path keeps a value that is its own encoding; every other goes through decode + encode.
    // Pieces that are and are not their own encoding: upper- and lower-case escapes, escapes of
    // unreserved and reserved bytes, bad escapes, UTF-8 beyond ASCII, `+`, `/` and plain text.
    const pieces = [
      'a',
      'Z',
      '9',
      '-',
      '~',
      '%2F',
      '%2f',
      '%41',
      '%7E',
      '%20',
      '%C3%BC',
      '%c3%bc',
      '+',
      '/',
      '*',
      'ü',
      '%',
      '%G1',
      '%4',
    ]
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    const slow = (raw: string, plusIsSpace: boolean) =>
      uriEncodeBytes(percentDecode(raw, plusIsSpace, 'test'))
    const outcome = (f: () => string) => {
      try {
        return f()
      } catch (err) {
        return `throws ${(err as { code?: string }).code}`
      }
    }
    const shown = new Set<string>()
    for (let n = 0; n < 3000; n++) {
      const raw = Array.from({ length: 1 + random(5) }, () => pieces[random(pieces.length)]).join('')
      const path = `/b/${raw}`
      const expectedPath = outcome(() =>
        path
          .split('/')
          .map((segment) => slow(segment, false))
          .join('/'),
      )
      expect(
        outcome(() => canonicalUri(path)),
        path,
      ).toBe(expectedPath)
      const expectedQuery = outcome(() => `k=${slow(raw.replaceAll('/', '%2F'), true)}`)
      expect(
        outcome(() => canonicalQuery(parseQuery(`k=${raw.replaceAll('/', '%2F')}`), false)),
        raw,
      ).toBe(expectedQuery)
      shown.add(expectedPath === path ? 'kept' : expectedPath.startsWith('throws') ? 'refused' : 'encoded')
    }
    expect([...shown].sort()).toEqual(['encoded', 'kept', 'refused'])
  })

  it('signs with prepared HMAC pads exactly as HMAC-SHA256 does, for keys up to and beyond a block', () => {
    for (const length of [0, 1, 31, 32, 33, 63, 64, 65, 100, 200]) {
      const key = Buffer.from(Array.from({ length }, (_v, i) => (i * 37 + length) & 0xff))
      const pads = hmacPads(key)
      for (const text of ['', 'AWS4-HMAC-SHA256\n20261207T000000Z\nscope\nabc', 'ü✓😀'.repeat(40)]) {
        expect(signHexWithPads(pads, text), `key of ${length} bytes`).toBe(
          createHmac('sha256', key).update(text).digest('hex'),
        )
      }
    }
  })

  it('canonicalises exactly the signed headers, safely for any name', () => {
    const headers = { host: 'h', 'x-a': ['  1 ', ' 2  3'], 'x-b': 'a\tb\r\nc' }
    expect(canonicalHeaders(headers, ['host', 'x-a', 'x-b'])).toBe('host:h\nx-a:1,2 3\nx-b:a b c\n')
    expectThrowsCode(() => canonicalHeaders(headers, ['constructor']), 'SignatureDoesNotMatch')
    expectThrowsCode(() => canonicalHeaders(headers, ['__proto__']), 'SignatureDoesNotMatch')
  })
})

describe('parseCredential', () => {
  it('parses a credential once and hands the same frozen result out again', () => {
    const text = 'AKIDEXAMPLE/20250101/us-east-1/s3/aws4_request'
    const first = parseCredential(text, 'AuthorizationHeaderMalformed')
    expect(first).toEqual({
      accessKeyId: 'AKIDEXAMPLE',
      scope: { date: '20250101', region: 'us-east-1', service: 's3' },
    })
    expect(parseCredential(text, 'AuthorizationQueryParametersError')).toBe(first)
    expect(Object.isFrozen(first) && Object.isFrozen(first.scope)).toBe(true)
  })

  it('refuses a bad credential every time, with the code of the caller', () => {
    for (const bad of [
      'AKID/20250230/us-east-1/s3/aws4_request',
      'AKID/20250101/us-east-1/s3/aws5_request',
    ]) {
      expectThrowsCode(
        () => parseCredential(bad, 'AuthorizationHeaderMalformed'),
        'AuthorizationHeaderMalformed',
      )
      expectThrowsCode(
        () => parseCredential(bad, 'AuthorizationQueryParametersError'),
        'AuthorizationQueryParametersError',
      )
    }
  })
})
