import { mkdir, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { isFileExistsError, syncDirectory, writeFileDurably } from '@aruna/platform'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describeError, NetworkError } from '../errors.js'
import type { PeerId } from '../port.js'

/** The peer id (string form) of the node that holds `key`. */
export function peerIdOf(key: PrivateKey): PeerId {
  return peerIdFromPrivateKey(key).toString()
}

/** A fresh Ed25519 node key, e.g. for tests; nodes that must keep their identity use `loadOrCreatePeerKey`. */
export function createPeerKey(): Promise<PrivateKey> {
  return generateKeyPair('Ed25519')
}

/**
 * The node key stored at `path` (libp2p protobuf form), created on first use, so that the node's
 * peer id survives restarts. A new key is written durably with mode 0600 and never over an existing
 * one (`writeFileDurably` with `noClobber`), so a crash leaves either no key or a whole one, and of two
 * processes racing to create it, both end up with the one that won. A file that exists but does not
 * hold a key fails with `InvalidArgument` rather than being replaced: that would change the node's
 * identity silently.
 */
export async function loadOrCreatePeerKey(path: string): Promise<PrivateKey> {
  const existing = await readKey(path)
  if (existing !== undefined) return existing
  const key = await generateKeyPair('Ed25519')
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  try {
    await writeFileDurably(path, privateKeyToProtobuf(key), { mode: 0o600, noClobber: true })
  } catch (err) {
    // Another process created the key first: use theirs, so both agree on the identity.
    if (!isFileExistsError(err)) throw err
    await syncDirectory(dirname(path))
  }
  const stored = await readKey(path)
  if (stored === undefined) throw new NetworkError('InvalidArgument', `peer key ${path} vanished`)
  return stored
}

async function readKey(path: string): Promise<PrivateKey | undefined> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new NetworkError('InvalidArgument', `cannot read peer key ${path}: ${describeError(err)}`, {
      cause: err,
    })
  }
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new NetworkError('InvalidArgument', `${path} does not hold a libp2p private key`, { cause: err })
  }
}
