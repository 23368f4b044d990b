import { generateKeyPairSync } from 'node:crypto'
import { CompactSign, compactVerify, jwtVerify, SignJWT, UnsecuredJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  createNodeKey,
  createRealmKey,
  DELEGATION_HEADER,
  DELEGATION_TYPE,
  MAX_TOKEN_LENGTH,
  REALM_TOKEN_TYPE,
  type RealmTokenClaims,
  RealmTokenSigner,
  RealmTokenVerifier,
  rawPublicKeyOf,
  signDelegation,
  signRealmToken,
} from '../src/index.js'
import { expectCode, runTokenVerifierTests } from '../src/testing/index.js'

const NOW = 1_900_000_000
const HOUR = 3600
const DELEGATION_IAT = 1_700_000_000
const DELEGATION_EXP = 2_100_000_000

/** A realm, a node delegated by it, the node's signer and a verifier of the realm. */
function makeRealm(options: { delegationExp?: number; tolerance?: number } = {}) {
  const realmKey = createRealmKey()
  const node = createNodeKey()
  const delegation = signDelegation(realmKey.privateKey, {
    node: node.publicKey,
    iat: DELEGATION_IAT,
    exp: options.delegationExp ?? DELEGATION_EXP,
  })
  const signer = new RealmTokenSigner({ issuerKey: node.privateKey, delegation, clock: () => NOW })
  const revoked = new Set<string>()
  const verifier = new RealmTokenVerifier({
    realm: realmKey.realm,
    revocations: { isRevoked: (jti) => revoked.has(jti) },
    clock: () => NOW,
    ...(options.tolerance === undefined ? {} : { clockToleranceSeconds: options.tolerance }),
  })
  const claims = (overrides: Partial<RealmTokenClaims> = {}): RealmTokenClaims => ({
    sub: `alice@${realmKey.realm}`,
    iss: realmKey.realm,
    iat: NOW - 60,
    exp: NOW + HOUR,
    jti: 'jti-1',
    ...overrides,
  })
  return { realmKey, realm: realmKey.realm, node, delegation, signer, verifier, revoked, claims }
}

/** `token` with its payload replaced and its header and signature kept. */
function withPayload(token: string, change: (claims: Record<string, unknown>) => object): string {
  const [header, payload, signature] = token.split('.')
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'))
  return `${header}.${Buffer.from(JSON.stringify(change(claims))).toString('base64url')}.${signature}`
}

/** `token` with its header changed and its payload and signature kept. */
function withHeader(token: string, change: (header: Record<string, unknown>) => object): string {
  const [header, payload, signature] = token.split('.')
  const decoded = JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8'))
  return `${Buffer.from(JSON.stringify(change(decoded))).toString('base64url')}.${payload}.${signature}`
}

