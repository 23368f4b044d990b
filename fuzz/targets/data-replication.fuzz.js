// Fuzz target: what a node decodes when another realm node replicates data to it or asks it about its
// data, and what it decodes from the answers (packages/data/src/replication/: fetch and push chunk,
// have-chunks, version and purge records, range digests, GC safety), built with the real network codec.
//
// Byte 0 picks the codec (a request or a response of one of the seven protocols); the rest is its input.
// A codec must decode or throw a `NetworkError` with code `MalformedMessage`; what it decodes must encode
// to bytes that decode to the same value. Anything else escaping is a finding.
import { isDeepStrictEqual } from 'node:util'
import { replicationProtocols } from '@aruna/data'
import * as network from '@aruna/network'

const protocols = replicationProtocols(network)
const CODECS = Object.values(protocols).flatMap((protocol) => [protocol.request, protocol.response])

/** @param {Buffer} data */
export function fuzz(data) {
  if (data.byteLength < 1) return
  const codec = CODECS[data[0] % CODECS.length]
  let message
  try {
    message = codec.decode(new Uint8Array(data.subarray(1)))
  } catch (err) {
    if (network.isNetworkError(err) && err.code === 'MalformedMessage') return
    throw err
  }
  const again = codec.decode(codec.encode(message))
  if (!isDeepStrictEqual(again, message))
    throw new Error(`a ${message.kind} message did not survive a round trip`)
}
