import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { SigV4Request } from '../src/index.js'
import { ChunkSignatureVerifier, credentialScope, deriveSigningKey, SigV4Verifier } from '../src/index.js'
import { AKID, expectAuthError, expectThrowsCode, keys, SECRET } from './sigv4-fixtures.js'

/**
 * The worked examples of the AWS documentation ("Signature Calculations for the Authorization Header:
 * Transferring Payload in Multiple Chunks" and "… for trailing headers"): PUT 66,560 bytes of 'a' to
 * /examplebucket/chunkObject.txt in chunks of 65,536 and 1,024 bytes, at 20130524T000000Z. No code of
 * ours or the SDKs produced these numbers, so they check the algorithm independently.
 */
const DOC_TIME = Date.UTC(2013, 4, 24) / 1000
const AMZ_DATE = '20130524T000000Z'
const SCOPE = credentialScope('20130524', 'us-east-1', 's3')
const KEY = deriveSigningKey(SECRET, '20130524', 'us-east-1', 's3')
const CHUNK_1 = Buffer.alloc(65_536, 'a')
const CHUNK_2 = Buffer.alloc(1024, 'a')

const PLAIN = {
  seed: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  chunks: [
    'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
    '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
    'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
  ],
}

const WITH_TRAILER = {
  seed: '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e',
  chunks: [
    'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
    '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
    '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
  ],
  trailer: [['x-amz-checksum-crc32c', 'sOO8/Q=='] as const],
  trailerSignature: 'd81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435',
}

