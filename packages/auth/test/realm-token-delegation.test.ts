import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { CompactSign, compactVerify, importJWK } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  createNodeKey,
  createRealmKey,
  DELEGATION_TYPE,
  decodeDelegation,
  keyIdOf,
  MAX_DELEGATION_LENGTH,
  publicKeyOf,
  rawPublicKeyOf,
  realmIdOf,
  signDelegation,
  verifyDelegation,
} from '../src/index.js'

const NOW = 1_900_000_000
const DAY = 86_400

/** A delegation's payload part replaced, its signature kept. */
function withPayload(delegation: string, change: (payload: Record<string, unknown>) => object): string {
  const [header, payload, signature] = delegation.split('.')
  const decoded = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'))
  return `${header}.${Buffer.from(JSON.stringify(change(decoded))).toString('base64url')}.${signature}`
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

describe('realm and node keys', () => {
  it('makes a realm id the base64url of the raw public key, which is its JWK x', () => {
    const key = createRealmKey()
    expect(key.realm).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(key.realm).toBe(key.id)
    expect(key.realm).toBe(key.publicKey.export({ format: 'jwk' }).x)
    expect(realmIdOf(key.publicKey)).toBe(key.realm)
    expect(realmIdOf(key.privateKey)).toBe(key.realm)
    expect(realmIdOf(rawPublicKeyOf(key.publicKey))).toBe(key.realm)
    expect(rawPublicKeyOf(key.publicKey)).toHaveLength(32)
  })

  it('derives the public key from the id alone', () => {
    const key = createRealmKey()
    const derived = publicKeyOf(key.realm)
    expect(derived.equals(key.publicKey)).toBe(true)
  })

  it('makes keys from a 32-byte seed (RFC 8032 test vector 1)', () => {
    const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex')
    const expected = Buffer.from(
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      'hex',
    ).toString('base64url')
    expect(createRealmKey(seed).realm).toBe(expected)
    expect(createNodeKey(seed).id).toBe(expected)
    expect(createNodeKey().id).not.toBe(createNodeKey().id)
  })

  it.each([
    ['too short', 'abc'],
    ['too long', 'A'.repeat(44)],
    ['not base64url', `${'A'.repeat(42)}+`],
    ['non-canonical last character', `${'A'.repeat(42)}B`],
    ['not a string', 42],
  ])('refuses an id that is %s with InvalidKey', (_, id) => {
    expect(codeOf(() => publicKeyOf(id as string))).toBe('InvalidKey')
  })

  it('refuses keys that are not Ed25519 and seeds or raw keys of the wrong length', () => {
    const rsa = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey
    expect(codeOf(() => realmIdOf(rsa))).toBe('InvalidKey')
    expect(codeOf(() => keyIdOf(new Uint8Array(31)))).toBe('InvalidKey')
    expect(codeOf(() => createRealmKey(new Uint8Array(16)))).toBe('InvalidKey')
  })
})

describe('delegations', () => {
  const realm = createRealmKey()
  const node = createNodeKey()
  const delegation = signDelegation(realm.privateKey, {
    node: node.publicKey,
    iat: NOW - DAY,
    exp: NOW + DAY,
  })

  it('verifies with the realm id alone and says which node, until when', () => {
    const verified = verifyDelegation(delegation, realm.realm, { now: NOW })
    expect(verified).toMatchObject({ realm: realm.realm, node: node.id, iat: NOW - DAY, exp: NOW + DAY })
    expect(verified.nodeKey.equals(node.publicKey)).toBe(true)
    expect(decodeDelegation(delegation)).toEqual({
      realm: realm.realm,
      node: node.id,
      iat: NOW - DAY,
      exp: NOW + DAY,
    })
  })

  it('is a standard EdDSA compact JWS that jose verifies with the realm JWK built from the realm id', async () => {
    const realmJwk = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: realm.realm }, 'EdDSA')
    const { payload, protectedHeader } = await compactVerify(delegation, realmJwk)
    expect(protectedHeader).toEqual({ alg: 'EdDSA', typ: DELEGATION_TYPE })
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual({
      iss: realm.realm,
      sub: node.id,
      iat: NOW - DAY,
      exp: NOW + DAY,
    })
  })

  it('checks the node it names when asked to, given as a key, raw bytes or an id', () => {
    for (const expected of [node.publicKey, node.privateKey, rawPublicKeyOf(node.publicKey), node.id]) {
      expect(verifyDelegation(delegation, realm.realm, { now: NOW, node: expected }).node).toBe(node.id)
    }
    const other = createNodeKey()
    expect(codeOf(() => verifyDelegation(delegation, realm.realm, { now: NOW, node: other.publicKey }))).toBe(
      'InvalidDelegation',
    )
  })

  it('accepts the node as an id when signing and defaults iat to the clock', () => {
    const signed = signDelegation(realm.privateKey, { node: node.id, exp: NOW + DAY })
    const { iat } = decodeDelegation(signed)
    expect(Math.abs(iat - Date.now() / 1000)).toBeLessThan(5)
    expect(verifyDelegation(signed, realm.realm).node).toBe(node.id)
  })

  it('refuses an expired delegation with DelegationExpired, widened by the clock tolerance', () => {
    expect(codeOf(() => verifyDelegation(delegation, realm.realm, { now: NOW + DAY }))).toBe(
      'DelegationExpired',
    )
    expect(
      verifyDelegation(delegation, realm.realm, { now: NOW + DAY + 29, clockToleranceSeconds: 30 }).node,
    ).toBe(node.id)
    expect(
      codeOf(() =>
        verifyDelegation(delegation, realm.realm, { now: NOW + DAY + 30, clockToleranceSeconds: 30 }),
      ),
    ).toBe('DelegationExpired')
  })

  it('refuses a delegation of another realm', () => {
    const other = createRealmKey()
    expect(codeOf(() => verifyDelegation(delegation, other.realm, { now: NOW }))).toBe('InvalidDelegation')
  })

  it('refuses a delegation forged with another key in the realm’s name', async () => {
    const forger = createRealmKey()
    const forged = await new CompactSign(
      new TextEncoder().encode(JSON.stringify({ iss: realm.realm, sub: node.id, iat: NOW, exp: NOW + DAY })),
    )
      .setProtectedHeader({ alg: 'EdDSA', typ: DELEGATION_TYPE })
      .sign(forger.privateKey)
    expect(decodeDelegation(forged).realm).toBe(realm.realm)
    expect(codeOf(() => verifyDelegation(forged, realm.realm, { now: NOW }))).toBe('InvalidDelegation')
  })

  it('refuses a delegation edited after signing', () => {
    const attacker = createNodeKey()
    for (const tampered of [
      withPayload(delegation, (p) => ({ ...p, exp: NOW + 100 * DAY })),
      withPayload(delegation, (p) => ({ ...p, sub: attacker.id })),
    ]) {
      expect(codeOf(() => verifyDelegation(tampered, realm.realm, { now: NOW }))).toBe('InvalidDelegation')
    }
  })

  it('refuses what is not a delegation with InvalidDelegation', () => {
    const [header, payload] = delegation.split('.')
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    for (const garbage of [
      '',
      'a.b',
      'a.b.c',
      `${header}.${payload}`,
      'x'.repeat(MAX_DELEGATION_LENGTH + 1),
      `${b64({ alg: 'none', typ: DELEGATION_TYPE })}.${payload}.`,
      `${b64({ alg: 'EdDSA', typ: 'JWT' })}.${payload}.AAAA`,
      `${b64({ alg: 'EdDSA', typ: DELEGATION_TYPE, crit: ['x'] })}.${payload}.AAAA`,
      `${header}.${b64([1])}.AAAA`,
      `${header}.${b64({ iss: realm.realm, sub: node.id, iat: NOW, exp: NOW })}.AAAA`,
      `${header}.${b64({ iss: realm.realm, sub: 5, iat: NOW, exp: NOW + 1 })}.AAAA`,
      `${header}.${b64({ iss: realm.realm, sub: node.id, iat: 1.5, exp: NOW })}.AAAA`,
      42,
    ]) {
      expect(codeOf(() => decodeDelegation(garbage as string))).toBe('InvalidDelegation')
    }
    // Well formed and signed, but naming no node key.
    const noNode = withPayload(delegation, (p) => ({ ...p, sub: 'not-a-key' }))
    expect(codeOf(() => verifyDelegation(noNode, realm.realm, { now: NOW }))).toBe('InvalidDelegation')
  })

  it('refuses a realm id that is not one with InvalidKey', () => {
    expect(codeOf(() => verifyDelegation(delegation, 'my-realm', { now: NOW }))).toBe('InvalidKey')
  })

  it('refuses to sign with a public key or with exp not after iat', () => {
    expect(codeOf(() => signDelegation(createPublicKey(realm.privateKey), { node: node.id, exp: NOW }))).toBe(
      'InvalidKey',
    )
    expect(codeOf(() => signDelegation(realm.privateKey, { node: node.id, iat: NOW, exp: NOW }))).toBe(
      'InvalidDelegation',
    )
    expect(codeOf(() => signDelegation(realm.privateKey, { node: 'nope', iat: NOW, exp: NOW + 1 }))).toBe(
      'InvalidKey',
    )
  })
})
