/**
 * Realm membership proofs for the network's realm handshake, built on `@aruna/auth` delegations.
 *
 * A node's libp2p peer id *is* its Ed25519 public key (an identity multihash of the protobuf-encoded
 * key), and an auth node key id is the base64url of the same 32 raw bytes. So the proof a node shows
 * is simply the realm's delegation of its own libp2p key; the verifier derives the key from the
 * transport-authenticated peer id, checks the delegation names exactly that key, is signed by the
 * realm key and not expired, and that the peer is still in the realm's node list.
 */

import type { KeyObject } from 'node:crypto'
import { keyIdOf, MAX_DELEGATION_LENGTH, signDelegation, verifyDelegation } from '@aruna/auth'
import type { PeerId, RealmCredentials } from '@aruna/network'
import { OrgaError } from './errors.js'

/** Answers whether a peer id is in the realm's node list (e.g. `store.isMember`). */
export type NodeListPredicate = (peerId: string) => boolean | Promise<boolean>

export interface DelegationRealmCredentialsInit {
  /** The realm id: base64url of the realm's Ed25519 public key. */
  readonly realmId: string
  /** This node's delegation (`signDelegation` of its libp2p key), shown to every peer. */
  readonly delegation: string
  /**
   * The node-list check, when the proof itself must include it. Leave it out when the network's member
   * predicate already checks the node list (as the node does): the network bans a peer whose proof
   * fails but only refuses a non-member, so a node admitted a moment ago is retried, not banned, by
   * peers whose list has not caught up. Default: the delegation alone decides.
   */
  readonly isMember?: NodeListPredicate
  /** When given, the delegation must name this peer's key (checked at construction). */
  readonly peerId?: string
  /** The clock, in milliseconds. Default: `Date.now`. */
  readonly now?: () => number
  /** Allowed clock skew when checking a peer's delegation expiry. Default: 0 s. */
  readonly clockToleranceSeconds?: number
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
/** identity multihash (0x00, length 36) of a libp2p PublicKey protobuf: Type=Ed25519 (08 01), Data (12 20). */
const ED25519_PEER_ID_PREFIX = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20]
const ED25519_PEER_ID_BYTES = ED25519_PEER_ID_PREFIX.length + 32
const MAX_PEER_ID_LENGTH = 64

/**
 * The 32 raw bytes of the Ed25519 public key a libp2p peer id (base58btc, `12D3KooW…`) stands for.
 * @throws OrgaError('InvalidInput') for anything else (RSA/secp256k1 ids, CIDs, malformed strings).
 */
export function ed25519KeyOfPeerId(peerId: string): Uint8Array {
  if (typeof peerId !== 'string' || peerId.length === 0 || peerId.length > MAX_PEER_ID_LENGTH) {
    throw new OrgaError('InvalidInput', 'not a libp2p Ed25519 peer id')
  }
  const bytes = decodeBase58(peerId)
  if (
    bytes === undefined ||
    bytes.length !== ED25519_PEER_ID_BYTES ||
    ED25519_PEER_ID_PREFIX.some((byte, i) => bytes[i] !== byte)
  ) {
    throw new OrgaError('InvalidInput', 'not a libp2p Ed25519 peer id')
  }
  return bytes.slice(ED25519_PEER_ID_PREFIX.length)
}

/** The auth node key id (base64url of the raw public key) of a libp2p Ed25519 peer id. */
export function nodeKeyIdOfPeer(peerId: string): string {
  return keyIdOf(ed25519KeyOfPeerId(peerId))
}

/**
 * The realm's delegation of a node's libp2p key, signed with the realm's private key (management
 * nodes only), e.g. when an invite is redeemed. `exp` in seconds since the Unix epoch.
 */
export function delegatePeer(realmPrivateKey: KeyObject, peerId: string, exp: number): string {
  return signDelegation(realmPrivateKey, { node: ed25519KeyOfPeerId(peerId), exp })
}

/** `RealmCredentials` for the libp2p realm handshake: the proof is this node's realm delegation. */
export class DelegationRealmCredentials implements RealmCredentials {
  readonly realmId: string
  readonly #proof: Uint8Array
  readonly #isMember: NodeListPredicate
  readonly #now: () => number
  readonly #tolerance: number

  constructor(init: DelegationRealmCredentialsInit) {
    this.realmId = init.realmId
    this.#isMember = init.isMember ?? (() => true)
    this.#now = init.now ?? Date.now
    this.#tolerance = init.clockToleranceSeconds ?? 0
    // Our own delegation must be a valid one of this realm (and of our key, when we know it): a node
    // that would be refused everywhere should fail at start, not with every peer.
    try {
      verifyDelegation(init.delegation, init.realmId, {
        now: this.#nowSeconds(),
        ...(init.peerId === undefined ? {} : { node: nodeKeyIdOfPeer(init.peerId) }),
      })
    } catch (err) {
      throw new OrgaError('InvalidInput', `this node's delegation is not valid: ${message(err)}`, {
        cause: err,
      })
    }
    this.#proof = new TextEncoder().encode(init.delegation)
  }

  proof(): Uint8Array {
    return this.#proof
  }

  /** Whether `proof` is the realm's valid delegation of `peer`'s own key, and `peer` is a listed node. */
  async verify(peer: PeerId, proof: Uint8Array): Promise<boolean> {
    try {
      if (!(proof instanceof Uint8Array) || proof.length > MAX_DELEGATION_LENGTH) return false
      const delegation = new TextDecoder('utf-8', { fatal: true }).decode(proof)
      verifyDelegation(delegation, this.realmId, {
        node: nodeKeyIdOfPeer(String(peer)),
        now: this.#nowSeconds(),
        clockToleranceSeconds: this.#tolerance,
      })
      return (await this.#isMember(String(peer))) === true
    } catch {
      return false
    }
  }

  #nowSeconds(): number {
    return Math.floor(this.#now() / 1000)
  }
}

function decodeBase58(text: string): Uint8Array | undefined {
  const bytes: number[] = []
  for (const char of text) {
    let carry = BASE58.indexOf(char)
    if (carry < 0) return undefined
    for (let i = 0; i < bytes.length; i++) {
      carry += (bytes[i] as number) * 58
      bytes[i] = carry & 0xff
      carry >>= 8
    }
    while (carry > 0) {
      bytes.push(carry & 0xff)
      carry >>= 8
    }
  }
  for (const char of text) {
    if (char !== '1') break
    bytes.push(0)
  }
  return new Uint8Array(bytes.reverse())
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
