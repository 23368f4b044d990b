import { NetworkError } from '../errors.js'
import type { PeerId } from '../port.js'
import { decodeReply } from '../reply.js'
import type { AnswerMessage } from './messages.js'

interface PendingCall {
  readonly peer: PeerId
  resolve(answer: AnswerMessage): void
  reject(err: unknown): void
}

/**
 * This node's outgoing calls that await an answer (handshakes, requests, stream opens), by id. An
 * answer from another peer than the one asked is ignored, as is one that comes too late.
 */
export class PendingCalls {
  readonly #pending = new Map<number, PendingCall>()

  /**
   * Registers call `id` to `peer`, runs `send`, and resolves with the answer; rejects with
   * `signal.reason` when the signal aborts first, or with what `failPeer`/`failAll` give.
   */
  call(peer: PeerId, id: number, signal: AbortSignal, send: () => void): Promise<AnswerMessage> {
    if (signal.aborted) return Promise.reject(signal.reason)
    return new Promise<AnswerMessage>((resolve, reject) => {
      const onAbort = (): void => settle(() => reject(signal.reason))
      const settle = (finish: () => void): void => {
        this.#pending.delete(id)
        signal.removeEventListener('abort', onAbort)
        finish()
      }
      this.#pending.set(id, {
        peer,
        resolve: (answer) => settle(() => resolve(answer)),
        reject: (err) => settle(() => reject(err)),
      })
      signal.addEventListener('abort', onAbort, { once: true })
      send()
    })
  }

  /** Settles the call `message` answers, if it is ours and from the peer asked; true when it did. */
  answer(from: PeerId, message: AnswerMessage): boolean {
    const pending = this.#pending.get(message.id)
    if (pending?.peer !== from) return false
    pending.resolve(message)
    return true
  }

  /** Fails every call to `peer` with `err`, e.g. when the connection to it is gone. */
  failPeer(peer: PeerId, err: NetworkError): void {
    for (const pending of [...this.#pending.values()]) if (pending.peer === peer) pending.reject(err)
  }

  failAll(err: NetworkError): void {
    for (const pending of [...this.#pending.values()]) pending.reject(err)
  }
}

/** The error an answer other than the hoped-for one stands for. */
export function answerError(answer: AnswerMessage, peer: PeerId): NetworkError {
  if (answer.kind === 'unreachable') return new NetworkError('PeerUnreachable', `${peer} is not running`)
  if (answer.kind === 'reject') {
    const reply = decodeReply(answer.frame)
    if (!reply.ok) return reply.error
  }
  return new NetworkError('MalformedMessage', `unexpected ${answer.kind} from ${peer}`)
}
