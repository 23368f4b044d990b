/**
 * The node's Ed25519 keys on disk: the realm key of a node that created its realm (`aruna start` on a
 * fresh data directory) and the node's own key. PKCS#8 PEM, file mode 0600, written atomically; the ids
 * (realm id, node id) are the base64url of the raw public keys.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createNodeKey, type Ed25519KeyPair, keyIdOf } from '@aruna/auth'
import { writeSecretFile } from './secret-file.js'

export async function loadOrCreateKey(path: string): Promise<Ed25519KeyPair & { created: boolean }> {
  let pem: string | undefined
  try {
    pem = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (pem === undefined) {
    const key = createNodeKey()
    await writeSecretFile(path, key.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string)
    return { ...key, created: true }
  }
  const privateKey = createPrivateKey(pem)
  const publicKey = createPublicKey(privateKey)
  return { id: keyIdOf(publicKey), privateKey, publicKey, created: false }
}
