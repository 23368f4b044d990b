import { mkdir, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { writeFileDurably } from '@aruna/platform'
import { ACCESS_KEY_ENCRYPTION_KEY_LENGTH, generateAccessKeyEncryptionKey } from './access-keys-cipher.js'
import type { AccessKeyRecord, AccessKeyRecordStore } from './access-keys-records.js'
import { checkRecord } from './access-keys-records.js'
import { AuthError } from './errors.js'

const FORMAT_VERSION = 1

/**
 * Access key records in one JSON file (`{ "version": 1, "keys": [...] }`), held in memory and rewritten
 * whole on every change, durably (`writeFileDurably`: temp file, fsync, rename, directory fsync), so a
 * crash leaves either the old or the new file, never a torn one. Changes are applied one at a time, and to memory only once they are on disk. The file holds sealed
 * secrets only (see `EncryptedAccessKeyStore`) and is created with mode 0600.
 */
export class JsonFileAccessKeyRecords implements AccessKeyRecordStore {
  readonly path: string
  #records: ReadonlyMap<string, AccessKeyRecord>
  #queue: Promise<unknown> = Promise.resolve()

  private constructor(path: string, records: ReadonlyMap<string, AccessKeyRecord>) {
    this.path = path
    this.#records = records
  }

  /**
   * Opens (or, when it does not exist yet, starts) the file at `path`.
   * @throws AuthError('AccessKeyStoreCorrupt') when the file is not a valid access key file.
   */
  static async open(path: string): Promise<JsonFileAccessKeyRecords> {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return new JsonFileAccessKeyRecords(path, new Map())
      throw err
    }
    return new JsonFileAccessKeyRecords(path, parseFile(text, path))
  }

  get(accessKeyId: string): AccessKeyRecord | undefined {
    return this.#records.get(accessKeyId)
  }

  async list(): Promise<readonly AccessKeyRecord[]> {
    return [...this.#records.values()]
  }

  put(record: AccessKeyRecord): Promise<void> {
    const checked = checkRecord(record, 'record')
    return this.#change((next) => {
      next.set(checked.accessKeyId, checked)
    })
  }

  delete(accessKeyId: string): Promise<boolean> {
    return this.#change((next) => next.delete(accessKeyId))
  }

  /** Applies `edit` to a copy, writes the copy, and only then makes it the current state. */
  #change<T>(edit: (next: Map<string, AccessKeyRecord>) => T): Promise<T> {
    const run = async (): Promise<T> => {
      const next = new Map(this.#records)
      const result = edit(next)
      await writeSecretFile(this.path, serialise(next))
      this.#records = next
      return result
    }
    const done = this.#queue.then(run, run)
    this.#queue = done.catch(() => undefined)
    return done
  }
}

function serialise(records: ReadonlyMap<string, AccessKeyRecord>): string {
  return `${JSON.stringify({ version: FORMAT_VERSION, keys: [...records.values()] }, null, 2)}\n`
}

function parseFile(text: string, path: string): Map<string, AccessKeyRecord> {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new AuthError('AccessKeyStoreCorrupt', `${path} is not JSON`, { cause: err })
  }
  const { version, keys } = (data ?? {}) as Record<string, unknown>
  if (version !== FORMAT_VERSION || !Array.isArray(keys)) {
    throw new AuthError(
      'AccessKeyStoreCorrupt',
      `${path} is not an access key file of version ${FORMAT_VERSION}`,
    )
  }
  const records = new Map<string, AccessKeyRecord>()
  keys.forEach((value, i) => {
    const record = checkRecord(value, `${path}, key ${i + 1}`)
    if (records.has(record.accessKeyId)) {
      throw new AuthError('AccessKeyStoreCorrupt', `${path}: access key ${record.accessKeyId} appears twice`)
    }
    records.set(record.accessKeyId, record)
  })
  return records
}

/** Both files here hold secrets (sealed ones, or the key that opens them): mode 0600, written durably. */
async function writeSecretFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeFileDurably(path, text, { mode: 0o600 })
}

/**
 * Reads the node's access key encryption key from `path` (base64url text), creating it with a fresh
 * random key (mode 0600) when the file does not exist.
 * @throws AuthError('InvalidKey') when the file does not hold a key of the right length.
 */
export async function loadOrCreateAccessKeyEncryptionKey(path: string): Promise<Uint8Array> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    const key = generateAccessKeyEncryptionKey()
    await writeSecretFile(path, `${Buffer.from(key).toString('base64url')}\n`)
    return key
  }
  const key = Buffer.from(text.trim(), 'base64url')
  if (key.length !== ACCESS_KEY_ENCRYPTION_KEY_LENGTH || key.toString('base64url') !== text.trim()) {
    throw new AuthError(
      'InvalidKey',
      `${path} does not hold a ${ACCESS_KEY_ENCRYPTION_KEY_LENGTH}-byte base64url key`,
    )
  }
  return new Uint8Array(key)
}
