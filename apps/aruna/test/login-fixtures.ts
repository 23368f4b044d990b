/** Shared by the login tests: a realm with a node key, a user registry in memory, a development login. */
import {
  createNodeKey,
  createRealmKey,
  RealmTokenSigner,
  RealmTokenVerifier,
  signDelegation,
} from '@aruna/auth'
import type { LoginIdentity } from '../src/http/auth-routes.js'
import type { DevOidcProvider } from '../src/login/dev-oidc.js'
import { completeDevelopmentLogin, loginTokenOf, runDeviceFlow } from '../src/login/device-flow.js'

/** A realm key, a node key delegated by it, the node's signer and a verifier for the realm. */
export function testRealm(delegationSeconds = 86_400) {
  const realmKey = createRealmKey()
  const node = createNodeKey()
  const delegation = signDelegation(realmKey.privateKey, {
    node: node.publicKey,
    exp: Math.floor(Date.now() / 1000) + delegationSeconds,
  })
  return {
    realm: realmKey.realm,
    signer: new RealmTokenSigner({ issuerKey: node.privateKey, delegation }),
    verifier: new RealmTokenVerifier({ realm: realmKey.realm }),
  }
}

/** Users by (issuer, subject), as orga's registerLogin keeps them. */
export function memoryUsers() {
  const users = new Map<string, { id: string; displayName: string; issuer: string; subject: string }>()
  return {
    users,
    async registerLogin(identity: LoginIdentity) {
      const key = `${identity.issuer}\n${identity.subject}`
      let user = users.get(key)
      if (user === undefined) {
        user = { id: `user-${users.size + 1}`, ...identity }
        users.set(key, user)
      }
      return { id: user.id, displayName: user.displayName }
    },
  }
}

/** The ID token of a completed development login at `provider`. */
export async function devIdToken(provider: DevOidcProvider): Promise<string> {
  const advertised = [{ issuer: provider.issuer, clientId: provider.clientId, development: true }]
  const tokens = await runDeviceFlow({
    issuer: provider.issuer,
    clientId: provider.clientId,
    complete: (authorization) =>
      completeDevelopmentLogin(authorization, { issuer: provider.issuer, advertised }),
  })
  return loginTokenOf(tokens)
}
