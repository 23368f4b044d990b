// Fuzz target: the decoders of `@aruna/network` that read bytes from other nodes
// (packages/network/src/framing.ts, codec.ts, reply.ts, lane-wire.ts, automerge/wire.ts).
//
// The input is a byte stream as a peer could send it. The first two bytes steer the run: byte 0 seeds
// how the rest is cut into chunks, byte 1 picks the frame size limit. The rest goes
// - to `FrameDecoder` twice, once whole and once in those chunks: both must yield the same frames and
//   the same refusals (frames never over the limit, oversized ones reported as `MessageTooLarge`), and a
//   broken length prefix must throw `MalformedMessage` at the same point and refuse all later input;
// - every frame, and the whole input, to `messageCodec(...).decode`, `automergeWireCodec.decode`,
//   `decodeReply` and `decodeLaneMessage`: they either decode or throw a `NetworkError` with the documented code, and what they
//   decode encodes again into bytes that decode to the same value (and encode ∘ decode is stable).
// Anything else that escapes (TypeError, RangeError, a plain Error, a wrong code) is a finding.
import { isDeepStrictEqual } from 'node:util'
import {
  automergeWireCodec,
  decodeLaneMessage,
  decodeReply,
  decodeVarint,
  encodeLaneMessage,
  encodeReply,
  FrameDecoder,
  isNetworkError,
  messageCodec,
  NetworkError,
} from '@aruna/network'

const anyMessage = messageCodec((value) => value)
const LIMITS = [0, 1, 7, 64, 127, 128, 300, 4096]

/** @param {Buffer} data */
export function fuzz(data) {
  if (data.byteLength < 2) return
  const seed = data[0]
  const maxFrameBytes = LIMITS[data[1] % LIMITS.length]
  const input = new Uint8Array(data.buffer, data.byteOffset + 2, data.byteLength - 2)

  const whole = decodeFrames([input], maxFrameBytes)
  const pieces = decodeFrames(split(input, seed), maxFrameBytes)
  if (!sameOutcome(whole, pieces)) {
    throw new Error(`splitting the input changed the frames: ${describe(whole)} vs ${describe(pieces)}`)
  }

  checkVarint(input)
  checkDecoders(input)
  for (const item of whole.items) if (item instanceof Uint8Array) checkDecoders(item)
}

/** Feeds `chunks` to a fresh decoder: the frames and refusals, and the error that stopped it, if any. */
function decodeFrames(chunks, maxFrameBytes) {
  const decoder = new FrameDecoder({ maxFrameBytes })
  const items = []
  let failure
  for (const chunk of chunks) {
    let out
    try {
      out = decoder.push(chunk)
    } catch (err) {
      expectCode(err, 'MalformedMessage', 'FrameDecoder.push')
      failure = err
      break
    }
    for (const item of out) {
      if (item instanceof Uint8Array) {
        if (item.byteLength > maxFrameBytes) throw new Error(`a frame of ${item.byteLength} bytes passed`)
      } else {
        expectCode(item, 'MessageTooLarge', 'FrameDecoder.push result')
      }
      items.push(item)
    }
  }
  if (failure !== undefined) {
    // A decoder that hit a broken prefix refuses everything after it.
    try {
      decoder.push(Uint8Array.of(0))
    } catch (err) {
      expectCode(err, 'MalformedMessage', 'FrameDecoder.push after a broken prefix')
      return { items, failed: true, atBoundary: decoder.atBoundary }
    }
    throw new Error('the frame decoder accepted input after a broken length prefix')
  }
  return { items, failed: false, atBoundary: decoder.atBoundary }
}

/**
 * Same frames and refusals, in order. When a broken prefix stopped both, the frames before it in the
 * chunk that broke are lost (`push` throws instead of returning them), so the whole input may have
 * yielded fewer: its items must then be a prefix of the chunked ones.
 */
