// Fuzz target: what a node decodes when another process asks to join its realm
// (apps/aruna/src/realm/join-protocol.ts, on the open protocol anyone who reaches the node may use)
// and the invite line an operator pastes (apps/aruna/src/realm/invite.ts).
//
// Byte 0 picks the decoder; the rest is its input. The join and admit codecs must decode or throw a
// `NetworkError` with code `MalformedMessage`; what they decode must encode to bytes that decode to the
// same value. `decodeInvite` must return a well-formed invite or throw an `InviteError`; an invite it
// returns must encode to a line that decodes to the same invite. Anything else escaping is a finding.
import { isDeepStrictEqual } from 'node:util'
import { isNetworkError } from '@aruna/network'
import { admitProtocol, decodeInvite, encodeInvite, InviteError, joinProtocol } from 'aruna'

const CODECS = [joinProtocol.request, joinProtocol.response, admitProtocol.request, admitProtocol.response]

/** @param {Buffer} data */
export function fuzz(data) {
  if (data.byteLength < 1) return
  const pick = data[0] % (CODECS.length + 1)
  const rest = data.subarray(1)
  if (pick === CODECS.length) {
    let invite
    try {
      invite = decodeInvite(rest.toString('utf8'), 0)
    } catch (err) {
      if (err instanceof InviteError) return
      throw err
    }
    const again = decodeInvite(encodeInvite(invite), 0)
    if (!isDeepStrictEqual(again, invite)) throw new Error('an invite did not survive a round trip')
    return
  }
  const codec = CODECS[pick]
  let message
  try {
    message = codec.decode(new Uint8Array(rest))
  } catch (err) {
    if (isNetworkError(err) && err.code === 'MalformedMessage') return
    throw err
  }
  const again = codec.decode(codec.encode(message))
  if (!isDeepStrictEqual(again, message))
    throw new Error(`a ${message.kind} message did not survive a round trip`)
}
