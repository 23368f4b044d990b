import { describeError, NetworkError, type NetworkErrorCode, toNetworkError } from './errors.js'
import type { Protocol } from './port.js'

/**
 * The answer to a request on the wire: status byte 0 then the encoded response, or status byte 1
 * then UTF-8 JSON `{"code","message"}` naming why the serving node refused or failed. Shared by every
 * implementation so that they interoperate; the answering side's error is re-created on the caller.
 */
export type Reply = { ok: true; payload: Uint8Array } | { ok: false; error: NetworkError }

/** The codes a serving node may answer with; any other code on the wire is malformed. */
export const REMOTE_ERROR_CODES: ReadonlySet<NetworkErrorCode> = new Set<NetworkErrorCode>([
  'NotMember',
  'NoHandler',
  'MalformedMessage',
  'MessageTooLarge',
  'HandlerFailed',
])

const MAX_ERROR_FRAME_BYTES = 1024
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeReply(reply: Reply): Uint8Array {
  if (reply.ok) {
    const frame = new Uint8Array(reply.payload.byteLength + 1)
    frame.set(reply.payload, 1)
    return frame
  }
  const code = REMOTE_ERROR_CODES.has(reply.error.code) ? reply.error.code : 'HandlerFailed'
  const body = encoder.encode(JSON.stringify({ code, message: describeError(reply.error) }))
  const frame = new Uint8Array(body.byteLength + 1)
  frame[0] = 1
  frame.set(body, 1)
  return frame
}

/** Reads a reply; `MalformedMessage` for anything that is not one. The payload is a view, not a copy. */
export function decodeReply(frame: Uint8Array): Reply {
  const status = frame[0]
  if (status === 0) return { ok: true, payload: frame.subarray(1) }
  if (status !== 1) throw new NetworkError('MalformedMessage', 'reply has an unknown status')
  if (frame.byteLength > MAX_ERROR_FRAME_BYTES)
    throw new NetworkError('MalformedMessage', 'error reply too long')
  let body: unknown
  try {
    body = JSON.parse(decoder.decode(frame.subarray(1)))
  } catch (err) {
    throw new NetworkError('MalformedMessage', 'error reply is not UTF-8 JSON', { cause: err })
  }
  const { code, message } = (body ?? {}) as { code?: unknown; message?: unknown }
  if (
    typeof code !== 'string' ||
    !REMOTE_ERROR_CODES.has(code as NetworkErrorCode) ||
    typeof message !== 'string'
  ) {
    throw new NetworkError('MalformedMessage', 'error reply has the wrong shape')
  }
  return { ok: false, error: new NetworkError(code as NetworkErrorCode, describeError(message)) }
}

/**
 * The reply when a handler throws: always `HandlerFailed` (even for a `NetworkError` from the
 * handler's own calls, whose code would mislead the caller), with a one-line description.
 */
export function handlerFailure(err: unknown, protocolId: string): Reply {
  return {
    ok: false,
    error: new NetworkError('HandlerFailed', `handler for ${protocolId} failed: ${describeError(err)}`),
  }
}

/** An error reply with `code` and `message`. */
export function refusal(code: NetworkErrorCode, message: string): Reply {
  return { ok: false, error: new NetworkError(code, message) }
}

/**
 * The caller's side of a reply frame, the same on every transport: a remote error is rethrown as it
 * was sent, an oversized payload is `MessageTooLarge`, an undecodable one `MalformedMessage`.
 */
export function readResponse<Res>(protocol: Protocol<unknown, Res>, frame: Uint8Array, peer: string): Res {
  const reply = decodeReply(frame)
  if (!reply.ok) throw reply.error
  if (reply.payload.byteLength > protocol.maxMessageBytes) {
    throw new NetworkError('MessageTooLarge', `response of ${reply.payload.byteLength} bytes from ${peer}`)
  }
  try {
    return protocol.response.decode(reply.payload)
  } catch (err) {
    throw toNetworkError(err, 'MalformedMessage', `undecodable response from ${peer}: ${describeError(err)}`)
  }
}
