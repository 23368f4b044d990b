import { createSocket, type Socket } from 'node:dgram'
import type { Address } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import type { Libp2pNetwork, TransportName } from '../src/index.js'
import { isQuic, quicDialTimeout, quicFirst } from '../src/libp2p/dial-order.js'
import { ECHO, echoHandler } from '../src/testing/index.js'
import { createTestNode, waitFor } from '../src/testing/libp2p-cluster.js'
import { createTestRealm, type TestRealm } from '../src/testing/realm.js'

const echo = (text: string) => ({ kind: 'echo' as const, text, body: new Uint8Array(0) })

let networks: Libp2pNetwork[] = []
let sockets: Socket[] = []

afterEach(async () => {
  await Promise.all(networks.map((node) => node.stop()))
  for (const socket of sockets) socket.close()
  networks = []
  sockets = []
})

async function node(
  realm: TestRealm,
  transports: TransportName[],
  options: Parameters<typeof createTestNode>[1] = {},
): Promise<Libp2pNetwork> {
  const created = await createTestNode(realm, { transports, ...options })
  networks.push(created)
  created.handle(ECHO, echoHandler())
  return created
}

/** The transport of every connection `from` has to `to`. */
function transportsBetween(from: Libp2pNetwork, to: Libp2pNetwork): string[] {
  return (from.libp2p?.getConnections(peerIdFromString(to.peerId)) ?? []).map((connection) =>
    isQuic(connection.remoteAddr) ? 'quic' : 'tcp',
  )
}

const address = (text: string, isCertified = false): Address => ({ multiaddr: multiaddr(text), isCertified })

describe('dial order', () => {
  it('puts QUIC before TCP, after libp2p’s own criteria', () => {
    const sorted = (texts: string[]) =>
      texts
        .map((text) => address(text))
        .sort(quicFirst)
        .map((entry) => entry.multiaddr.toString())
    expect(sorted(['/ip4/10.0.0.2/tcp/4001', '/ip4/10.0.0.2/udp/4001/quic-v1'])).toEqual([
      '/ip4/10.0.0.2/udp/4001/quic-v1',
      '/ip4/10.0.0.2/tcp/4001',
    ])
    // Loopback last and public first still come before the transport.
    expect(
      sorted(['/ip4/127.0.0.1/udp/4001/quic-v1', '/ip4/10.0.0.2/tcp/4001', '/ip4/8.8.8.8/tcp/4001']),
    ).toEqual(['/ip4/8.8.8.8/tcp/4001', '/ip4/10.0.0.2/tcp/4001', '/ip4/127.0.0.1/udp/4001/quic-v1'])
    expect(
      [address('/ip4/10.0.0.2/udp/1/quic-v1'), address('/ip4/10.0.0.3/tcp/1', true)]
        .sort(quicFirst)
        .map((entry) => entry.isCertified),
    ).toEqual([true, false])
    expect(isQuic(multiaddr('/ip4/10.0.0.2/udp/1/quic-v1/webtransport'))).toBe(false)
    expect(
      isQuic(
        multiaddr('/ip4/10.0.0.2/udp/1/quic-v1/p2p/12D3KooWJ2oqD4QnJNrQkYmaKFaq59A3psirsgyH7HxQgGZ3zUXD'),
      ),
    ).toBe(true)
    expect([quicDialTimeout(10_000), quicDialTimeout(500), quicDialTimeout(60_000)]).toEqual([
      5_000, 1_000, 5_000,
    ])
  })
})

describe('transport choice', () => {
  it('connects over QUIC when both nodes listen on TCP and QUIC', async () => {
    const realm = createTestRealm()
    const a = await node(realm, ['tcp', 'quic'])
    await a.start()
    // TCP listed first, as `multiaddrs` lists it: the order of the bootstrap list does not decide.
    const b = await node(realm, ['tcp', 'quic'], { bootstrap: a.multiaddrs })
    await b.start()
    await waitFor(
      () => a.peers().includes(b.peerId),
      5_000,
      () => 'a does not see b',
    )
    expect((await b.request(a.peerId, ECHO, echo('over quic'))).text).toBe('over quic')
    expect(transportsBetween(b, a)).toEqual(['quic'])
    expect(transportsBetween(a, b)).toEqual(['quic'])
  })

  it('connects a TCP-only node to a TCP and QUIC node over TCP', async () => {
    const realm = createTestRealm()
    const a = await node(realm, ['tcp', 'quic'])
    await a.start()
    const b = await node(realm, ['tcp'], { bootstrap: a.multiaddrs })
    await b.start()
    await waitFor(
      () => a.peers().includes(b.peerId),
      5_000,
      () => 'a does not see b',
    )
    expect((await a.request(b.peerId, ECHO, echo('over tcp'))).text).toBe('over tcp')
    expect(transportsBetween(b, a)).toEqual(['tcp'])
    expect(transportsBetween(a, b)).toEqual(['tcp'])
  })

  it('falls back to TCP when the QUIC address does not answer', async () => {
    const realm = createTestRealm()
    const a = await node(realm, ['tcp', 'quic'])
    await a.start()
    // A UDP port that swallows every packet, as a firewall dropping QUIC would.
    const blackHole = createSocket('udp4')
    sockets.push(blackHole)
    await new Promise<void>((resolve) => blackHole.bind(0, '127.0.0.1', resolve))
    const deadQuic = `/ip4/127.0.0.1/udp/${blackHole.address().port}/quic-v1/p2p/${a.peerId}`
    const tcpAddress = a.multiaddrs.find((text) => !isQuic(multiaddr(text))) ?? ''
    const b = await node(realm, ['tcp', 'quic'], {
      bootstrap: [deadQuic, tcpAddress],
      livenessTimeoutMs: 4_000,
    })
    await b.start()
    expect(b.peers()).toContain(a.peerId)
    expect(transportsBetween(b, a)).toEqual(['tcp'])
  })
})
