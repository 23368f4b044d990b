import { randomBytes } from 'node:crypto'
import { AccessKeyCipher } from './access-keys-cipher.js'
import type { AccessKeyRecord, AccessKeyRecordStore } from './access-keys-records.js'
import { AuthError } from './errors.js'
import type { AccessKeySecret, AccessKeyStore } from './port.js'
import { controlCharIndex, quote } from './resource-path.js'

/** What a user may see about one of their access keys: everything but the secret. */
export interface AccessKeyInfo {
  readonly accessKeyId: string
  readonly userId: string
  /** Seconds since the Unix epoch. */
  readonly createdAt: number
  readonly description?: string
}

/** A key just created: the only time its secret is shown. */
export interface CreatedAccessKey extends AccessKeyInfo {
  readonly secretAccessKey: string
}

export interface EncryptedAccessKeyStoreInit {
  /** Where the records live (`MemoryAccessKeyRecords`, `JsonFileAccessKeyRecords`, …). */
  readonly records: AccessKeyRecordStore
  /** The node-local 32-byte key that seals the secrets (`loadOrCreateAccessKeyEncryptionKey`). */
  readonly encryptionKey: Uint8Array
  /** How many keys one user may have on this node. Default 10. */
  readonly maxKeysPerUser?: number
  /** The clock, in seconds since the epoch. Default: `Date.now() / 1000`, floored. */
  readonly clock?: () => number
}

/** `AK` and 18 characters of the RFC 4648 base32 alphabet: 20 characters, like an AWS access key id. */
export const ACCESS_KEY_ID_PATTERN = /^AK[A-Z2-7]{18}$/
/** Secrets are 40 characters of base64url (30 random bytes, 240 bits). */
export const SECRET_ACCESS_KEY_LENGTH = 40

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const MAX_USER_ID_LENGTH = 256
const MAX_DESCRIPTION_LENGTH = 256
/** How many decrypted secrets are kept in memory (AES-GCM per request costs more than the HMACs). */
const OPENED_CACHE_SIZE = 1024

/** A fresh access key id: `AK` + 18 random base32 characters (90 bits). */
export function generateAccessKeyId(): string {
  let id = 'AK'
  // 256 is a multiple of 32, so `byte & 31` is uniform.
  for (const byte of randomBytes(18)) id += BASE32[byte & 31]
  return id
}

/** A fresh secret access key: 40 characters of base64url. */
export function generateSecretAccessKey(): string {
  return randomBytes(30).toString('base64url')
}

/**
 * The node's S3 access keys: creates keys for users, lists and revokes them, and answers the SigV4
 * verifier's `secretFor`. Secrets are stored sealed with AES-256-GCM under a node-local key
 * (`AccessKeyCipher`): the record store — a file on disk, a backup of it — never holds a secret in plain
 * text, and a record edited to name another user no longer opens. Secrets stay on this node (they are
 * not replicated): a user creates a key on each node they talk S3 to.
 */
export class EncryptedAccessKeyStore implements AccessKeyStore {
  readonly #records: AccessKeyRecordStore
  readonly #cipher: AccessKeyCipher
  readonly #maxKeysPerUser: number
  readonly #clock: () => number
  /** Creations run one at a time, so the per-user limit holds under concurrent requests. */
  #creating: Promise<unknown> = Promise.resolve()
  /** Secrets already decrypted, by access key id, with the ciphertext they came from. */
  readonly #opened = new Map<string, { readonly sealed: string; readonly secret: AccessKeySecret }>()

  constructor(init: EncryptedAccessKeyStoreInit) {
    this.#records = init.records
    this.#cipher = new AccessKeyCipher(init.encryptionKey)
    this.#maxKeysPerUser = init.maxKeysPerUser ?? 10
    this.#clock = init.clock ?? (() => Math.floor(Date.now() / 1000))
  }

