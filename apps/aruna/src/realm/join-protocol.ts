/**
 * The two protocols of joining a realm.
 *
 * `/aruna/join/1.0.0` is open (served to peers that are not realm members yet; noise has
 * authenticated their peer id): a new node presents its invite secret and its addresses, and gets its
 * delegation, the realm document's URL, the realm's access key encryption key and peers to dial —
 * or a typed refusal. `/aruna/admit/1.0.0` is for members only: a server node that received a join
 * passes it on to a management node, the only kind that holds the realm key and can sign delegations.
 */
import { defineProtocol, messageCodec } from '@aruna/network'

export type JoinRefusal =
  | 'InvalidInvite'
  | 'InviteUsed'
  | 'InviteExpired'
  | 'AlreadyMember'
  | 'Unavailable'
  | 'WrongRealm'

const REFUSALS: readonly JoinRefusal[] = [
  'InvalidInvite',
  'InviteUsed',
  'InviteExpired',
  'AlreadyMember',
  'Unavailable',
  'WrongRealm',
]

export interface JoinRequest {
  readonly kind: 'join'
  readonly realm: string
  readonly secret: string
  readonly addresses: readonly string[]
}

export type JoinResponse =
  | {
      readonly kind: 'joined'
      readonly realmId: string
      readonly realmName: string
      readonly realmUrl: string
      /** The metadata catalog's URL, when the realm has one. */
      readonly metadataUrl?: string
      readonly delegation: string
      /** The realm's access key encryption key (32 bytes): every node verifies every access key. */
      readonly accessKeyKey: Uint8Array
      readonly bootstrap: readonly string[]
    }
  | { readonly kind: 'refused'; readonly code: JoinRefusal; readonly message: string }

export interface AdmitRequest {
  readonly kind: 'admit'
  readonly secret: string
  readonly peerId: string
  readonly addresses: readonly string[]
}

export type AdmitResponse =
  | { readonly kind: 'admitted'; readonly delegation: string }
  | { readonly kind: 'refused'; readonly code: JoinRefusal; readonly message: string }

const MAX_ADDRESSES = 32
const MAX_TEXT = 4096

function record(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object')
  return value as Record<string, unknown>
}

function text(value: unknown, what: string, max = MAX_TEXT): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw new Error(`bad ${what}`)
  return value
}

function addresses(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > MAX_ADDRESSES) throw new Error('bad addresses')
  return value.map((a) => {
    const address = text(a, 'address', 512)
    if (!address.startsWith('/')) throw new Error('bad address')
    return address
  })
}

function refusal(v: Record<string, unknown>): { kind: 'refused'; code: JoinRefusal; message: string } {
  const code = v.code as JoinRefusal
  if (!REFUSALS.includes(code)) throw new Error('bad refusal code')
  return { kind: 'refused', code, message: text(v.message, 'message', 500) }
}

export const joinProtocol = defineProtocol<JoinRequest, JoinResponse>({
  id: '/aruna/join/1.0.0',
  maxMessageBytes: 64 * 1024,
  request: messageCodec((value) => {
    const v = record(value)
    if (v.kind !== 'join') throw new Error('not a join request')
    return {
      kind: 'join',
      realm: text(v.realm, 'realm', 128),
      secret: text(v.secret, 'secret', 128),
      addresses: addresses(v.addresses),
    }
  }),
  response: messageCodec((value) => {
    const v = record(value)
    if (v.kind === 'refused') return refusal(v)
    if (v.kind !== 'joined') throw new Error('not a join response')
    if (!(v.accessKeyKey instanceof Uint8Array) || v.accessKeyKey.length !== 32) throw new Error('bad key')
    return {
      kind: 'joined',
      realmId: text(v.realmId, 'realm id', 128),
      realmName: text(v.realmName, 'realm name', 200),
      realmUrl: text(v.realmUrl, 'realm url', 512),
      ...(v.metadataUrl === undefined ? {} : { metadataUrl: text(v.metadataUrl, 'metadata url', 512) }),
      delegation: text(v.delegation, 'delegation'),
      accessKeyKey: v.accessKeyKey,
      bootstrap: addresses(v.bootstrap),
    }
  }),
})

export const admitProtocol = defineProtocol<AdmitRequest, AdmitResponse>({
  id: '/aruna/admit/1.0.0',
  maxMessageBytes: 64 * 1024,
  request: messageCodec((value) => {
    const v = record(value)
    if (v.kind !== 'admit') throw new Error('not an admit request')
    return {
      kind: 'admit',
      secret: text(v.secret, 'secret', 128),
      peerId: text(v.peerId, 'peer id', 128),
      addresses: addresses(v.addresses),
    }
  }),
  response: messageCodec((value) => {
    const v = record(value)
    if (v.kind === 'refused') return refusal(v)
    if (v.kind !== 'admitted') throw new Error('not an admit response')
    return { kind: 'admitted', delegation: text(v.delegation, 'delegation') }
  }),
})
