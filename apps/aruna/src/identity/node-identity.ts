/**
 * The node's one identity: an Ed25519 key in `{dataDir}/node.key` (libp2p's protobuf form, mode 0600,
 * written by `@aruna/network`'s `loadOrCreatePeerKey`, the one loader). Its libp2p peer id is the
 * node id everywhere: the realm's node list, HLC tie-breaks, logs, `/health`. The same key, as a
 * `node:crypto` key object, signs the realm tokens this node mints (its delegation names that key).
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { join } from 'node:path'
import { loadOrCreatePeerKey, type PeerId, peerIdOf } from '@aruna/network'

export const NODE_KEY_FILE = 'node.key'

/** The libp2p private key type, as `@aruna/network` takes it. */
export type PeerPrivateKey = Awaited<ReturnType<typeof loadOrCreatePeerKey>>

export interface NodeIdentity {
  /** The libp2p peer id (`12D3KooW…`): this node's id. */
  readonly peerId: PeerId
  readonly peerKey: PeerPrivateKey
  /** The same key for `node:crypto` (realm token signing). */
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
}

/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/** The `node:crypto` form of a libp2p Ed25519 private key (its `raw` is seed ‖ public key). */
export function keyObjectOf(peerKey: PeerPrivateKey): KeyObject {
  if (peerKey.type !== 'Ed25519') throw new Error(`node keys must be Ed25519, not ${peerKey.type}`)
  const seed = peerKey.raw.subarray(0, 32)
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' })
}

/** Loads the node's key from `{dataDir}/node.key`, creating it on first use. */
export async function loadNodeIdentity(dataDir: string): Promise<NodeIdentity> {
  const peerKey = await loadOrCreatePeerKey(join(dataDir, NODE_KEY_FILE))
  const privateKey = keyObjectOf(peerKey)
  return { peerId: peerIdOf(peerKey), peerKey, privateKey, publicKey: createPublicKey(privateKey) }
}