function sameOutcome(a, b) {
  if (a.failed !== b.failed) return false
  if (a.failed ? a.items.length > b.items.length : a.items.length !== b.items.length) return false
  if (!a.failed && a.atBoundary !== b.atBoundary) return false
  return a.items.every((item, i) => {
    const other = b.items[i]
    if (item instanceof Uint8Array) return other instanceof Uint8Array && isDeepStrictEqual(item, other)
    return other instanceof NetworkError && other.code === item.code
  })
}

function checkVarint(bytes) {
  let decoded
  try {
    decoded = decodeVarint(bytes)
  } catch (err) {
    expectCode(err, 'MalformedMessage', 'decodeVarint')
    return
  }
  if (decoded === undefined) return
  if (!Number.isSafeInteger(decoded.value) || decoded.value < 0 || decoded.next < 1 || decoded.next > 5) {
    throw new Error(`decodeVarint returned ${JSON.stringify(decoded)}`)
  }
}

function checkDecoders(bytes) {
  roundTrip(anyMessage, bytes, 'messageCodec')
  roundTrip(automergeWireCodec, bytes, 'automergeWireCodec')
  let reply
  try {
    reply = decodeReply(bytes)
  } catch (err) {
    expectCode(err, 'MalformedMessage', 'decodeReply')
  }
  if (reply !== undefined) {
    const again = decodeReply(encodeReply(reply))
    const same = reply.ok
      ? again.ok && isDeepStrictEqual(again.payload, reply.payload)
      : !again.ok && again.error.code === reply.error.code && again.error.message === reply.error.message
    if (!same) throw new Error('a decoded reply did not survive encodeReply and decodeReply')
  }
  let lane
  try {
    lane = decodeLaneMessage(bytes)
  } catch (err) {
    expectCode(err, 'MalformedMessage', 'decodeLaneMessage')
  }
  if (lane !== undefined && !isDeepStrictEqual(decodeLaneMessage(encodeLaneMessage(lane)), lane))
    throw new Error('a decoded lane message did not survive encodeLaneMessage and decodeLaneMessage')
}

/** Decodes `bytes`; what decodes must encode and decode again to the same encoding. */
function roundTrip(codec, bytes, name) {
  let value
  try {
    value = codec.decode(bytes)
  } catch (err) {
    expectCode(err, 'MalformedMessage', `${name}.decode`)
    return
  }
  const once = codec.encode(value)
  const again = codec.decode(once)
  if (!sameValue(value, again)) throw new Error(`${name}: a decoded value changed in encode and decode`)
  if (!isDeepStrictEqual(once, codec.encode(again)))
    throw new Error(`${name}: encode(decode(x)) is not stable`)
}

/** Deep equality of decoded values: same keys in the same order, bytes equal, 0 and -0 alike (JSON has one zero). */
function sameValue(a, b) {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0
  }
  if (a === null || typeof a !== 'object' || b === null || typeof b !== 'object') return a === b
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const keys = Object.keys(a)
  const otherKeys = Object.keys(b)
  return (
    keys.length === otherKeys.length &&
    keys.every((key, i) => otherKeys[i] === key && sameValue(a[key], b[key]))
  )
}

/** Cuts `bytes` into chunks of 1 to 16 bytes, sizes from a small generator seeded by `seed`. */
function split(bytes, seed) {
  const chunks = []
  let state = seed * 2654435761 + 1
  for (let offset = 0; offset < bytes.byteLength; ) {
    state = (state * 1103515245 + 12345) % 2147483648
    const size = 1 + (state % 16)
    chunks.push(bytes.subarray(offset, offset + size))
    offset += size
  }
  return chunks
}

function expectCode(err, code, where) {
  if (!isNetworkError(err)) throw err // a TypeError, RangeError... escaping: the finding itself
  if (err.code !== code)
    throw new Error(`${where} failed with ${err.code} instead of ${code}: ${err.message}`)
}

function describe(outcome) {
  const items = outcome.items.map((item) => (item instanceof Uint8Array ? item.byteLength : item.code))
  return JSON.stringify({ items, failed: outcome.failed })
}
