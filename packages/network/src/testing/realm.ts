import { generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto'
import type { RealmCredentials } from '../libp2p/credentials.js'
import type { PeerId } from '../port.js'

/**
 * A realm for tests: an Ed25519 realm key that signs each node's peer id, the way the layer above
 * signs delegations. `credentialsFor(peer)` gives a node its credentials; `intruder(peer)` gives a
 * node that claims the realm but holds no valid proof.
 */
export interface TestRealm {
  readonly realmId: string
  credentialsFor(peer: PeerId): RealmCredentials
  /** Credentials with the right realm id but a proof the realm never signed. */
  intruder(peer: PeerId): RealmCredentials
}

export function createTestRealm(): TestRealm {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const realmId = publicKey.export({ format: 'jwk' }).x ?? ''
  const credentials = (proof: () => Uint8Array): RealmCredentials => ({
    realmId,
    proof,
    verify: (peer, candidate) => verify(null, statement(realmId, peer), publicKey, candidate),
  })
  return {
    realmId,
    credentialsFor: (peer) => {
      const proof = sign(null, statement(realmId, peer), privateKey)
      return credentials(() => proof)
    },
    intruder: (peer) => {
      const forged = sign(null, statement(realmId, peer), otherKey())
      return credentials(() => forged)
    },
  }
}

function statement(realmId: string, peer: PeerId): Uint8Array {
  return new TextEncoder().encode(`aruna-test-realm-member:${realmId}:${peer}`)
}

function otherKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey
}
