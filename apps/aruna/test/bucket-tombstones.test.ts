import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BucketTombstones } from '../src/federation/bucket-tombstones.js'

describe('BucketTombstones', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tombstones-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('starts empty without a file, keeps the newest deletion per name, and survives a reopen', async () => {
    const path = join(dir, 'bucket-tombstones.json')
    const tombstones = await BucketTombstones.open(path)
    expect(tombstones.all()).toEqual([])
    expect(tombstones.has('raw')).toBe(false)
    const first = {
      name: 'raw',
      createdAt: '2026-01-01T00:00:00.000Z',
      deletedAt: '2026-01-02T00:00:00.000Z',
    }
    const later = {
      name: 'raw',
      createdAt: '2026-02-01T00:00:00.000Z',
      deletedAt: '2026-02-02T00:00:00.000Z',
    }
    await tombstones.add(later)
    await tombstones.add(first) // older: the newer deletion stays
    await tombstones.add({
      name: 'aux',
      createdAt: '2026-01-05T00:00:00.000Z',
      deletedAt: '2026-01-06T00:00:00.000Z',
    })
    expect(tombstones.all().map((t) => t.name)).toEqual(['aux', 'raw'])
    expect(tombstones.buries({ name: 'raw', createdAt: '2026-01-15T00:00:00.000Z' })).toBe(true)
    expect(tombstones.buries({ name: 'raw', createdAt: '2026-02-01T00:00:00.000Z' })).toBe(true)
    // A bucket made after the deletion is a new bucket.
    expect(tombstones.buries({ name: 'raw', createdAt: '2026-03-01T00:00:00.000Z' })).toBe(false)
    expect(tombstones.buries({ name: 'other', createdAt: '2026-01-01T00:00:00.000Z' })).toBe(false)

    const reopened = await BucketTombstones.open(path)
    expect(reopened.all()).toEqual(tombstones.all())
    expect(JSON.parse(await readFile(path, 'utf8')).tombstones).toHaveLength(2)
  })

  it('refuses a damaged file instead of forgetting deletions', async () => {
    const path = join(dir, 'bucket-tombstones.json')
    await writeFile(path, '{"tombstones": [')
    await expect(BucketTombstones.open(path)).rejects.toThrow()
  })
})
