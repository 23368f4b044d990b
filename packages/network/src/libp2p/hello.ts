import { messageCodec } from '../codec.js'
import { NetworkError } from '../errors.js'

/**
 * The messages of the realm handshake on `/aruna/hello/1.0.0`. The side that opened the connection
 * starts: `hello` (its realm id and proof) → `welcome` (the other's) → `ok`, each side checking the
 * other's realm, proof and membership before going on; either may answer `refuse` instead. A
 * separate exchange on the same protocol, `bye` → `ok`, tells a peer that this node stops or no
 * longer accepts it.
 */
export type HelloMessage =
  | { kind: 'hello'; realm: string; proof: Uint8Array }
  | { kind: 'welcome'; realm: string; proof: Uint8Array }
  | { kind: 'ok' }
  | { kind: 'refuse'; reason: string }
  | { kind: 'bye'; reason: ByeReason }

/** Why a peer says goodbye: it stops, or it no longer accepts us as a member. */
export type ByeReason = 'stopping' | 'not-member'

/** Handshake messages are small: a realm id and a proof (a delegation, a signature). */
export const MAX_HELLO_BYTES = 16 * 1024

export const helloCodec = messageCodec<HelloMessage>((value): HelloMessage => {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>
  const greeting = typeof v.realm === 'string' && v.proof instanceof Uint8Array && Object.keys(v).length === 3
  switch (v.kind) {
    case 'hello':
      if (greeting) return { kind: 'hello', realm: v.realm as string, proof: v.proof as Uint8Array }
      break
    case 'welcome':
      if (greeting) return { kind: 'welcome', realm: v.realm as string, proof: v.proof as Uint8Array }
      break
    case 'ok':
      return { kind: 'ok' }
    case 'refuse':
      if (typeof v.reason === 'string') return { kind: 'refuse', reason: v.reason.slice(0, 200) }
      break
    case 'bye':
      if (v.reason === 'stopping' || v.reason === 'not-member') return { kind: 'bye', reason: v.reason }
      break
  }
  throw new NetworkError('MalformedMessage', 'not a handshake message')
})
