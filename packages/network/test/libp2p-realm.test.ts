import { noise } from '@chainsafe/libp2p-noise'
import { quic } from '@chainsafe/libp2p-quic'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Libp2p, Stream } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createPeerKey,
  decodeReply,
  encodeFrame,
  FrameDecoder,
  kadProtocolFor,
  type Libp2pNetwork,
  type LogEntry,
  peerIdOf,
  type TransportName,
} from '../src/index.js'
import { ECHO, echoHandler, expectNetworkError } from '../src/testing/index.js'
import { createTestNode, waitFor } from '../src/testing/libp2p-cluster.js'
import { createTestRealm, type TestRealm } from '../src/testing/realm.js'

const echo = (text: string) => ({ kind: 'echo' as const, text, body: new Uint8Array(0) })

let networks: Libp2pNetwork[] = []
let raws: Libp2p[] = []

afterEach(async () => {
  await Promise.all(networks.map((node) => node.stop()))
  await Promise.all(raws.map((node) => Promise.race([node.stop(), new Promise((r) => setTimeout(r, 2_000))])))
  networks = []
  raws = []
})

async function member(
  realm: TestRealm,
  transport: TransportName,
  options: Parameters<typeof createTestNode>[1] = {},
): Promise<Libp2pNetwork> {
  const node = await createTestNode(realm, { transports: [transport], ...options })
  networks.push(node)
  return node
}

/** A plain libp2p node: a valid key and the same transports, but no realm handshake at all. */
async function rawNode(transport: TransportName): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: [transport === 'tcp' ? '/ip4/127.0.0.1/tcp/0' : '/ip4/127.0.0.1/udp/0/quic-v1'] },
    transports: [transport === 'tcp' ? tcp() : quic()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false },
    services: { identify: identify(), ping: ping() },
  })
  raws.push(node)
  return node
}

/** Whatever a raw stream receives until it closes (bounded). */
async function received(stream: Stream, timeoutMs = 5_000): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('stream stayed open')), timeoutMs)
    stream.addEventListener('message', (event) => chunks.push(event.data.subarray()))
    stream.addEventListener('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks))
    })
  })
}

describe.each(['tcp', 'quic'] satisfies TransportName[])('realm gating over %s', (transport) => {
  it('refuses a node with a valid libp2p key but a forged realm proof, both ways, and logs it', async () => {
    const realm = createTestRealm()
    const log: LogEntry[] = []
    const a = await member(realm, transport, { log: (entry) => log.push(entry) })
    a.handle(ECHO, echoHandler())
    const joined: string[] = []
    a.on('peer:join', ({ peer }) => joined.push(peer))
    await a.start()
    const key = await createPeerKey()
    const intruder = await member(realm, transport, {
      privateKey: key,
      credentials: realm.intruder(peerIdOf(key)),
      bootstrap: a.multiaddrs,
    })
    intruder.handle(ECHO, echoHandler())
    intruder.on('peer:join', ({ peer }) => joined.push(peer))
    await intruder.start()
    await expectNetworkError(intruder.request(a.peerId, ECHO, echo('let me in')), 'NotMember')
    await expectNetworkError(a.request(intruder.peerId, ECHO, echo('who are you?')), 'NotMember')
    await expectNetworkError(intruder.openStream(a.peerId, '/aruna/test-any/1.0.0'), 'NotMember')
    expect(a.peers()).toEqual([])
    expect(intruder.peers()).toEqual([])
    expect(joined).toEqual([])
    expect(log).toContainEqual(
      expect.objectContaining({ event: 'peer-refused', peer: intruder.peerId, level: 'warn' }),
    )
  })

  it('refuses a node of another realm', async () => {
    const a = await member(createTestRealm(), transport)
    await a.start()
    const stranger = await member(createTestRealm(), transport, { bootstrap: a.multiaddrs })
    await stranger.start()
    await expectNetworkError(stranger.request(a.peerId, ECHO, echo('hello?')), 'NotMember')
    expect(a.peers()).toEqual([])
  })

  it('serves nothing, the DHT included, to a libp2p node that skips the handshake, and drops it', async () => {
    const realm = createTestRealm()
    const log: LogEntry[] = []
    const a = await member(realm, transport, { handshakeTimeoutMs: 500, log: (entry) => log.push(entry) })
    const handler = echoHandler()
    a.handle(ECHO, handler)
    await a.start()
    const intruder = await rawNode(transport)
    const target = multiaddr(a.multiaddrs[0] ?? '')

    const request = await intruder.dialProtocol(target, ECHO.id)
    request.send(encodeFrame(ECHO.request.encode(echo('anything for me?'))))
    const [frame] = new FrameDecoder({ maxFrameBytes: 1024 }).push(await received(request))
    if (!(frame instanceof Uint8Array)) throw new Error('no reply frame')
    const reply = decodeReply(frame)
    expect(reply.ok ? 'ok' : reply.error.code).toBe('NotMember')
    expect(handler.served).toBe(0)

    await waitFor(
      () => intruder.getConnections().length === 0,
      5_000,
      () => 'intruder still connected',
    )
    expect(log).toContainEqual(
      expect.objectContaining({ event: 'no-handshake', peer: intruder.peerId.toString() }),
    )

    const dht = await intruder.dialProtocol(target, kadProtocolFor(realm.realmId))
    dht.send(Uint8Array.from([0x06, 0x08, 0x04, 0x12, 0x02, 0x01, 0x02])) // FIND_NODE, key [1, 2]
    expect((await received(dht)).byteLength).toBe(0)
    expect(a.peers()).toEqual([])
  })
})

describe('membership gating', () => {
  it('keeps out, at connection level, a peer the predicate refuses from the start', async () => {
    const realm = createTestRealm()
    const a = await member(realm, 'tcp')
    const key = await createPeerKey()
    a.setMembership((peer) => peer !== peerIdOf(key))
    await a.start()
    const b = await member(realm, 'tcp', { privateKey: key, bootstrap: a.multiaddrs })
    await b.start()
    await expectNetworkError(b.request(a.peerId, ECHO, echo('?')), 'PeerUnreachable')
    await expectNetworkError(a.request(b.peerId, ECHO, echo('?')), 'NotMember')
    expect(a.libp2p?.getConnections().length).toBe(0)
  })
})
