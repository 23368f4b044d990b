/**
 * `aruna init`'s first step: a new realm key, kept in `{directory}/realm.key` readable by the owner only.
 * The file is written durably with mode 0600 and never replaces an existing key (`writeFileDurably`
 * with `noClobber`: a hard link, which fails if the name exists).
 */

import { createPrivateKey, type KeyObject } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createRealmKey, keyIdOf } from '@aruna/auth'
import { isFileExistsError, writeFileDurably } from '@aruna/platform'
import { OrgaError } from '../errors.js'
import { requireName } from '../validation.js'

export const REALM_KEY_FILE = 'realm.key'

export interface InitRealmOptions {
  /** Where the node keeps its state; created (mode 0700) if missing. */
  readonly directory: string
  /** The realm's display name (checked here; the realm document is created by the store). */
  readonly name: string
}

export interface InitializedRealm {
  readonly realmId: string
  /** The realm's private key (Ed25519). */
  readonly realmKey: KeyObject
  readonly name: string
  /** The key file's path. */
  readonly keyFile: string
}

/**
 * Creates a realm key and stores it (PKCS#8 PEM, mode 0600) in `{directory}/realm.key`.
 * @throws OrgaError('AlreadyExists') when the file exists (it is never overwritten);
 *   OrgaError('InvalidInput') for a bad name or directory.
 */
export async function initRealm(options: InitRealmOptions): Promise<InitializedRealm> {
  if (typeof options !== 'object' || options === null) throw new OrgaError('InvalidInput', 'options required')
  const name = requireName(options.name, 'realm name')
  if (typeof options.directory !== 'string' || options.directory.length === 0) {
    throw new OrgaError('InvalidInput', 'directory must be a non-empty path')
  }
  const directory = options.directory
  const keyFile = join(directory, REALM_KEY_FILE)
  await mkdir(directory, { recursive: true, mode: 0o700 })
  const key = createRealmKey()
  const pem = key.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
  try {
    await writeFileDurably(keyFile, pem, { mode: 0o600, noClobber: true })
  } catch (err) {
    if (isFileExistsError(err)) {
      throw new OrgaError('AlreadyExists', `${keyFile} exists: the realm is already initialised`, {
        cause: err,
      })
    }
    throw err
  }
  return { realmId: key.realm, realmKey: key.privateKey, name, keyFile }
}

/**
 * Reads the realm key `initRealm` stored in `directory`.
 * @throws OrgaError('NotFound') when there is none; OrgaError('InvalidInput') when it is not an Ed25519
 *   private key.
 */
export async function loadRealmKey(directory: string): Promise<{ realmId: string; realmKey: KeyObject }> {
  const keyFile = join(directory, REALM_KEY_FILE)
  let pem: string
  try {
    pem = await readFile(keyFile, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new OrgaError('NotFound', `no realm key at ${keyFile}`, { cause: err })
    }
    throw err
  }
  try {
    const realmKey = createPrivateKey(pem)
    return { realmId: keyIdOf(realmKey), realmKey }
  } catch (err) {
    throw new OrgaError('InvalidInput', `${keyFile} is not an Ed25519 private key`, { cause: err })
  }
}
