import { describe, expect, it } from 'vitest'
import { messageCodec } from '../src/codec.js'
import { kadProtocolFor } from '../src/index.js'
import { verifyProof } from '../src/libp2p/credentials.js'
import { helloCodec } from '../src/libp2p/hello.js'
import { peerAddress, pinListenPorts } from '../src/libp2p/libp2p-node.js'
import { expectNetworkErrorSync } from '../src/testing/index.js'
import { createTestRealm } from '../src/testing/realm.js'

const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

describe('the realm handshake messages', () => {
  it('round-trip every message kind, the proof staying binary', () => {
    const proof = Uint8Array.of(0, 1, 2, 255)
    for (const message of [
      { kind: 'hello', realm: 'r', proof },
      { kind: 'welcome', realm: 'r', proof },
      { kind: 'ok' },
      { kind: 'refuse', reason: 'no' },
      { kind: 'bye', reason: 'stopping' },
      { kind: 'bye', reason: 'not-member' },
    ] as const) {
      expect(helloCodec.decode(helloCodec.encode(message))).toEqual(message)
    }
  })

  it('refuses anything else as MalformedMessage, and truncates a long refusal reason', () => {
    const any = messageCodec((value) => value)
    for (const hostile of [
      { kind: 'hello', realm: 'r' },
      { kind: 'welcome', realm: 7, proof: new Uint8Array(1) },
      { kind: 'hello', realm: 'r', proof: new Uint8Array(1), extra: true },
      { kind: 'refuse' },
      { kind: 'bye', reason: 'bored' },
      { kind: 'other' },
      [],
    ]) {
      expectNetworkErrorSync(() => helloCodec.decode(any.encode(hostile)), 'MalformedMessage')
    }
    const long = helloCodec.decode(helloCodec.encode({ kind: 'refuse', reason: 'x'.repeat(1000) }))
    expect(long).toEqual({ kind: 'refuse', reason: 'x'.repeat(200) })
  })
})

describe('realm credentials', () => {
  it('verify a member proof for its own peer only, and treat a failing verifier as a refusal', async () => {
    const realm = createTestRealm()
    const credentials = realm.credentialsFor(PEER)
    const proof = await credentials.proof()
    expect(await verifyProof(credentials, PEER, proof)).toBe(true)
    expect(await verifyProof(credentials, `${PEER.slice(0, -1)}Y`, proof)).toBe(false)
    expect(await verifyProof(credentials, PEER, await realm.intruder(PEER).proof())).toBe(false)
    const broken = { ...credentials, verify: () => Promise.reject(new Error('key store down')) }
    expect(await verifyProof(broken, PEER, proof)).toBe(false)
  })

  it('put the realm id into the DHT protocol, and refuse ids that cannot be part of one', () => {
    expect(kadProtocolFor('abc_-D9')).toBe('/aruna/abc_-D9/kad/1.0.0')
    for (const id of ['', 'a/b', 'x'.repeat(129), 'ü'])
      expectNetworkErrorSync(() => kadProtocolFor(id), 'InvalidArgument')
  })
})

describe('listen and bootstrap addresses', () => {
  it('pins ports the system chose, per transport and host, and leaves fixed ports alone', () => {
    const actual = [
      `/ip4/127.0.0.1/tcp/4101/p2p/${PEER}`,
      `/ip4/127.0.0.1/udp/4102/quic-v1/p2p/${PEER}`,
      `/ip4/10.0.0.5/tcp/4103/p2p/${PEER}`,
    ]
    expect(
      pinListenPorts(
        [
          '/ip4/127.0.0.1/tcp/0',
          '/ip4/127.0.0.1/udp/0/quic-v1',
          '/ip4/0.0.0.0/tcp/0',
          '/ip4/127.0.0.1/tcp/9000',
        ],
        actual,
      ),
    ).toEqual([
      '/ip4/127.0.0.1/tcp/4101',
      '/ip4/127.0.0.1/udp/4102/quic-v1',
      '/ip4/0.0.0.0/tcp/4101',
      '/ip4/127.0.0.1/tcp/9000',
    ])
    expect(pinListenPorts(['/ip6/::1/tcp/0'], actual)).toEqual(['/ip6/::1/tcp/0'])
  })

  it('splits a bootstrap address into peer id and address, and rejects one without a peer id', () => {
    const located = peerAddress(`/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`)
    expect(located?.peer).toBe(PEER)
    expect(located?.address.toString()).toBe('/ip4/127.0.0.1/tcp/4001')
    expect(peerAddress('/ip4/127.0.0.1/tcp/4001')).toBeUndefined()
    expect(peerAddress('garbage')).toBeUndefined()
  })
})
