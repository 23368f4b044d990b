import { NetworkError } from '../errors.js'
import type { PeerId } from '../port.js'

/**
 * What makes a node a realm member in the eyes of its peers, supplied by the layer above (which
 * implements it with Ed25519 delegations signed by the realm key). Every connection runs the realm
 * handshake: each side sends its realm id and `proof()`, and checks the other's with `verify`.
 */
export interface RealmCredentials {
  /** The realm's id (base32 or base64url of its public key): letters, digits, `-` and `_`. */
  readonly realmId: string
  /** This node's proof of membership, e.g. the realm's delegation of this node's key. */
  proof(): Uint8Array | Promise<Uint8Array>
  /**
   * Whether `proof` shows that `peer` (authenticated by the transport) belongs to the realm. A
   * verifier that throws or rejects says no.
   */
  verify(peer: PeerId, proof: Uint8Array): boolean | Promise<boolean>
}

const REALM_ID = /^[A-Za-z0-9_-]{1,128}$/

/** Checks a realm id; `InvalidArgument` otherwise (it becomes part of protocol ids). */
export function assertRealmId(realmId: unknown): asserts realmId is string {
  if (typeof realmId !== 'string' || !REALM_ID.test(realmId)) {
    throw new NetworkError('InvalidArgument', 'realm id must be 1-128 letters, digits, - or _')
  }
}

/** The realm-private Kademlia protocol: nodes of other realms speak another DHT. */
export function kadProtocolFor(realmId: string): string {
  assertRealmId(realmId)
  return `/aruna/${realmId}/kad/1.0.0`
}

/** Runs `credentials.verify`, treating a throw or rejection as a refusal. */
export async function verifyProof(
  credentials: RealmCredentials,
  peer: PeerId,
  proof: Uint8Array,
): Promise<boolean> {
  try {
    return (await credentials.verify(peer, proof)) === true
  } catch {
    return false
  }
}
