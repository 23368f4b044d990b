import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { AuthError } from './errors.js'

/** An access key's secret as it is stored: AES-256-GCM under the node's key, every field base64url. */
export interface SealedSecret {
  /** Which node key sealed it (a fingerprint, not the key), so a wrong key is named as such. */
  readonly keyId: string
  readonly iv: string
  readonly ciphertext: string
  readonly tag: string
}

/** The length of the node-local key that seals access key secrets: 32 bytes (AES-256). */
export const ACCESS_KEY_ENCRYPTION_KEY_LENGTH = 32

/** A fresh random key for `AccessKeyCipher`. Keep it in a file only the node can read. */
export function generateAccessKeyEncryptionKey(): Uint8Array {
  return new Uint8Array(randomBytes(ACCESS_KEY_ENCRYPTION_KEY_LENGTH))
}

/**
 * Seals and opens access key secrets with AES-256-GCM under a node-local key. The additional data binds
 * a sealed secret to its access key id and user: moving it to another record (or giving a key to another
 * user by editing the file) makes it fail to open rather than grant access.
 */
export class AccessKeyCipher {
  readonly #key: Buffer
  /** The fingerprint of the key, stored with each secret. */
  readonly keyId: string

  constructor(key: Uint8Array) {
    if (!(key instanceof Uint8Array) || key.length !== ACCESS_KEY_ENCRYPTION_KEY_LENGTH) {
      throw new AuthError(
        'InvalidKey',
        `an access key encryption key is ${ACCESS_KEY_ENCRYPTION_KEY_LENGTH} bytes, not ${key?.length}`,
      )
    }
    this.#key = Buffer.from(key)
    this.keyId = createHash('sha256')
      .update('aruna access key encryption key\n')
      .update(this.#key)
      .digest('base64url')
      .slice(0, 16)
  }

  seal(secret: string, accessKeyId: string, userId: string): SealedSecret {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    cipher.setAAD(additionalData(accessKeyId, userId))
    const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()])
    return {
      keyId: this.keyId,
      iv: iv.toString('base64url'),
      ciphertext: ciphertext.toString('base64url'),
      tag: cipher.getAuthTag().toString('base64url'),
    }
  }

  /** @throws AuthError('AccessKeyStoreCorrupt') when the secret was sealed with another key or altered. */
  open(sealed: SealedSecret, accessKeyId: string, userId: string): string {
    if (sealed.keyId !== this.keyId) {
      throw new AuthError(
        'AccessKeyStoreCorrupt',
        `access key ${accessKeyId} was sealed with another node key (${sealed.keyId}, this node has ${this.keyId})`,
      )
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(sealed.iv, 'base64url'), {
        authTagLength: 16, // refuse truncated tags
      })
      decipher.setAAD(additionalData(accessKeyId, userId))
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'))
      const plain = Buffer.concat([
        decipher.update(Buffer.from(sealed.ciphertext, 'base64url')),
        decipher.final(),
      ])
      return plain.toString('utf8')
    } catch (err) {
      throw new AuthError(
        'AccessKeyStoreCorrupt',
        `the secret of access key ${accessKeyId} does not decrypt`,
        {
          cause: err,
        },
      )
    }
  }
}

function additionalData(accessKeyId: string, userId: string): Buffer {
  return Buffer.from(`aruna/access-key/v1\n${accessKeyId}\n${userId}`, 'utf8')
}
