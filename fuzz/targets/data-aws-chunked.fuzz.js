// Fuzz target: `AwsChunkedDecoder` of `@aruna/data` (packages/data/src/s3/aws-chunked.ts), the streaming
// decoder of S3 `aws-chunked` request bodies (unsigned with trailers, and signed chunk by chunk).
//
// ASYNC target: the decoder is an async generator over an async iterable, and in Jazzer's --sync mode
// no promise ever settles (the fuzz loop runs inside a microtask), so data-aws-chunked.options.json
// passes --no-sync after the runner's --sync.
//
// Input: 5 control bytes, then the body.
//   byte 0  flags: bit 0 signed (a chunk verifier stub is given) / unsigned-trailer mode;
//           bit 1 the verifier answers with promises; bits 2-3 x-amz-decoded-content-length:
//           0 the body's true decoded length, 1 a 16-bit number from byte 3 and the first body byte,
//           2 the true length + (byte 3 as int8), 3 absent or not a number (the constructor must
//           refuse it with DataError('InvalidArgument')); bits 4-5 the trailers announced
//           (x-amz-trailer); bit 6 the source throws a plain Error instead of ending (a connection
//           reset); bit 7 the verifier refuses with a DataError('SignatureDoesNotMatch') instead of a
//           foreign error class.
//   byte 1  how the body is cut into pieces (0: one piece), as a socket would deliver it.
//   byte 2  bit 7 set: the verifier refuses its call number (byte 2 & 0x7f); clear: it accepts all.
//   byte 3  parameter of the decoded length (see bits 2-3).
//   byte 4  0, or the consumer stops after that many pieces (the second run only).
//
// Each input is decoded twice (one piece, then cut into pieces) and by a small synchronous reference
// decoder written from the format's and the class's documentation. Checked:
// - only a DataError, or exactly the error the verifier threw, escapes; the constructor refuses a
//   decoded length that is not a non-negative safe integer, and only that;
// - both runs and the reference agree: success or the same error code, the same decoded bytes (also
//   the prefix yielded before a failure), the same trailers, the same verifier calls (signature and
//   SHA-256 of every chunk, the trailer as signed), so cutting the stream never changes the result;
// - a successful decode yields exactly x-amz-decoded-content-length bytes, never more bytes than came
//   in, has every announced trailer, and never succeeds when the source failed;
// - the source is released (`return()` called) however the decode ends, early stop included;
// - the decode settles: everything here is synchronous underneath, so a decode still pending once
//   the microtask queue has drained is stuck for good (a hang).
import { createHash } from 'node:crypto'
import { AwsChunkedDecoder, DataError, isDataError } from '@aruna/data'

const HEADER = 5
const MAX_LINE = 4096
const MAX_TRAILERS = 16
const EMPTY_SHA256 = createHash('sha256').digest('hex')
const SIGNATURE = /^[0-9a-f]{64}$/
const TRAILER_SETS = [
  [],
  ['x-amz-checksum-crc32'],
  [' X-Amz-Checksum-CRC32 ', 'x-amz-checksum-sha256', ''],
  ['x-amz-meta-a', 'x-amz-checksum-crc32c'],
]
const INVALID_LENGTHS = [undefined, -1, Number.NaN, 1.5, 2 ** 53, Number.POSITIVE_INFINITY, '5', null]
const STUCK = Symbol('stuck')

/** The verifier's refusal when it is not a DataError: must come out of the decoder unchanged. */
class VerifierRefusal extends Error {}
/** The source's failure (a reset connection); the decoder must turn it into IncompleteBody. */
class SourceFailure extends Error {}

function check(condition, message) {
  if (!condition) throw new Error(message)
}

/** Cuts bytes into pieces of 0..40 bytes (empty ones too), deterministically from seed; 0: whole. */
function split(bytes, seed) {
  if (seed === 0) return [bytes]
  const pieces = []
  let state = seed * 2654435761 + 1
  let at = 0
  while (at < bytes.length) {
    state = (state * 1103515245 + 12345) >>> 0
    const size = (state >>> 16) % 41
    pieces.push(bytes.subarray(at, at + size))
    at += size
  }
  pieces.push(bytes.subarray(at))
  return pieces
}

