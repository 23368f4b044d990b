import { createRealmKey, keyIdOf, signDelegation } from '@aruna/auth'
import { createPeerKey, peerIdOf } from '@aruna/network'
import { describe, expect, it } from 'vitest'
import {
  DelegationRealmCredentials,
  delegatePeer,
  ed25519KeyOfPeerId,
  MemoryOrgaStore,
  nodeKeyIdOfPeer,
  type OrgaError,
} from '../src/index.js'

const encode = (text: string): Uint8Array => new TextEncoder().encode(text)
const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600

async function peer(): Promise<{ peerId: string; raw: Uint8Array }> {
  const key = await createPeerKey()
  return { peerId: peerIdOf(key), raw: key.publicKey.raw }
}

async function realmWithNodes(count: number) {
  const realm = createRealmKey()
  const store = new MemoryOrgaStore({ realmId: realm.realm })
  const nodes = []
  for (let i = 0; i < count; i++) {
    const node = await peer()
    const delegation = delegatePeer(realm.privateKey, node.peerId, inAnHour())
    await store.addNode({ peerId: node.peerId, kind: 'server', delegation, addresses: [] })
    nodes.push({ ...node, delegation })
  }
  const credentials = (delegation: string, peerId?: string) =>
    new DelegationRealmCredentials({
      realmId: realm.realm,
      delegation,
      isMember: (p) => store.isMember(p),
      ...(peerId === undefined ? {} : { peerId }),
    })
  return { realm, store, nodes, credentials }
}

describe('libp2p peer ids and auth node keys', () => {
  it('reads the raw Ed25519 key out of a peer id: the same 32 bytes libp2p holds', async () => {
    const node = await peer()
    expect(ed25519KeyOfPeerId(node.peerId)).toEqual(node.raw)
    expect(nodeKeyIdOfPeer(node.peerId)).toBe(keyIdOf(node.raw))
  })

  it('refuses what is not an Ed25519 peer id', () => {
    for (const bad of [
      '',
      'x'.repeat(65),
      '0OIl',
      'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N',
      '12D3KooW',
    ]) {
      expect(() => ed25519KeyOfPeerId(bad), bad).toThrow(expect.objectContaining({ code: 'InvalidInput' }))
    }
  })
})

describe('DelegationRealmCredentials', () => {
  it('shows its delegation and verifies a listed peer holding the delegation of its own key', async () => {
    const { nodes, credentials } = await realmWithNodes(2)
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const onA = credentials(a.delegation, a.peerId)
    const onB = credentials(b.delegation, b.peerId)
    expect(await onA.verify(b.peerId, await onB.proof())).toBe(true)
    expect(await onB.verify(a.peerId, await onA.proof())).toBe(true)
    expect(new TextDecoder().decode(await onA.proof())).toBe(a.delegation)
  })

  it('refuses a delegation forged with another realm key', async () => {
    const { nodes, credentials } = await realmWithNodes(2)
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const forged = delegatePeer(createRealmKey().privateKey, b.peerId, inAnHour())
    expect(await credentials(a.delegation).verify(b.peerId, encode(forged))).toBe(false)
  })

  it("refuses another node's delegation replayed by a listed peer", async () => {
    const { nodes, credentials } = await realmWithNodes(2)
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    // b presents a's (valid, realm-signed) delegation: it names a's key, not b's.
    expect(await credentials(a.delegation).verify(b.peerId, encode(a.delegation))).toBe(false)
  })

  it('refuses an expired delegation', async () => {
    const { realm, store, nodes, credentials } = await realmWithNodes(1)
    const old = await peer()
    const iat = Math.floor(Date.now() / 1000) - 7200
    const expired = signDelegation(realm.privateKey, {
      node: ed25519KeyOfPeerId(old.peerId),
      iat,
      exp: iat + 60,
    })
    await store.addNode({ peerId: old.peerId, kind: 'server', delegation: expired, addresses: [] })
    const onA = credentials((nodes[0] as { delegation: string }).delegation)
    expect(await onA.verify(old.peerId, encode(expired))).toBe(false)
    // …and a node whose own delegation has expired fails at construction.
    expect(() => credentials(expired)).toThrow(expect.objectContaining({ code: 'InvalidInput' }))
  })

  it('stops verifying a node once it is removed from the realm', async () => {
    const { store, nodes, credentials } = await realmWithNodes(2)
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const onA = credentials(a.delegation)
    expect(await onA.verify(b.peerId, encode(b.delegation))).toBe(true)
    await store.removeNode(b.peerId)
    expect(await onA.verify(b.peerId, encode(b.delegation))).toBe(false)
  })

  it('refuses an unlisted peer with a valid delegation, hostile proofs and a throwing node list', async () => {
    const { realm, nodes, credentials } = await realmWithNodes(1)
    const a = nodes[0] as { delegation: string; peerId: string }
    const stranger = await peer()
    const valid = delegatePeer(realm.privateKey, stranger.peerId, inAnHour())
    const onA = credentials(a.delegation)
    expect(await onA.verify(stranger.peerId, encode(valid))).toBe(false)
    for (const proof of [new Uint8Array(0), new Uint8Array([0xff, 0xfe]), new Uint8Array(5000)]) {
      expect(await onA.verify(a.peerId, proof)).toBe(false)
    }
    expect(await onA.verify('not-a-peer', encode(a.delegation))).toBe(false)
    const throwing = new DelegationRealmCredentials({
      realmId: realm.realm,
      delegation: a.delegation,
      isMember: () => {
        throw new Error('store closed')
      },
    })
    expect(await throwing.verify(a.peerId, encode(a.delegation))).toBe(false)
  })

  it("fails at construction with another node's delegation or another realm's", async () => {
    const { realm, nodes } = await realmWithNodes(2)
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    const make = (realmId: string, delegation: string, peerId?: string) =>
      new DelegationRealmCredentials({
        realmId,
        delegation,
        isMember: () => true,
        ...(peerId ? { peerId } : {}),
      })
    expect(() => make(realm.realm, a.delegation, b.peerId)).toThrow(
      expect.objectContaining<Partial<OrgaError>>({ code: 'InvalidInput' }),
    )
    expect(() => make(createRealmKey().realm, a.delegation)).toThrow(
      expect.objectContaining({ code: 'InvalidInput' }),
    )
  })
})
