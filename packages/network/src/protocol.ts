import { describeError, NetworkError, toNetworkError } from './errors.js'
import { CALLS_PROTOCOL_ID } from './lane-wire.js'
import type { Codec, Protocol } from './port.js'

/** The realm handshake every connection passes before any other Aruna protocol; not for handlers. */
export const HANDSHAKE_PROTOCOL_ID = '/aruna/hello/1.0.0'

/** The size limit of a protocol that sets none: 1 MiB. Bulk data belongs on streams. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024

/** Content ids longer than this are refused: they are DHT keys, not payloads. */
export const MAX_CONTENT_ID_LENGTH = 512

const MAX_PEER_ID_LENGTH = 256
const PROTOCOL_ID = /^\/aruna\/[a-z][a-z0-9-]{0,63}\/[1-9][0-9]{0,5}\.0\.0$/

/**
 * Checks a protocol id: `/aruna/<domain>/<n>.0.0`, domain in lower case letters, digits and `-`,
 * and not the reserved handshake or call lanes. `InvalidArgument` otherwise.
 */
export function assertProtocolId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !PROTOCOL_ID.test(id)) {
    throw new NetworkError('InvalidArgument', `protocol id must look like /aruna/<domain>/<n>.0.0`)
  }
  if (id === HANDSHAKE_PROTOCOL_ID) {
    throw new NetworkError('InvalidArgument', `${HANDSHAKE_PROTOCOL_ID} is reserved for the realm handshake`)
  }
  if (id === CALLS_PROTOCOL_ID) {
    throw new NetworkError('InvalidArgument', `${CALLS_PROTOCOL_ID} is reserved for call lanes`)
  }
}

/** Checks a peer id: a non-empty string of printable characters, at most 256 long. */
export function assertPeerId(peer: unknown): asserts peer is string {
  if (
    typeof peer !== 'string' ||
    peer.length === 0 ||
    peer.length > MAX_PEER_ID_LENGTH ||
    !isPrintable(peer)
  ) {
    throw new NetworkError('InvalidArgument', 'peer id must be a non-empty printable string')
  }
}

/** Checks a content id: a non-empty string of printable characters, at most 512 long. */
export function assertContentId(contentId: unknown): asserts contentId is string {
  if (
    typeof contentId !== 'string' ||
    contentId.length === 0 ||
    contentId.length > MAX_CONTENT_ID_LENGTH ||
    !isPrintable(contentId)
  ) {
    throw new NetworkError(
      'InvalidArgument',
      `content id must be a non-empty printable string of at most ${MAX_CONTENT_ID_LENGTH} characters`,
    )
  }
}

/** Checks a whole protocol descriptor, e.g. one built by hand rather than by `defineProtocol`. */
export function assertProtocol(protocol: Protocol<unknown, unknown>): void {
  assertProtocolId(protocol?.id)
  if (!Number.isSafeInteger(protocol.maxMessageBytes) || protocol.maxMessageBytes < 1) {
    throw new NetworkError('InvalidArgument', `${protocol.id}: maxMessageBytes must be a positive integer`)
  }
  if (typeof protocol.request?.decode !== 'function' || typeof protocol.response?.decode !== 'function') {
    throw new NetworkError('InvalidArgument', `${protocol.id}: request and response need codecs`)
  }
}

/**
 * Builds a protocol descriptor, checking the id and the limit. `maxMessageBytes` defaults to
 * `DEFAULT_MAX_MESSAGE_BYTES`.
 */
export function defineProtocol<Req, Res>(definition: {
  id: string
  request: Codec<Req>
  response: Codec<Res>
  maxMessageBytes?: number
  largeReplies?: boolean
}): Protocol<Req, Res> {
  const protocol: Protocol<Req, Res> = Object.freeze({
    id: definition.id,
    request: definition.request,
    response: definition.response,
    maxMessageBytes: definition.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    ...(definition.largeReplies === true ? { largeReplies: true } : {}),
  })
  assertProtocol(protocol as Protocol<unknown, unknown>)
  return protocol
}

/**
 * Encodes a request for sending; `InvalidArgument` when it cannot be, `MessageTooLarge` when over
 * the protocol's limit (refused before anything is sent).
 */
export function encodeRequest<Req>(protocol: Protocol<Req, unknown>, request: Req): Uint8Array {
  let bytes: Uint8Array
  try {
    bytes = protocol.request.encode(request)
  } catch (err) {
    throw toNetworkError(err, 'InvalidArgument', `cannot encode the request: ${describeError(err)}`)
  }
  if (bytes.byteLength > protocol.maxMessageBytes) {
    throw new NetworkError(
      'MessageTooLarge',
      `request of ${bytes.byteLength} bytes exceeds ${protocol.maxMessageBytes}`,
    )
  }
  return bytes
}

function isPrintable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return false
  }
  return true
}
