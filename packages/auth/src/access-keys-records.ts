import type { SealedSecret } from './access-keys-cipher.js'
import { AuthError } from './errors.js'

/** One access key as stored: who it belongs to and its secret, sealed (never in plain text). */
export interface AccessKeyRecord {
  readonly accessKeyId: string
  readonly userId: string
  /** Seconds since the Unix epoch. */
  readonly createdAt: number
  readonly description?: string
  readonly sealed: SealedSecret
}

/**
 * Where `EncryptedAccessKeyStore` keeps its records: pluggable (`MemoryAccessKeyRecords`,
 * `JsonFileAccessKeyRecords`; any other store can pass `runAccessKeyRecordStoreTests`). `get` is on the
 * path of every signed S3 request, so it should answer from memory; it may be synchronous.
 */
export interface AccessKeyRecordStore {
  get(accessKeyId: string): AccessKeyRecord | undefined | Promise<AccessKeyRecord | undefined>
  /** Every record (the store is small: a few keys per user of this node). */
  list(): Promise<readonly AccessKeyRecord[]>
  /** Adds or replaces the record of `record.accessKeyId`; durable when the promise resolves. */
  put(record: AccessKeyRecord): Promise<void>
  /** Removes a record; resolves to whether there was one. Durable when the promise resolves. */
  delete(accessKeyId: string): Promise<boolean>
}

/** Access key records in a map: for tests, and for nodes that keep no state. */
export class MemoryAccessKeyRecords implements AccessKeyRecordStore {
  readonly #records = new Map<string, AccessKeyRecord>()

  get(accessKeyId: string): AccessKeyRecord | undefined {
    return this.#records.get(accessKeyId)
  }

  async list(): Promise<readonly AccessKeyRecord[]> {
    return [...this.#records.values()]
  }

  async put(record: AccessKeyRecord): Promise<void> {
    this.#records.set(record.accessKeyId, checkRecord(record, 'record'))
  }

  async delete(accessKeyId: string): Promise<boolean> {
    return this.#records.delete(accessKeyId)
  }
}

/**
 * Checks that `value` (read from storage, so untrusted) is an access key record and returns a frozen copy
 * with only the known fields.
 * @throws AuthError('AccessKeyStoreCorrupt')
 */
export function checkRecord(value: unknown, where: string): AccessKeyRecord {
  const fail = (why: string): never => {
    throw new AuthError('AccessKeyStoreCorrupt', `${where}: ${why}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not an object')
  const r = value as Record<string, unknown>
  if (typeof r.accessKeyId !== 'string' || r.accessKeyId.length === 0) return fail('no accessKeyId')
  if (typeof r.userId !== 'string' || r.userId.length === 0) return fail('no userId')
  if (typeof r.createdAt !== 'number' || !Number.isFinite(r.createdAt)) return fail('no createdAt')
  if (r.description !== undefined && typeof r.description !== 'string') return fail('description is not text')
  const s = r.sealed as Record<string, unknown> | null | undefined
  if (typeof s !== 'object' || s === null) return fail('no sealed secret')
  for (const field of ['keyId', 'iv', 'ciphertext', 'tag'] as const) {
    if (typeof s[field] !== 'string') return fail(`sealed.${field} is not text`)
  }
  const sealed = Object.freeze({
    keyId: s.keyId as string,
    iv: s.iv as string,
    ciphertext: s.ciphertext as string,
    tag: s.tag as string,
  })
  return Object.freeze({
    accessKeyId: r.accessKeyId,
    userId: r.userId,
    createdAt: r.createdAt,
    ...(r.description === undefined ? {} : { description: r.description }),
    sealed,
  })
}
