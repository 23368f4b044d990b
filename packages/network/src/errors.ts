/**
 * What went wrong, as a code the layers above can branch on.
 *
 * - `NotStarted`: this node is not running (never started, stopped, or killed by fault injection).
 * - `InvalidArgument`: a bad protocol id, peer id, content id, option or unencodable message.
 * - `AlreadyHandled`: a handler is already registered for that protocol id on this node.
 * - `Timeout`: the operation's `timeoutMs` elapsed before an answer.
 * - `Aborted`: the caller's `AbortSignal` fired.
 * - `PeerUnreachable`: no connection to the peer (it is down, unknown, or the connection broke).
 * - `NotMember`: the peer is not a realm member (by our predicate), or it refused us as one.
 * - `NoHandler`: the peer does not serve that protocol.
 * - `MalformedMessage`: bytes that do not decode to a valid message (on either side).
 * - `MessageTooLarge`: an encoded message over the protocol's `maxMessageBytes` (on either side).
 * - `HandlerFailed`: the remote handler threw; the message is a short description, never a stack.
 * - `StreamClosed`: writing to a stream whose writing side is closed.
 * - `StreamReset`: the stream was torn down (by the remote, a stop, or a lost connection).
 */
export type NetworkErrorCode =
  | 'NotStarted'
  | 'InvalidArgument'
  | 'AlreadyHandled'
  | 'Timeout'
  | 'Aborted'
  | 'PeerUnreachable'
  | 'NotMember'
  | 'NoHandler'
  | 'MalformedMessage'
  | 'MessageTooLarge'
  | 'HandlerFailed'
  | 'StreamClosed'
  | 'StreamReset'

/** The one error type of `@aruna/network`: every failure is a `NetworkError` with a `code`. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError'

  constructor(
    readonly code: NetworkErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** True when `err` is a `NetworkError`, and when `code` is given, one with that code. */
export function isNetworkError(err: unknown, code?: NetworkErrorCode): err is NetworkError {
  return err instanceof NetworkError && (code === undefined || err.code === code)
}

/** `err` itself when it is a `NetworkError`, else a `NetworkError` with `code` that keeps it as cause. */
export function toNetworkError(err: unknown, code: NetworkErrorCode, message: string): NetworkError {
  return err instanceof NetworkError ? err : new NetworkError(code, message, { cause: err })
}

/**
 * The first line of an error's message, control characters blanked, at most 200 characters: safe to
 * show another node (no stack, no multi-line dumps).
 */
export function describeError(err: unknown): string {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : 'unknown error'
  const line = blankControlCharacters(message.split('\n', 1)[0] ?? '').trim()
  return line.length > 200 ? `${line.slice(0, 200)}…` : line
}

function blankControlCharacters(text: string): string {
  let out = ''
  for (const char of text) {
    const code = char.charCodeAt(0)
    out += code < 0x20 || code === 0x7f ? ' ' : char
  }
  return out
}