  /**
   * Creates an access key for `userId` and returns it with its secret (shown this once).
   * @throws AuthError('AccessKeyLimitExceeded') when the user already has `maxKeysPerUser` keys;
   *   AuthError('InvalidArgument') for an empty or overlong user id or description.
   */
  async create(userId: string, options: { description?: string } = {}): Promise<CreatedAccessKey> {
    checkText(userId, 'user id', MAX_USER_ID_LENGTH, false)
    if (options.description !== undefined)
      checkText(options.description, 'description', MAX_DESCRIPTION_LENGTH, true)
    const run = async (): Promise<CreatedAccessKey> => {
      const existing = (await this.#records.list()).filter((r) => r.userId === userId).length
      if (existing >= this.#maxKeysPerUser) {
        throw new AuthError(
          'AccessKeyLimitExceeded',
          `user ${quote(userId)} already has ${existing} access keys (at most ${this.#maxKeysPerUser})`,
        )
      }
      let accessKeyId = generateAccessKeyId()
      while ((await this.#records.get(accessKeyId)) !== undefined) accessKeyId = generateAccessKeyId()
      const secretAccessKey = generateSecretAccessKey()
      const record: AccessKeyRecord = {
        accessKeyId,
        userId,
        createdAt: this.#clock(),
        ...(options.description === undefined ? {} : { description: options.description }),
        sealed: this.#cipher.seal(secretAccessKey, accessKeyId, userId),
      }
      await this.#records.put(record)
      return { ...infoOf(record), secretAccessKey }
    }
    const done = this.#creating.then(run, run)
    this.#creating = done.catch(() => undefined)
    return done
  }

  /** The keys of `userId`, oldest first, without secrets. */
  async list(userId: string): Promise<AccessKeyInfo[]> {
    return (await this.#records.list())
      .filter((r) => r.userId === userId)
      .sort((a, b) => a.createdAt - b.createdAt || (a.accessKeyId < b.accessKeyId ? -1 : 1))
      .map(infoOf)
  }

  /**
   * Revokes a key: its record and sealed secret are deleted, and the next request signed with it fails
   * with `InvalidAccessKeyId`. With `userId`, only a key of that user is revoked (a user revoking their
   * own key cannot name someone else's). Resolves to whether a key was revoked.
   */
  async revoke(accessKeyId: string, options: { userId?: string } = {}): Promise<boolean> {
    const record = await this.#records.get(accessKeyId)
    if (record === undefined) return false
    if (options.userId !== undefined && record.userId !== options.userId) return false
    this.#opened.delete(accessKeyId)
    return this.#records.delete(accessKeyId)
  }

  /**
   * The secret and user of a key, for the SigV4 verifier; `undefined` for an unknown or revoked key.
   * @throws AuthError('AccessKeyStoreCorrupt') when the stored secret does not open (other node key,
   *   altered record): a fault of this node, not of the request.
   */
  secretFor(accessKeyId: string): AccessKeySecret | undefined | Promise<AccessKeySecret | undefined> {
    if (!ACCESS_KEY_ID_PATTERN.test(accessKeyId)) return undefined
    const record = this.#records.get(accessKeyId)
    return record instanceof Promise ? record.then((r) => this.#open(r)) : this.#open(record)
  }

  #open(record: AccessKeyRecord | undefined): AccessKeySecret | undefined {
    if (record === undefined) return undefined
    // The record is looked up on every call (a revoked key fails at once); only the decryption is
    // cached, and only for exactly this sealed secret of this user.
    const cached = this.#opened.get(record.accessKeyId)
    if (
      cached !== undefined &&
      cached.sealed === record.sealed.ciphertext &&
      cached.secret.userId === record.userId
    ) {
      return cached.secret
    }
    const secret = Object.freeze({
      secret: this.#cipher.open(record.sealed, record.accessKeyId, record.userId),
      userId: record.userId,
    })
    if (this.#opened.size >= OPENED_CACHE_SIZE) {
      const oldest = this.#opened.keys().next()
      if (oldest.done !== true) this.#opened.delete(oldest.value)
    }
    this.#opened.set(record.accessKeyId, { sealed: record.sealed.ciphertext, secret })
    return secret
  }
}

function infoOf(record: AccessKeyRecord): AccessKeyInfo {
  return {
    accessKeyId: record.accessKeyId,
    userId: record.userId,
    createdAt: record.createdAt,
    ...(record.description === undefined ? {} : { description: record.description }),
  }
}

function checkText(value: unknown, what: string, max: number, emptyOk: boolean): void {
  if (typeof value !== 'string' || (!emptyOk && value.length === 0) || value.length > max) {
    throw new AuthError(
      'InvalidArgument',
      `a ${what} is ${emptyOk ? '' : 'non-empty '}text of at most ${max} characters`,
    )
  }
  if (controlCharIndex(value) >= 0)
    throw new AuthError('InvalidArgument', `the ${what} has a control character`)
}
