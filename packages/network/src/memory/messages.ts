/**
 * What mock nodes send each other over the in-memory fabric. Payloads (`frame`, `chunk`) are bytes
 * produced by the codecs, exactly what a real connection would carry, so codec bugs and size limits
 * show up in the mock too.
 */
export type FabricMessage =
  // Realm handshake and liveness.
  | { kind: 'hello'; id: number }
  | { kind: 'welcome'; id: number }
  | { kind: 'ping' }
  | { kind: 'pong' }
  | { kind: 'goodbye' }
  // Request/response; a `reject` carries an error reply frame.
  | RequestMessage
  | { kind: 'reply'; id: number; frame: Uint8Array }
  | { kind: 'cancel'; id: number }
  | { kind: 'reject'; id: number; frame: Uint8Array }
  // The fabric's answer for a node that is not running, like a refused TCP connection.
  | { kind: 'unreachable'; id: number }
  // Streams: `open` is answered by `accept` or `reject`; the open id names the stream.
  | { kind: 'open'; id: number; protocol: string }
  | { kind: 'accept'; id: number }
  | StreamMessage

/**
 * A request. `outsider` marks one sent by `MemoryNetworkHub.requestOpen`: a caller without a realm
 * session, which only open protocols serve (on libp2p the serving node learns this by the caller
 * never passing the handshake).
 */
export type RequestMessage = {
  kind: 'request'
  id: number
  protocol: string
  frame: Uint8Array
  outsider?: true
}

/** Messages of an open stream. They are reliable: a broken link holds them instead of losing them. */
export type StreamMessage =
  | { kind: 'data'; stream: number; chunk: Uint8Array }
  | { kind: 'end'; stream: number }
  | { kind: 'reset'; stream: number }
  | { kind: 'window'; stream: number; bytes: number }

/** Messages that answer an earlier message with the same `id`. */
export type AnswerMessage = Extract<
  FabricMessage,
  { kind: 'welcome' | 'reply' | 'reject' | 'unreachable' | 'accept' }
>

export function isStreamMessage(message: FabricMessage): message is StreamMessage {
  return (
    message.kind === 'data' || message.kind === 'end' || message.kind === 'reset' || message.kind === 'window'
  )
}

export function isAnswerMessage(message: FabricMessage): message is AnswerMessage {
  return (
    message.kind === 'welcome' ||
    message.kind === 'reply' ||
    message.kind === 'reject' ||
    message.kind === 'unreachable' ||
    message.kind === 'accept'
  )
}
