/**
 * The dependency patches in `patches/` (applied by `pnpm install`) are in place: losing one silently
 * (a version bump the patch no longer names) would bring back the cost it removed.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

describe('patched dependencies', () => {
  it('@chainsafe/libp2p-quic reads streams in 64 KiB pieces, not 4 KiB', async () => {
    const entry = fileURLToPath(import.meta.resolve('@chainsafe/libp2p-quic'))
    const stream = await readFile(new URL('./stream.js', `file://${entry}`), 'utf8')
    expect(stream).toMatch(/export const CHUNK_SIZE = 65536;/)
  })
})