/** A stream of the pieces that records whether it was released, optionally failing at its end. */
function source(pieces, failAtEnd) {
  const state = { returned: false, failed: undefined }
  let i = 0
  const iterator = {
    next: async () => {
      if (i < pieces.length) return { done: false, value: pieces[i++] }
      if (failAtEnd) {
        state.failed = new SourceFailure('connection reset')
        throw state.failed
      }
      return { done: true, value: undefined }
    },
    return: async () => {
      state.returned = true
      return { done: true, value: undefined }
    },
    [Symbol.asyncIterator]() {
      return iterator
    },
  }
  return { iterable: iterator, state }
}

/**
 * The chunk verifier stub: logs every call and refuses call number `refuseAt` (or none), with the
 * same error object every time so the tests can recognise it. Sync or async, as the port allows.
 */
function verifierStub(options, calls, refusal) {
  const answer = (call) => {
    const index = calls.length
    calls.push(call)
    if (index === options.refuseAt) {
      if (options.async) return Promise.reject(refusal)
      throw refusal
    }
    return options.async ? Promise.resolve() : undefined
  }
  return {
    verifyChunk: (signature, chunkSha256) => answer(`chunk ${signature} ${chunkSha256}`),
    verifyTrailer: (signature, trailer) => answer(`trailer ${signature} ${JSON.stringify(trailer)}`),
  }
}

// --- the reference decoder -------------------------------------------------------------------------

class Refused {
  constructor(code) {
    this.code = code
  }
}

/**
 * Decodes the whole body at once, as the class documents it: `<hex size>[;chunk-signature=<sig>]\r\n`,
 * data, `\r\n`, …, `0…\r\n`, trailer lines `name:value\r\n`, an optional empty line. `IncompleteBody`
 * when the body ends early or decodes to another size than announced, `InvalidRequest` when it is
 * malformed or a trailer is missing, the verifier's error as it is.
 */