describe('RealmTokenVerifier (EdDSA)', () => {
  runTokenVerifierTests({
    async setup() {
      const home = makeRealm()
      // Tokens of another realm are issued the way that realm issues them: by its own delegated node.
      const other = makeRealm()
      const verifier = new RealmTokenVerifier({
        realm: home.realm,
        revocations: { isRevoked: async (jti) => home.revoked.has(jti) },
      })
      return {
        verifier,
        realm: home.realm,
        issue: async (claims) => (claims.iss === home.realm ? home.signer : other.signer).sign(claims),
        revoke: async (jti) => {
          home.revoked.add(jti)
        },
        tamper: async (token) =>
          withPayload(token, (claims) => ({ ...claims, sub: `mallory@${home.realm}` })),
      }
    },
    async teardown() {},
  })

  it('verifies a token minted on one node on any other node of the realm, offline, with the realm id only', async () => {
    const { signer, realm } = makeRealm()
    const token = await signer.mint(`alice@${realm}`, { ttlSeconds: 600 })
    const elsewhere = new RealmTokenVerifier({ realm, clock: () => NOW })
    await expect(elsewhere.verify(token)).resolves.toMatchObject({ sub: `alice@${realm}`, iss: realm })
  })

  it('produces standard JWTs: jose verifies the token with the node key and the delegation with the realm key', async () => {
    const { signer, realm, node, realmKey } = makeRealm()
    const token = await signer.mint(`alice@${realm}`, { ttlSeconds: 600 })
    const { payload, protectedHeader } = await jwtVerify(token, node.publicKey, {
      algorithms: ['EdDSA'],
      issuer: realm,
      typ: REALM_TOKEN_TYPE,
      crit: { [DELEGATION_HEADER]: true },
      currentDate: new Date(NOW * 1000),
    })
    expect(payload).toMatchObject({ sub: `alice@${realm}`, iat: NOW, exp: NOW + 600 })
    expect(protectedHeader.crit).toEqual([DELEGATION_HEADER])
    await expect(
      compactVerify(protectedHeader[DELEGATION_HEADER] as string, realmKey.publicKey),
    ).resolves.toBeDefined()
  })

  it('refuses an alg: none token with AlgorithmNotAllowed', async () => {
    const { verifier, claims, delegation } = makeRealm()
    const unsecured = new UnsecuredJWT({ ...claims() }).encode()
    await expectCode(verifier.verify(unsecured), 'AlgorithmNotAllowed')
    // The same, dressed as a realm token and with a signature part that is not empty.
    const dressed = withHeader(`${unsecured}AAAA`, () => ({
      alg: 'none',
      typ: REALM_TOKEN_TYPE,
      crit: [DELEGATION_HEADER],
      [DELEGATION_HEADER]: delegation,
    }))
    await expectCode(verifier.verify(dressed), 'AlgorithmNotAllowed')
  })

  it('refuses a token HMAC-signed with a public key as the secret (algorithm confusion) with AlgorithmNotAllowed', async () => {
    const { verifier, claims, delegation, node, realmKey } = makeRealm()
    for (const secret of [rawPublicKeyOf(node.publicKey), rawPublicKeyOf(realmKey.publicKey)]) {
      const token = await new SignJWT({ ...claims() })
        .setProtectedHeader({ alg: 'HS256', typ: REALM_TOKEN_TYPE, [DELEGATION_HEADER]: delegation })
        .sign(secret)
      // It is a genuine HS256 token: it verifies with that secret.
      await expect(jwtVerify(token, secret, { currentDate: new Date(NOW * 1000) })).resolves.toBeDefined()
      await expectCode(verifier.verify(token), 'AlgorithmNotAllowed')
    }
  })

  it('refuses a token whose header names no algorithm, the wrong type or unknown critical parameters', async () => {
    const { verifier, signer, claims } = makeRealm()
    const token = signer.sign(claims())
    for (const change of [
      (h: Record<string, unknown>) => ({ ...h, alg: undefined }),
      (h: Record<string, unknown>) => ({ ...h, typ: 'JWT' }),
      (h: Record<string, unknown>) => ({ ...h, crit: [DELEGATION_HEADER, 'b64'] }),
      (h: Record<string, unknown>) => ({ ...h, crit: DELEGATION_HEADER }),
    ]) {
      await expectCode(verifier.verify(withHeader(token, change)), 'MalformedToken')
    }
  })

  it('refuses an expired token with TokenExpired and a future one with TokenNotYetValid, within the clock tolerance', async () => {
    const { verifier, signer, claims } = makeRealm({ tolerance: 30 })
    await expectCode(verifier.verify(signer.sign(claims({ iat: NOW - HOUR, exp: NOW - 30 }))), 'TokenExpired')
    await expect(
      verifier.verify(signer.sign(claims({ iat: NOW - HOUR, exp: NOW - 29 }))),
    ).resolves.toBeDefined()
    await expectCode(
      verifier.verify(signer.sign(claims({ iat: NOW + 31, exp: NOW + HOUR }))),
      'TokenNotYetValid',
    )
    await expect(
      verifier.verify(signer.sign(claims({ iat: NOW + 30, exp: NOW + HOUR }))),
    ).resolves.toBeDefined()
  })

  it('allows 60 seconds of clock skew by default', async () => {
    const { signer, claims, realm } = makeRealm()
    const verifier = new RealmTokenVerifier({ realm })
    const token = signer.sign(claims({ iat: NOW + 60, exp: NOW + HOUR }))
    await expect(verifier.verify(token, { now: NOW })).resolves.toBeDefined()
    await expectCode(verifier.verify(token, { now: NOW - 1 }), 'TokenNotYetValid')
  })

  it('refuses a token of another realm with WrongRealm, even though it is genuine there', async () => {
    const home = makeRealm()
    const other = makeRealm()
    const token = await other.signer.mint(`alice@${other.realm}`, { ttlSeconds: 600 })
    await expect(other.verifier.verify(token)).resolves.toBeDefined()
    await expectCode(home.verifier.verify(token), 'WrongRealm')
  })

  it('refuses a token whose delegation is forged (signed by another key in the realm’s name) with InvalidDelegation', async () => {
    const { verifier, claims, realm } = makeRealm()
    const forger = createRealmKey()
    const attacker = createNodeKey()
    const forged = await new CompactSign(
      new TextEncoder().encode(JSON.stringify({ iss: realm, sub: attacker.id, iat: NOW, exp: NOW + HOUR })),
    )
      .setProtectedHeader({ alg: 'EdDSA', typ: DELEGATION_TYPE })
      .sign(forger.privateKey)
    await expectCode(
      verifier.verify(signRealmToken(claims(), attacker.privateKey, forged)),
      'InvalidDelegation',
    )
  })

  it('refuses a token carrying another realm’s genuine delegation with InvalidDelegation', async () => {
    const home = makeRealm()
    const other = makeRealm()
    const token = signRealmToken(home.claims(), other.node.privateKey, other.delegation)
    await expectCode(home.verifier.verify(token), 'InvalidDelegation')
  })

  it('refuses a token whose delegation was edited after signing with InvalidDelegation', async () => {
    const { verifier, claims, delegation, node } = makeRealm({ delegationExp: NOW + HOUR })
    const attacker = createNodeKey()
    const edit = (change: (p: Record<string, unknown>) => object) => withPayload(delegation, change)
    // The attacker puts their own key into the delegation and signs with it.
    const swapped = edit((p) => ({ ...p, sub: attacker.id }))
    await expectCode(
      verifier.verify(signRealmToken(claims(), attacker.privateKey, swapped)),
      'InvalidDelegation',
    )
    // Or extends a delegation that has run out (the signature covers exp).
    const extended = edit((p) => ({ ...p, exp: DELEGATION_EXP }))
    await expectCode(
      verifier.verify(signRealmToken(claims(), node.privateKey, extended)),
      'InvalidDelegation',
    )
  })

  it('refuses a token without a delegation, or with one that is not a delegation, with InvalidDelegation', async () => {
    const { verifier, signer, claims, node } = makeRealm()
    const token = signer.sign(claims())
    await expectCode(
      verifier.verify(withHeader(token, (h) => ({ ...h, [DELEGATION_HEADER]: undefined }))),
      'InvalidDelegation',
    )
    await expectCode(verifier.verify(signRealmToken(claims(), node.privateKey, 'a.b.c')), 'InvalidDelegation')
  })

  it('refuses a token whose delegation has expired with DelegationExpired, within the clock tolerance', async () => {
    const { verifier, signer, claims } = makeRealm({ delegationExp: NOW - 10, tolerance: 10 })
    await expectCode(verifier.verify(signer.sign(claims())), 'DelegationExpired')
    await expect(verifier.verify(signer.sign(claims()), { now: NOW - 1 })).resolves.toBeDefined()
  })

  it('refuses a token signed by a key other than the delegated one with InvalidToken', async () => {
    const { verifier, claims, delegation } = makeRealm()
    const stranger = createNodeKey()
    await expectCode(
      verifier.verify(signRealmToken(claims(), stranger.privateKey, delegation)),
      'InvalidToken',
    )
  })

  it('refuses a signed token whose claims are not realm token claims with MalformedToken', async () => {
    const { verifier, signer, claims, realm } = makeRealm()
    for (const bad of [
      { ...claims(), sub: 'alice@elsewhere' },
      { ...claims(), exp: 'soon' },
      { iss: realm },
    ]) {
      await expectCode(verifier.verify(signer.sign(bad)), 'MalformedToken')
    }
  })

  it('refuses a signed token whose payload is JSON but not an object with MalformedToken', async () => {
    const { verifier, node, delegation } = makeRealm()
    await expectCode(verifier.verify(signRealmToken([1, 2], node.privateKey, delegation)), 'MalformedToken')
  })

  it('refuses a revoked token with Revoked', async () => {
    const { verifier, signer, claims, revoked } = makeRealm()
    const token = signer.sign(claims({ jti: 'to-revoke' }))
    await expect(verifier.verify(token)).resolves.toMatchObject({ jti: 'to-revoke' })
    revoked.add('to-revoke')
    await expectCode(verifier.verify(token), 'Revoked')
    // Revocation is the only check verifyWithoutRevocation leaves out.
    expect(verifier.verifyWithoutRevocation(token)).toMatchObject({ jti: 'to-revoke' })
  })

  it('refuses an oversized token with TokenTooLarge before parsing it', async () => {
    const { verifier, signer, claims } = makeRealm()
    const valid = signer.sign(claims())
    // Anything longer than the limit, garbage or not, is refused for its size alone.
    await expectCode(verifier.verify('.'.repeat(MAX_TOKEN_LENGTH + 1)), 'TokenTooLarge')
    const bloated = signer.sign(
      claims({ restrictions: [{ pattern: `/${'x'.repeat(MAX_TOKEN_LENGTH)}`, permission: 'READ' }] }),
    )
    await expectCode(verifier.verify(bloated), 'TokenTooLarge')
    await expect(verifier.verify(valid)).resolves.toBeDefined()
  })

  it('keeps verifying with many issuing nodes (the delegation cache evicts the oldest)', async () => {
    const { realmKey, realm, verifier, claims } = makeRealm()
    const nodes = Array.from({ length: 300 }, () => createNodeKey())
    const tokens = nodes.map((node) =>
      signRealmToken(
        claims(),
        node.privateKey,
        signDelegation(realmKey.privateKey, {
          node: node.publicKey,
          iat: DELEGATION_IAT,
          exp: DELEGATION_EXP,
        }),
      ),
    )
    for (const token of [...tokens, ...tokens]) {
      expect(verifier.verifyWithoutRevocation(token).iss).toBe(realm)
    }
  })

  it('refuses a realm that is not a realm id with InvalidKey', () => {
    expect(() => new RealmTokenVerifier({ realm: 'my-realm' })).toThrow(
      expect.objectContaining({ code: 'InvalidKey' }),
    )
  })
})

