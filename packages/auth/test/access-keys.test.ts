import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AccessKeyRecordStore } from '../src/index.js'
import {
  ACCESS_KEY_ID_PATTERN,
  AccessKeyCipher,
  EncryptedAccessKeyStore,
  generateAccessKeyEncryptionKey,
  JsonFileAccessKeyRecords,
  loadOrCreateAccessKeyEncryptionKey,
  MemoryAccessKeyRecords,
  SECRET_ACCESS_KEY_LENGTH,
} from '../src/index.js'
import { runAccessKeyRecordStoreTests } from '../src/testing/index.js'
import { expectAuthError, expectThrowsCode } from './sigv4-fixtures.js'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aruna-access-keys-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

runAccessKeyRecordStoreTests({
  setup: async () => {
    const records = new MemoryAccessKeyRecords()
    return { records, reopen: async () => records }
  },
  teardown: async () => {},
})

runAccessKeyRecordStoreTests({
  setup: async () => {
    const path = join(dir, 'file-suite', 'access-keys.json')
    return {
      records: await JsonFileAccessKeyRecords.open(path),
      reopen: () => JsonFileAccessKeyRecords.open(path),
    }
  },
  teardown: async () => {},
})

function store(
  records: AccessKeyRecordStore,
  key = ENCRYPTION_KEY,
  maxKeysPerUser?: number,
): EncryptedAccessKeyStore {
  return new EncryptedAccessKeyStore({
    records,
    encryptionKey: key,
    clock: () => 1_900_000_000,
    ...(maxKeysPerUser === undefined ? {} : { maxKeysPerUser }),
  })
}

const ENCRYPTION_KEY = generateAccessKeyEncryptionKey()

describe('EncryptedAccessKeyStore', () => {
  it('creates AWS-shaped keys for a user and answers secretFor with the secret and user', async () => {
    const keys = store(new MemoryAccessKeyRecords())
    const created = await keys.create('alice', { description: 'laptop' })
    expect(created.accessKeyId).toMatch(ACCESS_KEY_ID_PATTERN)
    expect(created.accessKeyId).toHaveLength(20)
    expect(created.secretAccessKey).toHaveLength(SECRET_ACCESS_KEY_LENGTH)
    expect(created).toMatchObject({ userId: 'alice', createdAt: 1_900_000_000, description: 'laptop' })
    expect(await keys.secretFor(created.accessKeyId)).toEqual({
      secret: created.secretAccessKey,
      userId: 'alice',
    })
    const other = await keys.create('alice')
    expect(other.accessKeyId).not.toBe(created.accessKeyId)
    expect(other.secretAccessKey).not.toBe(created.secretAccessKey)
  })

  it('lists the keys of one user without their secrets', async () => {
    const keys = store(new MemoryAccessKeyRecords())
    const a1 = await keys.create('alice')
    const b1 = await keys.create('bob')
    const a2 = await keys.create('alice', { description: 'ci' })
    const listed = await keys.list('alice')
    expect(listed.map((k) => k.accessKeyId).sort()).toEqual([a1.accessKeyId, a2.accessKeyId].sort())
    expect(JSON.stringify(listed)).not.toContain(a1.secretAccessKey)
    expect(listed.every((k) => !('secretAccessKey' in k))).toBe(true)
    expect((await keys.list('bob')).map((k) => k.accessKeyId)).toEqual([b1.accessKeyId])
    expect(await keys.list('carol')).toEqual([])
  })

  it('revokes a key: secretFor no longer knows it, and a user cannot revoke another user’s key', async () => {
    const keys = store(new MemoryAccessKeyRecords())
    const alice = await keys.create('alice')
    const bob = await keys.create('bob')
    expect(await keys.revoke(bob.accessKeyId, { userId: 'alice' })).toBe(false)
    expect(await keys.secretFor(bob.accessKeyId)).toBeDefined()
    expect(await keys.revoke(alice.accessKeyId, { userId: 'alice' })).toBe(true)
    expect(await keys.secretFor(alice.accessKeyId)).toBeUndefined()
    expect(await keys.revoke(alice.accessKeyId)).toBe(false)
    expect(await keys.revoke(bob.accessKeyId)).toBe(true)
    expect(await keys.list('bob')).toEqual([])
  })

  it('decrypts a secret once, but never answers for a record that changed or went away', async () => {
    const records = new MemoryAccessKeyRecords()
    const keys = store(records)
    const created = await keys.create('alice')
    const first = await keys.secretFor(created.accessKeyId)
    expect(await keys.secretFor(created.accessKeyId)).toBe(first)
    const record = records.get(created.accessKeyId)!
    await records.put({ ...record, userId: 'mallory' })
    expectThrowsCode(() => keys.secretFor(created.accessKeyId), 'AccessKeyStoreCorrupt')
    await records.put(record)
    expect(await keys.secretFor(created.accessKeyId)).toEqual(first)
    await records.delete(created.accessKeyId)
    expect(await keys.secretFor(created.accessKeyId)).toBeUndefined()
  })

  it('keeps answering correctly beyond the number of secrets it keeps decrypted', async () => {
    const keys = store(new MemoryAccessKeyRecords())
    const created = []
    for (let i = 0; i < 1030; i++) created.push(await keys.create(`user-${i}`))
    for (const key of [...created, ...created.slice(0, 10)]) {
      expect(await keys.secretFor(key.accessKeyId)).toEqual({
        secret: key.secretAccessKey,
        userId: key.userId,
      })
    }
  })

  it('does not know ids that are not access key ids', async () => {
    const keys = store(new MemoryAccessKeyRecords())
    for (const id of ['', 'AKIAIOSFODNN7EXAMPLE', `ak${'A'.repeat(18)}`, '__proto__', 'constructor']) {
      expect(await keys.secretFor(id)).toBeUndefined()
    }
  })

  it('limits the keys per user, also under concurrent creation', async () => {
    const keys = store(new MemoryAccessKeyRecords(), ENCRYPTION_KEY, 3)
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => keys.create('alice')))
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3)
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'AccessKeyLimitExceeded' })
    }
    await expect(keys.create('bob')).resolves.toBeDefined()
  })

  it('refuses an empty or overlong user id and description', async () => {
    const keys = store(new MemoryAccessKeyRecords())
    await expectAuthError(keys.create(''), 'InvalidArgument')
    await expectAuthError(keys.create('x'.repeat(257)), 'InvalidArgument')
    await expectAuthError(keys.create('a\nb'), 'InvalidArgument')
    await expectAuthError(keys.create('alice', { description: 'd'.repeat(257) }), 'InvalidArgument')
    await expect(keys.create('alice', { description: '' })).resolves.toMatchObject({ description: '' })
  })
})

