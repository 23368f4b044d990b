import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  isFileExistsError,
  openTempDirectory,
  placeFileDurably,
  syncDirectory,
  writeFileDurably,
  writeSyncedFile,
} from '../src/index.js'
import { versionOf, versionPayload } from './fixtures/versions.mjs'

const modeOf = async (path: string) => (await stat(path)).mode & 0o777

/** Runs `body` with the process umask set to `mask`, then restores it. */
async function withUmask<T>(mask: number, body: () => Promise<T>): Promise<T> {
  const previous = process.umask(mask)
  try {
    return await body()
  } finally {
    process.umask(previous)
  }
}

describe('writeFileDurably', () => {
  let directory: string
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'platform-durable-'))
  })
  afterEach(() => rm(directory, { recursive: true, force: true }))

  it('creates a file, replaces it whole, and leaves no temp file behind', async () => {
    const path = join(directory, 'realm.json')
    await writeFileDurably(path, 'first')
    await writeFileDurably(path, Buffer.from('second, longer'))
    expect(await readFile(path, 'utf8')).toBe('second, longer')
    expect(await readdir(directory)).toEqual(['realm.json'])
  })

  it('gives a new file exactly the mode asked for, whatever the umask', async () => {
    const secret = join(directory, 'secret.key')
    const shared = join(directory, 'shared.txt')
    await withUmask(0o022, () => writeFileDurably(secret, 'key', { mode: 0o600 }))
    await withUmask(0o077, () => writeFileDurably(shared, 'text', { mode: 0o644 }))
    expect(await modeOf(secret)).toBe(0o600)
    expect(await modeOf(shared)).toBe(0o644)
  })

  it('replaces a more widely readable file with a 0600 one', async () => {
    const path = join(directory, 'operator.json')
    await writeFile(path, 'old')
    await chmod(path, 0o644)
    await writeFileDurably(path, 'new', { mode: 0o600 })
    expect(await modeOf(path)).toBe(0o600)
    expect(await readFile(path, 'utf8')).toBe('new')
  })

  it('leaves the default mode to the umask', async () => {
    const path = join(directory, 'plain')
    await withUmask(0o027, () => writeFileDurably(path, 'x'))
    expect(await modeOf(path)).toBe(0o640)
  })

  it('with noClobber, creates a missing file but never replaces an existing one', async () => {
    const path = join(directory, 'realm.key')
    await writeFileDurably(path, 'first', { noClobber: true, mode: 0o600 })
    expect(await readFile(path, 'utf8')).toBe('first')
    expect(await modeOf(path)).toBe(0o600)
    const refused = await writeFileDurably(path, 'second', { noClobber: true }).catch((err: unknown) => err)
    expect(isFileExistsError(refused)).toBe(true)
    expect(await readFile(path, 'utf8')).toBe('first')
    expect(await readdir(directory)).toEqual(['realm.key'])
  })

  it('with noClobber, lets exactly one of several racing writers create the file, whole', async () => {
    const path = join(directory, 'node.key')
    const results = await Promise.allSettled(
      [1, 2, 3, 4, 5].map((n) => writeFileDurably(path, versionPayload(n), { noClobber: true })),
    )
    const won = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i + 1] : []))
    expect(won).toHaveLength(1)
    for (const result of results) {
      if (result.status === 'rejected') expect(isFileExistsError(result.reason)).toBe(true)
    }
    expect(versionOf(await readFile(path))).toBe(won[0])
    expect(await readdir(directory)).toEqual(['node.key'])
  })

  it('writes the temp file in tempDirectory when given one', async () => {
    const tmp = join(directory, 'tmp')
    const data = join(directory, 'data')
    await mkdir(tmp)
    await mkdir(data)
    await writeFileDurably(join(data, 'part-00001.json'), '{}', { tempDirectory: tmp })
    expect(await readdir(data)).toEqual(['part-00001.json'])
    expect(await readdir(tmp)).toEqual([])
  })

  it('fails in a missing directory and leaves nothing behind', async () => {
    await expect(writeFileDurably(join(directory, 'missing', 'file'), 'x')).rejects.toMatchObject({
      code: 'ENOENT',
    })
    const tmp = join(directory, 'tmp')
    await mkdir(tmp)
    await expect(
      writeFileDurably(join(directory, 'missing', 'file'), 'x', { tempDirectory: tmp }),
    ).rejects.toMatchObject({ code: 'ENOENT' })
    expect(await readdir(tmp)).toEqual([])
  })

  it('shows a concurrent reader the old file or the whole new one, never a torn one', async () => {
    const path = join(directory, 'state')
    await writeFileDurably(path, versionPayload(0))
    let writing = true
    const writer = (async () => {
      for (let n = 1; n <= 40; n++) await writeFileDurably(path, versionPayload(n))
      writing = false
    })()
    const seen: number[] = []
    while (writing) {
      const version = versionOf(await readFile(path))
      expect(version).toBeDefined()
      seen.push(version!)
    }
    await writer
    expect(seen.length).toBeGreaterThan(0)
    expect([...seen].sort((a, b) => a - b)).toEqual(seen)
    expect(versionOf(await readFile(path))).toBe(40)
  })
})

describe('the halves of a durable write', () => {
  let directory: string
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'platform-durable-'))
  })
  afterEach(() => rm(directory, { recursive: true, force: true }))

  it('writeSyncedFile never opens an existing file', async () => {
    const path = join(directory, 'temp')
    await writeSyncedFile(path, 'one', 0o600)
    await expect(writeSyncedFile(path, 'two')).rejects.toSatisfy(isFileExistsError)
    expect(await readFile(path, 'utf8')).toBe('one')
  })

  it('placeFileDurably removes the temp file when the move fails', async () => {
    const temp = join(directory, 'temp')
    const target = join(directory, 'target')
    await mkdir(join(target, 'inside'), { recursive: true })
    await writeSyncedFile(temp, 'x')
    await expect(placeFileDurably(temp, target)).rejects.toThrow()
    expect((await readdir(directory)).sort()).toEqual(['target'])

    await writeFile(join(directory, 'taken'), 'kept')
    await writeSyncedFile(temp, 'y')
    await expect(placeFileDurably(temp, join(directory, 'taken'), { noClobber: true })).rejects.toSatisfy(
      isFileExistsError,
    )
    expect((await readdir(directory)).sort()).toEqual(['taken', 'target'])
    expect(await readFile(join(directory, 'taken'), 'utf8')).toBe('kept')
  })

  it('openTempDirectory creates the directory, or empties what interrupted writes left in it', async () => {
    const tmp = join(directory, 'store', 'tmp')
    await openTempDirectory(tmp)
    expect(await readdir(tmp)).toEqual([])
    await writeSyncedFile(join(tmp, 'interrupted.tmp'), 'half')
    await mkdir(join(tmp, 'upload.deleted', 'part'), { recursive: true })
    await openTempDirectory(tmp)
    expect(await readdir(tmp)).toEqual([])
  })

  it('syncDirectory fails for a directory that does not exist', async () => {
    await syncDirectory(directory)
    await expect(syncDirectory(join(directory, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('isFileExistsError tells EEXIST from other errors and non-errors', () => {
    expect(isFileExistsError(Object.assign(new Error('x'), { code: 'EEXIST' }))).toBe(true)
    expect(isFileExistsError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false)
    expect(isFileExistsError('EEXIST')).toBe(false)
    expect(isFileExistsError(null)).toBe(false)
  })
})