function reference(body, { decodedLength, signed, announced, failAtEnd, verify }) {
  let pos = 0
  let total = 0
  const out = []
  const trailers = new Map()
  const refuse = (code) => {
    throw new Refused(code)
  }
  const atEof = () => {
    if (failAtEnd) refuse('IncompleteBody') // the source's failure, as the decoder reports it
  }
  /** The next CRLF line without CRLF, undefined at the end. */
  const line = () => {
    if (pos >= body.length) {
      atEof()
      return undefined
    }
    const newline = body.indexOf(0x0a, pos)
    const end = newline === -1 ? body.length : newline + 1
    if (end - pos > MAX_LINE) refuse('InvalidRequest')
    if (newline === -1) refuse('IncompleteBody')
    const text = body.toString('latin1', pos, end)
    pos = end
    if (text.length < 2 || text[text.length - 2] !== '\r') refuse('InvalidRequest')
    return text.slice(0, -2)
  }
  try {
    for (;;) {
      const header = line()
      if (header === undefined) refuse('IncompleteBody')
      const semicolon = header.indexOf(';')
      const hex = semicolon === -1 ? header : header.slice(0, semicolon)
      if (hex.length < 1 || hex.length > 15 || [...hex].some((c) => !'0123456789abcdefABCDEF'.includes(c)))
        refuse('InvalidRequest')
      const size = Number.parseInt(hex, 16)
      let signature
      if (signed) {
        const extensions = semicolon === -1 ? [] : header.slice(semicolon + 1).split(';')
        for (const extension of extensions) {
          const text = extension.trim()
          const value = text.slice('chunk-signature='.length)
          if (text.startsWith('chunk-signature=') && SIGNATURE.test(value)) {
            signature = value
            break
          }
        }
        if (signature === undefined) refuse('InvalidRequest')
      }
      if (size === 0) {
        if (signed) verify.verifyChunk(signature, EMPTY_SHA256)
        break
      }
      total += size
      if (total > decodedLength) refuse('InvalidRequest')
      const data = body.subarray(pos, Math.min(body.length, pos + size))
      out.push(data)
      pos += data.length
      if (data.length < size) {
        atEof()
        refuse('IncompleteBody')
      }
      const end = line()
      if (end === undefined) refuse('IncompleteBody') // the body ended early: right after the data
      if (end !== '') refuse('InvalidRequest')
      if (signed) verify.verifyChunk(signature, createHash('sha256').update(data).digest('hex'))
    }
    if (total !== decodedLength) refuse('IncompleteBody')
    const signedLines = []
    let trailerSignature
    let count = 0
    for (;;) {
      const text = line()
      if (text === undefined) break
      if (text === '') {
        if (pos < body.length) refuse('InvalidRequest')
        atEof()
        break
      }
      if (count >= MAX_TRAILERS) refuse('InvalidRequest')
      const colon = text.indexOf(':')
      if (colon < 1) refuse('InvalidRequest')
      const name = text.slice(0, colon).trim().toLowerCase()
      const value = text.slice(colon + 1).trim()
      if (name === 'x-amz-trailer-signature') {
        trailerSignature = value
        continue
      }
      trailers.set(name, value)
      signedLines.push(`${name}:${value}\n`)
      count++
    }
    for (const name of announced) if (!trailers.has(name)) refuse('InvalidRequest')
    if (signed && announced.length > 0) {
      if (trailerSignature === undefined || !SIGNATURE.test(trailerSignature)) refuse('InvalidRequest')
      verify.verifyTrailer(trailerSignature, signedLines.join(''))
    }
    return { ok: true, out: Buffer.concat(out), trailers, total }
  } catch (err) {
    const code = err instanceof Refused ? err.code : 'verifier'
    if (!(err instanceof Refused) && !(err instanceof VerifierRefusal) && !isDataError(err)) throw err
    return { ok: false, code, out: Buffer.concat(out), total }
  }
}

// --- the decoder under test ------------------------------------------------------------------------

/** Decodes the pieces; resolves to what came out and how it ended. stopAfter: pieces, 0 for all. */
async function decode(init, pieces, { failAtEnd, stopAfter, refusal }) {
  const decoder = new AwsChunkedDecoder(init)
  const { iterable, state } = source(pieces, failAtEnd)
  const out = []
  let code
  let stopped = false
  try {
    for await (const piece of decoder.decode(iterable)) {
      check(piece instanceof Uint8Array, `the decoder yielded ${typeof piece}`)
      out.push(Buffer.from(piece))
      if (stopAfter > 0 && out.length >= stopAfter) {
        stopped = true
        break
      }
    }
  } catch (err) {
    if (err === refusal) code = 'verifier'
    else if (isDataError(err)) {
      check(typeof err.message === 'string' && err.message !== '', 'a DataError without a message')
      code = err.code
      if (state.failed !== undefined && err.code === 'IncompleteBody') {
        check(err.cause === state.failed, "IncompleteBody does not carry the source's error as cause")
      }
    } else throw err
  }
  check(state.returned, 'the decoder did not release its source')
  return {
    ok: code === undefined && !stopped,
    stopped,
    code,
    out: Buffer.concat(out),
    trailers: decoder.trailers,
  }
}

/** Awaits a decode that must settle before the next macrotask (it does no I/O). */
async function settled(promise) {
  const result = await Promise.race([promise, new Promise((resolve) => setImmediate(resolve, STUCK))])
  if (result === STUCK) throw new Error('the decode hangs: still pending with nothing left to wait for')
  return result
}

const show = (r) =>
  r.ok
    ? `ok ${r.out.length} bytes, trailers ${JSON.stringify([...r.trailers])}`
    : `${r.code} after ${r.out.length} bytes`