describe('EncryptedAccessKeyStore with JsonFileAccessKeyRecords', () => {
  it('never writes a secret in plain text (nor in an obvious encoding) to the file', async () => {
    const path = join(dir, 'keys.json')
    const keys = store(await JsonFileAccessKeyRecords.open(path))
    const created = await Promise.all([keys.create('alice'), keys.create('bob'), keys.create('alice')])
    const text = await readFile(path, 'utf8')
    expect(text).toContain(created[0]!.accessKeyId)
    for (const { secretAccessKey } of created) {
      for (const form of [
        secretAccessKey,
        Buffer.from(secretAccessKey).toString('base64'),
        Buffer.from(secretAccessKey).toString('base64url'),
        Buffer.from(secretAccessKey).toString('hex'),
        Buffer.from(secretAccessKey, 'base64url').toString('base64url'),
        Buffer.from(secretAccessKey, 'base64url').toString('hex'),
      ]) {
        expect(text).not.toContain(form)
      }
    }
  })

  it('keeps keys across a restart with the same node key', async () => {
    const path = join(dir, 'keys.json')
    const created = await store(await JsonFileAccessKeyRecords.open(path)).create('alice')
    const again = store(await JsonFileAccessKeyRecords.open(path))
    expect(await again.secretFor(created.accessKeyId)).toEqual({
      secret: created.secretAccessKey,
      userId: 'alice',
    })
    expect((await again.list('alice')).map((k) => k.accessKeyId)).toEqual([created.accessKeyId])
  })

  it('refuses to open secrets with another node key', async () => {
    const path = join(dir, 'keys.json')
    const created = await store(await JsonFileAccessKeyRecords.open(path)).create('alice')
    const otherNode = store(await JsonFileAccessKeyRecords.open(path), generateAccessKeyEncryptionKey())
    expectThrowsCode(() => otherNode.secretFor(created.accessKeyId), 'AccessKeyStoreCorrupt')
  })

  it('refuses a record edited to give the key to another user, or with an altered secret', async () => {
    const path = join(dir, 'keys.json')
    const created = await store(await JsonFileAccessKeyRecords.open(path)).create('alice')
    const original = await readFile(path, 'utf8')
    await writeFile(path, original.replace('"alice"', '"mallory"'))
    const edited = await reopened(path)
    expect((await edited.list('mallory')).map((k) => k.accessKeyId)).toEqual([created.accessKeyId])
    expectThrowsCode(() => edited.secretFor(created.accessKeyId), 'AccessKeyStoreCorrupt')
    const data = JSON.parse(original)
    const sealed = data.keys[0].sealed
    const flipped = Buffer.from(sealed.ciphertext, 'base64url')
    flipped[0] = flipped[0]! ^ 1
    sealed.ciphertext = flipped.toString('base64url')
    await writeFile(path, JSON.stringify(data))
    await expectAuthError(
      reopened(path).then((k) => k.secretFor(created.accessKeyId)),
      'AccessKeyStoreCorrupt',
    )
  })

  it('refuses a file that is not an access key file', async () => {
    const path = join(dir, 'keys.json')
    for (const text of [
      'not json',
      '{"version":2,"keys":[]}',
      '{"version":1,"keys":[{"accessKeyId":"AK"}]}',
      'null',
    ]) {
      await writeFile(path, text)
      await expectAuthError(JsonFileAccessKeyRecords.open(path), 'AccessKeyStoreCorrupt')
    }
    const record = {
      accessKeyId: 'AKX',
      userId: 'u',
      createdAt: 1,
      sealed: { keyId: 'k', iv: 'i', ciphertext: 'c', tag: 't' },
    }
    await writeFile(path, JSON.stringify({ version: 1, keys: [record, record] }))
    await expectAuthError(JsonFileAccessKeyRecords.open(path), 'AccessKeyStoreCorrupt')
    for (const broken of [
      [],
      { ...record, userId: '' },
      { ...record, createdAt: 'yesterday' },
      { ...record, description: 7 },
      { ...record, sealed: null },
      { ...record, sealed: { ...record.sealed, tag: 1 } },
    ]) {
      await writeFile(path, JSON.stringify({ version: 1, keys: [broken] }))
      await expectAuthError(JsonFileAccessKeyRecords.open(path), 'AccessKeyStoreCorrupt')
    }
    // A path that cannot be read as a file at all is not "corrupt": that error is the file system's.
    await expect(JsonFileAccessKeyRecords.open(dir)).rejects.toMatchObject({ code: 'EISDIR' })
  })

  it('writes the file with mode 0600 through a temporary file it does not leave behind', async () => {
    const path = join(dir, 'sub', 'keys.json')
    const keys = store(await JsonFileAccessKeyRecords.open(path))
    await keys.create('alice')
    await keys.create('bob')
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(await readdir(join(dir, 'sub'))).toEqual(['keys.json'])
  })

  it('keeps the old state when a write fails', async () => {
    const path = join(dir, 'keys.json')
    const records = await JsonFileAccessKeyRecords.open(path)
    const keys = store(records)
    const kept = await keys.create('alice')
    // Replace the file by a directory: the rename over it fails.
    await rm(path)
    await mkdir(path)
    await expect(keys.create('alice')).rejects.toThrow()
    expect((await keys.list('alice')).map((k) => k.accessKeyId)).toEqual([kept.accessKeyId])
    await rm(path, { recursive: true })
    await expect(keys.create('alice')).resolves.toBeDefined()
    expect(await readdir(dir)).toEqual(['keys.json'])
  })
})

describe('the node key', () => {
  it('is created once, with mode 0600, and read back the same', async () => {
    const path = join(dir, 'access-key.key')
    const key = await loadOrCreateAccessKeyEncryptionKey(path)
    expect(key).toHaveLength(32)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(await loadOrCreateAccessKeyEncryptionKey(path)).toEqual(key)
  })

  it('is refused when the file holds something else', async () => {
    const path = join(dir, 'access-key.key')
    await writeFile(path, 'short\n')
    await expectAuthError(loadOrCreateAccessKeyEncryptionKey(path), 'InvalidKey')
    expectThrowsCode(() => new AccessKeyCipher(new Uint8Array(16)), 'InvalidKey')
  })
})

async function reopened(path: string): Promise<EncryptedAccessKeyStore> {
  return store(await JsonFileAccessKeyRecords.open(path))
}
