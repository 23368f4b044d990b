/** The realm itself and its revoked-token set. */

import { describe, expect, it } from 'vitest'
import type { OrgaStore } from '../port.js'
import { expectOrgaError, type TestSetup, useSetup } from './helpers.js'

export function realmTests(common: TestSetup<OrgaStore>): void {
  describe('realm', () => {
    const store = useSetup(common)

    it('reports an id usable as a path segment, a name and a creation time', async () => {
      const realm = await store().getRealm()
      expect(realm.id).toMatch(/^[A-Za-z0-9_-]+$/)
      expect(realm.name.length).toBeGreaterThan(0)
      expect(Number.isFinite(realm.createdAt)).toBe(true)
    })

    it('renames the realm, trimming the name, and keeps its id', async () => {
      const before = await store().getRealm()
      const renamed = await store().renameRealm('  Research Federation  ')
      expect(renamed.name).toBe('Research Federation')
      expect(renamed.id).toBe(before.id)
      expect((await store().getRealm()).name).toBe('Research Federation')
    })

    it('refuses empty, blank, over-long and control-character names and keeps the old one', async () => {
      await store().renameRealm('Kept')
      for (const name of ['', '   ', 'x'.repeat(129), 'line\nbreak', 'bell\u0007']) {
        await expectOrgaError(store().renameRealm(name), 'InvalidInput')
      }
      await expectOrgaError(store().renameRealm(42 as unknown as string), 'InvalidInput')
      expect((await store().getRealm()).name).toBe('Kept')
    })

    it('accepts a name of exactly 128 characters, counting characters rather than code units', async () => {
      const name = '🧪'.repeat(128)
      expect((await store().renameRealm(name)).name).toBe(name)
    })
  })

  describe('revoked tokens', () => {
    const store = useSetup(common)

    it('remembers revoked token ids and nothing else', async () => {
      expect(await store().isRevoked('jti-1')).toBe(false)
      await store().revokeToken('jti-1')
      expect(await store().isRevoked('jti-1')).toBe(true)
      expect(await store().isRevoked('jti-2')).toBe(false)
      expect(await store().isRevoked('JTI-1')).toBe(false)
    })

    it('treats a second revocation of one id as done', async () => {
      await store().revokeToken('jti-1')
      await store().revokeToken('jti-1')
      expect(await store().isRevoked('jti-1')).toBe(true)
    })

    it('refuses to revoke a malformed id, yet answers any lookup with false', async () => {
      await expectOrgaError(store().revokeToken(''), 'InvalidInput')
      await expectOrgaError(store().revokeToken('x'.repeat(257)), 'InvalidInput')
      await expectOrgaError(store().revokeToken('tab\tid'), 'InvalidInput')
      expect(await store().isRevoked('')).toBe(false)
      expect(await store().isRevoked(undefined as unknown as string)).toBe(false)
    })

    it('keeps every one of many concurrent revocations', async () => {
      const ids = Array.from({ length: 25 }, (_, i) => `jti-${i}`)
      await Promise.all(ids.map((jti) => store().revokeToken(jti)))
      const answers = await Promise.all(ids.map((jti) => store().isRevoked(jti)))
      expect(answers.every(Boolean)).toBe(true)
    })
  })
}