describe('RealmTokenSigner', () => {
  it('mints tokens with a fresh jti, the given lifetime and restrictions', async () => {
    const { signer, verifier, realm } = makeRealm()
    const restrictions = [{ pattern: `/${realm}/g/x/**`, permission: 'READ' as const }]
    const a = await verifier.verify(await signer.mint(`alice@${realm}`, { ttlSeconds: 600, restrictions }))
    const b = await verifier.verify(await signer.mint(`alice@${realm}`, { ttlSeconds: 60, now: NOW + 5 }), {
      now: NOW + 5,
    })
    expect(a).toMatchObject({ sub: `alice@${realm}`, iss: realm, iat: NOW, exp: NOW + 600, restrictions })
    expect(b).toMatchObject({ iat: NOW + 5, exp: NOW + 65 })
    expect(b.restrictions).toBeUndefined()
    expect(a.jti).not.toBe(b.jti)
    expect(signer.realm).toBe(realm)
  })

  it('never mints a token that outlives its delegation, and refuses to mint once it has expired', async () => {
    const { signer, verifier, realm } = makeRealm({ delegationExp: NOW + 100 })
    const token = await signer.mint(`alice@${realm}`, { ttlSeconds: HOUR })
    await expect(verifier.verify(token)).resolves.toMatchObject({ exp: NOW + 100 })
    await expectCode(signer.mint(`alice@${realm}`, { ttlSeconds: HOUR, now: NOW + 100 }), 'DelegationExpired')
  })

  it('refuses to mint for another realm, a bad lifetime or a bad restriction', async () => {
    const { signer, realm } = makeRealm()
    await expectCode(signer.mint('alice@elsewhere', { ttlSeconds: 60 }), 'WrongRealm')
    await expectCode(signer.mint('alice', { ttlSeconds: 60 }), 'MalformedToken')
    for (const ttlSeconds of [0, -1, 1.5, Number.NaN]) {
      await expectCode(signer.mint(`alice@${realm}`, { ttlSeconds }), 'MalformedToken')
    }
    const restrictions = [{ pattern: `/${realm}/a**`, permission: 'READ' as const }]
    await expectCode(signer.mint(`alice@${realm}`, { ttlSeconds: 60, restrictions }), 'InvalidPattern')
  })

  it('uses the clock by default', async () => {
    const { node, delegation, realm } = makeRealm()
    const signer = new RealmTokenSigner({ issuerKey: node.privateKey, delegation })
    const token = await signer.mint(`alice@${realm}`, { ttlSeconds: 60 })
    const now = Math.floor(Date.now() / 1000)
    await expect(new RealmTokenVerifier({ realm }).verify(token)).resolves.toMatchObject({
      exp: expect.any(Number),
    })
    expect(Math.abs((await new RealmTokenVerifier({ realm }).verify(token)).iat - now)).toBeLessThan(5)
  })

  it('refuses a delegation of another node key, a forged one, and a key that is not an Ed25519 private key', async () => {
    const { node, delegation, realmKey } = makeRealm()
    const other = createNodeKey()
    const construct = (issuerKey: typeof node.privateKey, dlg: string) => () =>
      new RealmTokenSigner({ issuerKey, delegation: dlg })
    expect(construct(other.privateKey, delegation)).toThrow(
      expect.objectContaining({ code: 'InvalidDelegation' }),
    )
    const forger = createRealmKey()
    const foreign = signDelegation(forger.privateKey, { node: node.publicKey, iat: NOW, exp: NOW + HOUR })
    const claimed = withPayload(foreign, (p) => ({ ...p, iss: realmKey.realm }))
    expect(construct(node.privateKey, claimed)).toThrow(
      expect.objectContaining({ code: 'InvalidDelegation' }),
    )
    const notARealm = withPayload(foreign, (p) => ({ ...p, iss: 'my-realm' }))
    expect(construct(node.privateKey, notARealm)).toThrow(
      expect.objectContaining({ code: 'InvalidDelegation' }),
    )
    expect(construct(node.publicKey, delegation)).toThrow(expect.objectContaining({ code: 'InvalidKey' }))
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    expect(construct(ec, delegation)).toThrow(expect.objectContaining({ code: 'InvalidKey' }))
  })
})
