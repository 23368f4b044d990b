import { describe, expect, it, vi } from 'vitest'
import { startDevOidcProvider } from '../src/login/dev-oidc.js'
import { discoverEndpoints } from '../src/login/device-flow.js'

// Counts the loads of `oidc-provider` (the factory runs when the module is first imported).
const loads = vi.hoisted(() => ({ count: 0 }))
vi.mock('oidc-provider', async (importOriginal) => {
  loads.count++
  return await importOriginal()
})

describe('the development OIDC issuer, loaded when first asked', () => {
  it('listens at start but loads oidc-provider only at its first request, once', async () => {
    const provider = await startDevOidcProvider({ host: '127.0.0.1', port: 0 })
    try {
      expect(loads.count).toBe(0)
      // Concurrent first requests share one load and one provider (one set of signing keys).
      const [a, b] = await Promise.all([
        fetch(`${provider.issuer}/jwks`).then((r) => r.json() as Promise<{ keys: { kid: string }[] }>),
        fetch(`${provider.issuer}/jwks`).then((r) => r.json() as Promise<{ keys: { kid: string }[] }>),
      ])
      expect(loads.count).toBe(1)
      expect(a.keys.map((k) => k.kid)).toEqual(b.keys.map((k) => k.kid))
      expect(a.keys).toHaveLength(1)
      const endpoints = await discoverEndpoints(provider.issuer)
      expect(endpoints.tokenEndpoint).toBe(`${provider.issuer}/token`)
      expect(loads.count).toBe(1)
    } finally {
      await provider.close()
    }
  })
})
