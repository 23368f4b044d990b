/**
 * A full disk under the LMDB stores (the small-chunk database, the key index): writes fail with the real
 * cause (ENOSPC), the process goes on (lmdb-js's second, unhandled promise of a failed commit used to end
 * it), reads keep working, and writes work again once there is space. Needs root for a small tmpfs.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FsBlobStore, LmdbObjectIndex, tolerateLmdbCommitFailures } from '../src/index.js'
import { content, G1, vid } from '../src/testing/records.js'

const root = process.getuid?.() === 0

async function fill(path: string): Promise<void> {
  const file = await open(path, 'w')
  try {
    for (const size of [1 << 20, 4096, 512]) {
      const block = Buffer.alloc(size, 1)
      for (;;) {
        try {
          await file.write(block)
        } catch {
          break
        }
      }
    }
  } finally {
    await file.close().catch(() => {})
  }
}

describe.skipIf(!root)('the LMDB stores on a full disk', () => {
  let mountPoint: string
  let mounted = false
  // The node's handler in place of the test runner's (which would report lmdb-js's own unhandled
  // promise of the failed commit): the process must go on, and no other rejection is let pass.
  let saved: NodeJS.UnhandledRejectionListener[] = []
  let untolerate: () => void = () => {}
  beforeAll(async () => {
    saved = process.listeners('unhandledRejection')
    process.removeAllListeners('unhandledRejection')
    untolerate = tolerateLmdbCommitFailures()
    mountPoint = await mkdtemp(join(tmpdir(), 'aruna-data-full-'))
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint])
    mounted = true
  })
  afterAll(async () => {
    untolerate()
    for (const listener of saved) process.on('unhandledRejection', listener)
    if (mounted) execFileSync('umount', [mountPoint])
    await rm(mountPoint, { recursive: true, force: true })
  })

  it('fail a write with ENOSPC, keep reading, and write again once space returns', async () => {
    const blobs = await FsBlobStore.open({ directory: join(mountPoint, 'blobs') })
    const index = await LmdbObjectIndex.open(join(mountPoint, 'index'))
    await index.createBucket('full', { group: G1 })
    const kept = await blobs.put(new Uint8Array(randomBytes(1000)))
    await index.putVersion(content('full', 'kept', vid(1)))
    const filler = join(mountPoint, 'filler')
    await fill(filler)

    // Enough writes that LMDB must grow its file (its free pages are few).
    const chunkFailure = await (async () => {
      for (let i = 0; i < 200; i++) {
        try {
          await blobs.put(new Uint8Array(randomBytes(8000)))
        } catch (err) {
          return err
        }
      }
      return undefined
    })()
    expect(chunkFailure).toMatchObject({ code: 'ENOSPC' })
    const indexFailure = await (async () => {
      for (let i = 0; i < 2000; i++) {
        try {
          await index.putVersion(content('full', `k${i}`, vid(10 + i), 4000))
        } catch (err) {
          return err
        }
      }
      return undefined
    })()
    expect(indexFailure).toMatchObject({ code: 'ENOSPC' })

    expect((await blobs.get(kept.cid)).byteLength).toBe(1000)
    expect((await index.getCurrent('full', 'kept')).key).toBe('kept')

    await rm(filler)
    const again = await blobs.put(new Uint8Array(randomBytes(800)))
    expect(await blobs.has(again.cid)).toBe(true)
    await index.putVersion(content('full', 'after', vid(9000)))
    expect((await index.getCurrent('full', 'after')).key).toBe('after')
    await blobs.close()
    await index.close()
  }, 60_000)
})

describe('tolerateLmdbCommitFailures', () => {
  it('lets only lmdb-js commit failures pass, and rethrows every other reason', () => {
    const before = process.listeners('unhandledRejection').length
    const untolerate = tolerateLmdbCommitFailures()
    const listener = process.listeners('unhandledRejection').at(-1) as (reason: unknown) => void
    try {
      const cause = Promise.reject(new Error('No space left on device'))
      const failed = Object.assign(new Error('Commit failed (see commitError for details)'), {
        commitError: cause,
      })
      expect(() => listener(failed)).not.toThrow()
      const other = new Error('a bug')
      expect(() => listener(other)).toThrow(other)
      expect(() => listener('a string')).toThrow()
    } finally {
      untolerate()
    }
    expect(process.listeners('unhandledRejection')).toHaveLength(before)
  })
})