function docRequest(trailer: boolean): SigV4Request {
  const seed = trailer ? WITH_TRAILER.seed : PLAIN.seed
  const signedHeaders = trailer
    ? 'content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer'
    : 'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class'
  return {
    method: 'PUT',
    path: '/examplebucket/chunkObject.txt',
    query: '',
    headers: {
      host: 's3.amazonaws.com',
      'x-amz-date': AMZ_DATE,
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      'x-amz-content-sha256': trailer
        ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
        : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '66560',
      ...(trailer ? { 'x-amz-trailer': 'x-amz-checksum-crc32c' } : { 'content-length': '66824' }),
      authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/${SCOPE},SignedHeaders=${signedHeaders},Signature=${seed}`,
    },
    now: DOC_TIME,
  }
}

function verifier(seed: string): ChunkSignatureVerifier {
  return new ChunkSignatureVerifier({ seedSignature: seed, signingKey: KEY, scope: SCOPE, amzDate: AMZ_DATE })
}

const sigv4 = new SigV4Verifier({ keys })

describe('signed aws-chunked uploads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', () => {
  it('verifies the seed signature of the documented request and hands out a chunk verifier', async () => {
    const verified = await sigv4.verify(docRequest(false))
    expect(verified.signature).toBe(PLAIN.seed)
    expect(verified.payload).toMatchObject({
      kind: 'streaming-signed',
      trailer: false,
      decodedContentLength: 66_560,
    })
    if (verified.payload.kind !== 'streaming-signed') throw new Error('unreachable')
    const chunks = verified.payload.chunkVerifier()
    chunks.verifyChunk(PLAIN.chunks[0]!, CHUNK_1)
    chunks.verifyChunk(PLAIN.chunks[1]!, [CHUNK_2.subarray(0, 100), CHUNK_2.subarray(100)])
    expect(chunks.complete).toBe(false)
    chunks.verifyChunk(PLAIN.chunks[2]!, new Uint8Array(0))
    expect(chunks.complete).toBe(true)
    expect(chunks.chunks).toBe(3)
  })

  it('computes the documented chunk signatures, chained from the seed', () => {
    const chunks = verifier(PLAIN.seed)
    expect(chunks.previousSignature).toBe(PLAIN.seed)
    chunks.verifyChunkHash(PLAIN.chunks[0]!, createHash('sha256').update(CHUNK_1).digest('hex'))
    expect(chunks.previousSignature).toBe(PLAIN.chunks[0])
    chunks.verifyChunk(PLAIN.chunks[1]!, CHUNK_2)
    chunks.verifyChunk(PLAIN.chunks[2]!, [])
    expect(chunks.complete).toBe(true)
  })

  it('refuses a changed byte, a swapped or dropped chunk, and anything after a failure', () => {
    const changed = Buffer.from(CHUNK_1)
    changed[1000] = 0x62
    expectThrowsCode(
      () => verifier(PLAIN.seed).verifyChunk(PLAIN.chunks[0]!, changed),
      'SignatureDoesNotMatch',
    )
    // Chunk 2's signature for chunk 2's data, but chained from the seed: it was moved.
    expectThrowsCode(
      () => verifier(PLAIN.seed).verifyChunk(PLAIN.chunks[1]!, CHUNK_2),
      'SignatureDoesNotMatch',
    )
    // Another request's seed.
    expectThrowsCode(
      () => verifier(WITH_TRAILER.seed).verifyChunk(PLAIN.chunks[0]!, CHUNK_1),
      'SignatureDoesNotMatch',
    )
    const failed = verifier(PLAIN.seed)
    expectThrowsCode(() => failed.verifyChunk('0'.repeat(64), CHUNK_1), 'SignatureDoesNotMatch')
    expectThrowsCode(() => failed.verifyChunk(PLAIN.chunks[0]!, CHUNK_1), 'SignatureDoesNotMatch')
    expectThrowsCode(() => verifier(PLAIN.seed).verifyChunk('not hex', CHUNK_1), 'SignatureDoesNotMatch')
  })

  it('refuses a chunk after the final one, and a trailer before it', () => {
    const chunks = verifier(PLAIN.seed)
    expectThrowsCode(() => chunks.verifyTrailer(WITH_TRAILER.trailerSignature, []), 'SignatureDoesNotMatch')
    const done = verifier(PLAIN.seed)
    done.verifyChunk(PLAIN.chunks[0]!, CHUNK_1)
    done.verifyChunk(PLAIN.chunks[1]!, CHUNK_2)
    done.verifyChunk(PLAIN.chunks[2]!, new Uint8Array(0))
    expectThrowsCode(() => done.verifyChunk(PLAIN.chunks[2]!, new Uint8Array(0)), 'SignatureDoesNotMatch')
  })

  it('refuses a request whose seed signature was made with another secret', async () => {
    const request = docRequest(false)
    const wrongSeed = {
      ...request,
      headers: {
        ...request.headers,
        authorization: request.headers.authorization!.toString().replace('4f23', '4f24'),
      },
    }
    await expectAuthError(sigv4.verify(wrongSeed), 'SignatureDoesNotMatch')
  })
})

describe('signed aws-chunked uploads with a trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)', () => {
  it('verifies the documented chunks and trailer signature', async () => {
    const verified = await sigv4.verify(docRequest(true))
    expect(verified.payload).toMatchObject({
      kind: 'streaming-signed',
      trailer: true,
      trailerNames: ['x-amz-checksum-crc32c'],
      decodedContentLength: 66_560,
    })
    if (verified.payload.kind !== 'streaming-signed') throw new Error('unreachable')
    const chunks = verified.payload.chunkVerifier()
    chunks.verifyChunk(WITH_TRAILER.chunks[0]!, CHUNK_1)
    chunks.verifyChunk(WITH_TRAILER.chunks[1]!, CHUNK_2)
    chunks.verifyChunk(WITH_TRAILER.chunks[2]!, new Uint8Array(0))
    chunks.verifyTrailer(WITH_TRAILER.trailerSignature, WITH_TRAILER.trailer)
    expectThrowsCode(
      () => chunks.verifyTrailer(WITH_TRAILER.trailerSignature, WITH_TRAILER.trailer),
      'SignatureDoesNotMatch',
    )
  })

  it('refuses a trailer whose checksum was changed', () => {
    const chunks = verifier(WITH_TRAILER.seed)
    chunks.verifyChunk(WITH_TRAILER.chunks[0]!, CHUNK_1)
    chunks.verifyChunk(WITH_TRAILER.chunks[1]!, CHUNK_2)
    chunks.verifyChunk(WITH_TRAILER.chunks[2]!, new Uint8Array(0))
    expectThrowsCode(
      () => chunks.verifyTrailer(WITH_TRAILER.trailerSignature, [['x-amz-checksum-crc32c', 'AAAAAA==']]),
      'SignatureDoesNotMatch',
    )
  })

  it('refuses an unparseable x-amz-decoded-content-length', async () => {
    const request = docRequest(true)
    await expectAuthError(
      sigv4.verify({ ...request, headers: { ...request.headers, 'x-amz-decoded-content-length': '-1' } }),
      'InvalidArgument',
    )
  })
})
