// Fuzz target: what a node decodes when another realm node replicates data to it or asks it about its
// data, and what it decodes from the answers (packages/data/src/replication/: fetch and push chunk,
// have-chunks, version and purge records, range digests, GC safety, bucket records and tombstones,
// multipart upload records, part records and upload tombstones), built with the real network codec.
//
// Byte 0 picks the codec (its low bits: a request or a response of one of the nine protocols; a new
// protocol goes last, so the seeds of the earlier ones keep their codec) and the
// form of the rest: with its high bit clear, the rest is the encoded message as it arrives; with it set,
// the rest is the message's JSON header alone and the target puts the length prefix in front, so that
// mutations of the JSON reach the decoders instead of breaking the prefix. A codec must decode or throw a
// `NetworkError` with code `MalformedMessage`; what it decodes must encode to bytes that decode to the
// same value. Anything else escaping is a finding.
import { isDeepStrictEqual } from 'node:util'
import { replicationProtocols } from '@aruna/data'
import * as network from '@aruna/network'

const protocols = replicationProtocols(network)
const CODECS = Object.values(protocols).flatMap((protocol) => [protocol.request, protocol.response])

/** @param {Buffer} data */
export function fuzz(data) {
  if (data.byteLength < 1) return
  const codec = CODECS[(data[0] & 0x7f) % CODECS.length]
  const rest = new Uint8Array(data.subarray(1))
  const bytes = data[0] & 0x80 ? concat(network.encodeVarint(rest.byteLength), rest) : rest
  let message
  try {
    message = codec.decode(bytes)
  } catch (err) {
    if (network.isNetworkError(err) && err.code === 'MalformedMessage') return
    throw err
  }
  const again = codec.decode(codec.encode(message))
  if (!isDeepStrictEqual(again, message))
    throw new Error(`a ${message.kind} message did not survive a round trip`)
}

function concat(a, b) {
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a)
  out.set(b, a.byteLength)
  return out
}