function sameAsReference(run, ref, calls, refCalls, what) {
  const same =
    run.ok === ref.ok &&
    (run.ok || run.code === ref.code) &&
    run.out.equals(ref.out) &&
    (!run.ok || JSON.stringify([...run.trailers]) === JSON.stringify([...ref.trailers])) &&
    JSON.stringify(calls) === JSON.stringify(refCalls)
  check(
    same,
    `${what}: decoder ${show(run)}, calls ${JSON.stringify(calls)}; ` +
      `reference ${show(ref)}, calls ${JSON.stringify(refCalls)}`,
  )
}

/** @param {Buffer} data */
export async function fuzz(data) {
  if (data.length < HEADER) return
  const flags = data[0]
  const signed = (flags & 1) !== 0
  const lengthMode = (flags >> 2) & 3
  const announced = TRAILER_SETS[(flags >> 4) & 3]
  const failAtEnd = (flags & 0x40) !== 0
  const verifierOptions = {
    async: (flags & 2) !== 0,
    refuseAt: data[2] & 0x80 ? data[2] & 0x7f : -1,
  }
  const refusal =
    flags & 0x80
      ? new DataError('SignatureDoesNotMatch', 'the stub refuses this signature')
      : new VerifierRefusal('the stub refuses this signature')
  const body = data.subarray(HEADER)
  const names = announced.map((n) => n.trim().toLowerCase()).filter((n) => n !== '')

  const refOf = (decodedLength, calls) =>
    reference(body, {
      decodedLength,
      signed,
      announced: names,
      failAtEnd,
      verify: verifierStub({ ...verifierOptions, async: false }, calls, refusal),
    })

  if (lengthMode === 3) {
    const value = INVALID_LENGTHS[data[3] % INVALID_LENGTHS.length]
    try {
      new AwsChunkedDecoder({ decodedLength: value, trailers: announced })
    } catch (err) {
      if (isDataError(err, 'InvalidArgument')) return
      throw err
    }
    throw new Error(`the decoder accepted x-amz-decoded-content-length ${String(value)}`)
  }
  // What the chunk sizes add up to (a chunk size may say up to 2^60 - 1: capped at the largest length).
  const trueLength = Math.min(refOf(Number.MAX_SAFE_INTEGER, []).total, Number.MAX_SAFE_INTEGER)
  const decodedLength =
    lengthMode === 0
      ? trueLength
      : lengthMode === 1
        ? data[3] | ((body[0] ?? 0) << 8)
        : Math.min(Math.max(0, trueLength + ((data[3] << 24) >> 24)), Number.MAX_SAFE_INTEGER)

  const refCalls = []
  const ref = refOf(decodedLength, refCalls)

  for (const [what, seed, stopAfter] of [
    ['one piece', 0, 0],
    [`cut by ${data[1]}`, data[1], data[4]],
  ]) {
    const calls = []
    const init = { decodedLength, trailers: announced }
    if (signed) init.verifier = verifierStub(verifierOptions, calls, refusal)
    const run = await settled(decode(init, split(body, seed), { failAtEnd, stopAfter, refusal }))
    if (run.stopped) {
      // Stopped early: what came out so far is a prefix of the full result; no error on the way.
      check(ref.out.subarray(0, run.out.length).equals(run.out), `${what}: early stop saw other bytes`)
      check(
        JSON.stringify(refCalls.slice(0, calls.length)) === JSON.stringify(calls),
        `${what}: early stop made other verifier calls`,
      )
      continue
    }
    sameAsReference(run, ref, calls, refCalls, what)
    if (run.ok) {
      check(
        run.out.length === decodedLength,
        `${what}: decoded ${run.out.length} bytes, announced ${decodedLength}`,
      )
      check(run.out.length <= body.length, `${what}: more bytes out than in`)
      check(!failAtEnd, `${what}: succeeded although the source failed`)
      for (const name of names) check(run.trailers.has(name), `${what}: announced trailer ${name} missing`)
      if (signed) check(calls.length > 0, `${what}: a signed body passed without any signature check`)
    }
  }
}
