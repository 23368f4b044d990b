import { createHash, createHmac, randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import type { DataErrorCode } from '../src/errors.js'
import { AwsChunkedDecoder, type AwsChunkedInit } from '../src/s3/aws-chunked.js'
import type { ChunkSignatureVerifier } from '../src/s3/port.js'

const EMPTY = createHash('sha256').update('').digest('hex')
const KEY = createHash('sha256').update('signing key').digest()
const SCOPE = '20250101T000000Z\n20250101/us-east-1/s3/aws4_request'
const SEED = 'a'.repeat(64)

const hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex')
const hmac = (text: string) => createHmac('sha256', KEY).update(text).digest('hex')

/** SigV4 chunk signatures, computed as an S3 client computes them: each one chains the previous. */
class ChunkSigner {
  #previous = SEED
  chunk(data: Uint8Array): string {
    this.#previous = hmac(`AWS4-HMAC-SHA256-PAYLOAD\n${SCOPE}\n${this.#previous}\n${EMPTY}\n${hex(data)}`)
    return this.#previous
  }
  trailer(text: string): string {
    this.#previous = hmac(`AWS4-HMAC-SHA256-TRAILER\n${SCOPE}\n${this.#previous}\n${hex(text)}`)
    return this.#previous
  }
}

/** A real verifier written against the port: shows the interface carries what SigV4 needs. */
class HmacChunkVerifier implements ChunkSignatureVerifier {
  #previous = SEED
  verifyChunk(signature: string, chunkSha256: string): void {
    const expected = hmac(`AWS4-HMAC-SHA256-PAYLOAD\n${SCOPE}\n${this.#previous}\n${EMPTY}\n${chunkSha256}`)
    if (expected !== signature)
      throw Object.assign(new Error('bad chunk signature'), { code: 'SignatureDoesNotMatch' })
    this.#previous = signature
  }
  verifyTrailer(signature: string, trailer: string): void {
    const expected = hmac(`AWS4-HMAC-SHA256-TRAILER\n${SCOPE}\n${this.#previous}\n${hex(trailer)}`)
    if (expected !== signature)
      throw Object.assign(new Error('bad trailer signature'), { code: 'SignatureDoesNotMatch' })
  }
}

function encode(
  data: Uint8Array,
  options: { chunkSize?: number; signer?: ChunkSigner; trailers?: Record<string, string> } = {},
): Buffer {
  const size = options.chunkSize ?? 8
  const parts: Buffer[] = []
  const header = (length: number, chunk: Uint8Array) =>
    options.signer === undefined
      ? `${length.toString(16)}\r\n`
      : `${length.toString(16)};chunk-signature=${options.signer.chunk(chunk)}\r\n`
  for (let offset = 0; offset < data.byteLength; offset += size) {
    const chunk = data.subarray(offset, offset + size)
    parts.push(Buffer.from(header(chunk.byteLength, chunk)), Buffer.from(chunk), Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(header(0, new Uint8Array(0))))
  const trailerText = Object.entries(options.trailers ?? {})
    .map(([name, value]) => `${name}:${value}\n`)
    .join('')
  for (const [name, value] of Object.entries(options.trailers ?? {}))
    parts.push(Buffer.from(`${name}:${value}\r\n`))
  if (options.signer !== undefined && trailerText !== '') {
    parts.push(Buffer.from(`x-amz-trailer-signature:${options.signer.trailer(trailerText)}\r\n`))
  }
  parts.push(Buffer.from('\r\n'))
  return Buffer.concat(parts)
}

async function* split(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += size) yield bytes.subarray(offset, offset + size)
}

async function decode(init: AwsChunkedInit, body: Uint8Array, pieceSize = 3) {
  const decoder = new AwsChunkedDecoder(init)
  const out: Uint8Array[] = []
  for await (const piece of decoder.decode(split(body, pieceSize))) out.push(piece)
  return { data: Buffer.concat(out), trailers: Object.fromEntries(decoder.trailers) }
}

async function expectFailure(init: AwsChunkedInit, body: Uint8Array | string, code: DataErrorCode | string) {
  await expect(decode(init, typeof body === 'string' ? Buffer.from(body) : body)).rejects.toMatchObject({
    code,
  })
}

const crcOf = (data: Uint8Array) => {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(crc32(data))
  return bytes.toString('base64')
}

describe('AwsChunkedDecoder', () => {
  it('decodes an unsigned body with a checksum trailer, whatever the piece sizes', async () => {
    const data = randomBytes(100)
    const body = encode(data, { trailers: { 'x-amz-checksum-crc32': crcOf(data) } })
    for (const pieceSize of [1, 2, 7, 64, body.length]) {
      const result = await decode({ decodedLength: 100, trailers: ['x-amz-checksum-crc32'] }, body, pieceSize)
      expect(result.data).toEqual(data)
      expect(result.trailers).toEqual({ 'x-amz-checksum-crc32': crcOf(data) })
    }
  })

  it('decodes an empty body and accepts a body that ends right after the last trailer', async () => {
    expect((await decode({ decodedLength: 0 }, Buffer.from('0\r\n\r\n'))).data.length).toBe(0)
    const result = await decode(
      { decodedLength: 2, trailers: ['x-amz-checksum-crc32'] },
      Buffer.from('2\r\nhi\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n'),
    )
    expect(result.data.toString()).toBe('hi')
  })

  it('checks every chunk signature and the trailer signature with a SigV4 chain', async () => {
    const data = randomBytes(50)
    const trailers = { 'x-amz-checksum-crc32': crcOf(data) }
    const body = encode(data, { signer: new ChunkSigner(), trailers })
    const result = await decode(
      { decodedLength: 50, verifier: new HmacChunkVerifier(), trailers: ['x-amz-checksum-crc32'] },
      body,
    )
    expect(result.data).toEqual(data)
    const unsignedTrailer = encode(data, { signer: new ChunkSigner() })
    expect(
      (await decode({ decodedLength: 50, verifier: new HmacChunkVerifier() }, unsignedTrailer)).data,
    ).toEqual(data)
  })

  it('refuses a body whose data was changed after signing', async () => {
    const data = randomBytes(50)
    const body = encode(data, { signer: new ChunkSigner() })
    body[body.indexOf('\r\n') + 5]! ^= 1
    await expectFailure(
      { decodedLength: 50, verifier: new HmacChunkVerifier() },
      body,
      'SignatureDoesNotMatch',
    )
  })

  it('refuses a signed trailer whose checksum was changed', async () => {
    const data = randomBytes(20)
    const body = encode(data, {
      signer: new ChunkSigner(),
      trailers: { 'x-amz-checksum-crc32': crcOf(data) },
    })
    const tampered = Buffer.from(body.toString('latin1').replace(crcOf(data), 'AAAAAA=='), 'latin1')
    await expectFailure(
      { decodedLength: 20, verifier: new HmacChunkVerifier(), trailers: ['x-amz-checksum-crc32'] },
      tampered,
      'SignatureDoesNotMatch',
    )
  })

  it('refuses chunks without signatures when signed, and a missing trailer signature', async () => {
    await expectFailure(
      { decodedLength: 2, verifier: new HmacChunkVerifier() },
      '2\r\nhi\r\n0\r\n\r\n',
      'InvalidRequest',
    )
    const signer = new ChunkSigner()
    const body = `2;chunk-signature=${signer.chunk(Buffer.from('hi'))}\r\nhi\r\n0;chunk-signature=${signer.chunk(new Uint8Array(0))}\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n`
    await expectFailure(
      { decodedLength: 2, verifier: new HmacChunkVerifier(), trailers: ['x-amz-checksum-crc32'] },
      body,
      'InvalidRequest',
    )
  })

  it.each([
    ['a body that stops mid-chunk', '2\r\na', 'IncompleteBody'],
    ["a body that stops right after a chunk's data (found by fuzzing)", '2\r\nab', 'IncompleteBody'],
    ['a body that stops before the last chunk', '2\r\nab\r\n', 'IncompleteBody'],
    ['a body that stops mid-line', '2\r\nab\r\n0', 'IncompleteBody'],
    ['an empty body', '', 'IncompleteBody'],
    ['fewer bytes than announced', '1\r\na\r\n0\r\n\r\n', 'IncompleteBody'],
    ['more bytes than announced', '3\r\nabc\r\n0\r\n\r\n', 'InvalidRequest'],
    ['a size that is not hex', 'zz\r\nab\r\n0\r\n\r\n', 'InvalidRequest'],
    ['a chunk without its CRLF', '2\r\nabXX0\r\n\r\n', 'InvalidRequest'],
    ['a bare LF line end', '2\nab\r\n0\r\n\r\n', 'InvalidRequest'],
    ['data after the end', '2\r\nab\r\n0\r\n\r\nextra', 'InvalidRequest'],
    ['a trailer line without a colon', '2\r\nab\r\n0\r\nnonsense\r\n\r\n', 'InvalidRequest'],
    ['a line that never ends', `2\r\nab\r\n0\r\n${'x'.repeat(5000)}`, 'InvalidRequest'],
  ])('refuses %s', async (_what, body, code) => {
    await expectFailure({ decodedLength: 2 }, body, code)
  })

  it('refuses a missing announced trailer and too many trailers', async () => {
    await expectFailure(
      { decodedLength: 2, trailers: ['x-amz-checksum-crc32'] },
      '2\r\nab\r\n0\r\n\r\n',
      'InvalidRequest',
    )
    const many = Array.from({ length: 20 }, (_, i) => `x-t${i}:v\r\n`).join('')
    await expectFailure({ decodedLength: 2 }, `2\r\nab\r\n0\r\n${many}\r\n`, 'InvalidRequest')
  })

  it('turns a broken source into IncompleteBody and refuses a bad decoded length', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('5\r\nab')
      throw new Error('ECONNRESET')
    }
    const decoder = new AwsChunkedDecoder({ decodedLength: 5 })
    await expect(
      (async () => {
        for await (const _ of decoder.decode(broken())) {
          /* drain */
        }
      })(),
    ).rejects.toMatchObject({ code: 'IncompleteBody' })
    expect(() => new AwsChunkedDecoder({ decodedLength: -1 })).toThrow(
      expect.objectContaining({ code: 'InvalidArgument' }),
    )
  })

  it('releases the source when the consumer stops early', async () => {
    let released = false
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        yield Buffer.from('2\r\nab\r\n2\r\ncd\r\n')
        yield Buffer.from('0\r\n\r\n')
      } finally {
        released = true
      }
    }
    for await (const _ of new AwsChunkedDecoder({ decodedLength: 4 }).decode(source())) break
    expect(released).toBe(true)
  })
})
