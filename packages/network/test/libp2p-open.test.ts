import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createPeerKey,
  decodeReply,
  defineProtocol,
  encodeFrame,
  FrameDecoder,
  type Libp2pNetwork,
  type LogEntry,
  messageCodec,
  NetworkError,
  type PeerId,
  peerIdOf,
  requestOpen,
  type TransportName,
} from '../src/index.js'
import { ECHO, echoHandler, expectNetworkError } from '../src/testing/index.js'
import { createTestNode, waitFor } from '../src/testing/libp2p-cluster.js'
import { createTestRealm, type TestRealm } from '../src/testing/realm.js'

type JoinRequest = { kind: 'join'; invite: string }
type JoinResponse = { kind: 'welcome'; realm: string } | { kind: 'refused' }

/** What the app's join protocol looks like: a normal protocol, served with `{ open: true }`. */
const JOIN = defineProtocol<JoinRequest, JoinResponse>({
  id: '/aruna/join/1.0.0',
  request: messageCodec((v) => {
    const r = v as JoinRequest
    if (r?.kind !== 'join' || typeof r.invite !== 'string')
      throw new NetworkError('MalformedMessage', 'no join')
    return r
  }),
  response: messageCodec((v) => v as JoinResponse),
  maxMessageBytes: 4096,
})

const echo = (text: string) => ({ kind: 'echo' as const, text, body: new Uint8Array(0) })

let networks: Libp2pNetwork[] = []
let raws: Libp2p[] = []

afterEach(async () => {
  await Promise.all(networks.map((node) => node.stop()))
  await Promise.all(raws.map((node) => Promise.race([node.stop(), new Promise((r) => setTimeout(r, 2_000))])))
  networks = []
  raws = []
})

async function node(
  realm: TestRealm,
  transport: TransportName,
  options: Parameters<typeof createTestNode>[1] = {},
): Promise<Libp2pNetwork> {
  const created = await createTestNode(realm, { transports: [transport], ...options })
  networks.push(created)
  return created
}

/** A realm node whose members are `members`, serving the join protocol (open) and echo (closed). */
async function realmServer(transport: TransportName, options: Parameters<typeof createTestNode>[1] = {}) {
  const realm = createTestRealm()
  const members = new Set<PeerId>()
  const log: LogEntry[] = []
  const joined: PeerId[] = []
  const server = await node(realm, transport, {
    isMember: (peer) => members.has(peer),
    log: (entry) => log.push(entry),
    ...options,
  })
  server.handle(
    JOIN,
    (request, { peer }): JoinResponse => {
      if (request.invite !== 'secret-invite') return { kind: 'refused' }
      members.add(peer)
      return { kind: 'welcome', realm: realm.realmId }
    },
    { open: true },
  )
  server.handle(ECHO, echoHandler())
  server.on('peer:join', ({ peer }) => joined.push(peer))
  await server.start()
  const address = server.multiaddrs[0] ?? ''
  return { realm, members, log, joined, server, address }
}

describe.each(['tcp', 'quic'] satisfies TransportName[])('open protocols over %s', (transport) => {
  it('let a non-member join with an invite, then connect as a member at once', async () => {
    const { realm, members, log, joined, server, address } = await realmServer(transport)
    const privateKey = await createPeerKey()
    const joiner = peerIdOf(privateKey)

    await expectNetworkError(
      requestOpen({ privateKey, address, protocol: ECHO, request: echo('members only') }),
      'NotMember',
    )
    expect(
      await requestOpen({ privateKey, address, protocol: JOIN, request: { kind: 'join', invite: 'guess' } }),
    ).toEqual({ kind: 'refused' })
    expect(
      await requestOpen({
        privateKey,
        address,
        protocol: JOIN,
        request: { kind: 'join', invite: 'secret-invite' },
      }),
    ).toEqual({ kind: 'welcome', realm: realm.realmId })
    expect(members.has(joiner)).toBe(true)
    expect(server.peers()).toEqual([])
    expect(joined).toEqual([])
    expect(log.filter((entry) => entry.peer === joiner && entry.level === 'warn')).toEqual([])

    // The same key, now a member with a valid proof: admitted straight away, neither banned nor refused.
    const member = await node(realm, transport, { privateKey, bootstrap: [address] })
    await member.start()
    await waitFor(
      () => server.peers().includes(joiner),
      3_000,
      () => 'the joiner is not a live peer',
    )
    expect(joined).toEqual([joiner])
    expect((await member.request(server.peerId, ECHO, echo('member now'))).servedBy).toBe(joiner)
  })

  it('still ban a peer with a forged proof, for open protocols too', async () => {
    const { realm, log, server, address } = await realmServer(transport, { isMember: () => true })
    const privateKey = await createPeerKey()
    const intruder = await node(realm, transport, {
      privateKey,
      credentials: realm.intruder(peerIdOf(privateKey)),
      bootstrap: [address],
    })
    await intruder.start()
    await expectNetworkError(intruder.request(server.peerId, ECHO, echo('let me in')), 'NotMember')
    await waitFor(
      () => log.some((entry) => entry.event === 'peer-refused' && entry.peer === intruder.peerId),
      5_000,
      () => 'the intruder was not refused',
    )
    await intruder.stop()
    await expectNetworkError(
      requestOpen({
        privateKey,
        address,
        protocol: JOIN,
        request: { kind: 'join', invite: 'secret-invite' },
      }),
      'PeerUnreachable',
    )
    expect(server.peers()).toEqual([])
  })
})

describe('open protocols', () => {
  it('do not let non-members connect to a node that serves none', async () => {
    const realm = createTestRealm()
    const server = await node(realm, 'tcp', { isMember: () => false })
    server.handle(ECHO, echoHandler())
    await server.start()
    await expectNetworkError(
      requestOpen({
        privateKey: await createPeerKey(),
        address: server.multiaddrs[0] ?? '',
        protocol: ECHO,
        request: echo('?'),
      }),
      'PeerUnreachable',
    )
    expect(server.libp2p?.getConnections()).toEqual([])
  })

  it('close a connection used for open protocols without a handshake quietly, at the handshake timeout', async () => {
    const { log, server, address } = await realmServer('tcp', { handshakeTimeoutMs: 500 })
    const raw = await createLibp2p({
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionMonitor: { enabled: false },
    })
    raws.push(raw)
    const stream = await raw.dialProtocol(multiaddr(address), JOIN.id)
    stream.send(encodeFrame(JOIN.request.encode({ kind: 'join', invite: 'secret-invite' })))
    const decoder = new FrameDecoder({ maxFrameBytes: 4096 })
    const frames: Array<Uint8Array | NetworkError> = []
    stream.addEventListener('message', (event) => frames.push(...decoder.push(event.data.subarray())))
    await waitFor(
      () => frames.length > 0,
      5_000,
      () => 'no reply',
    )
    const [frame] = frames
    if (!(frame instanceof Uint8Array)) throw new Error('no reply frame')
    const reply = decodeReply(frame)
    expect(reply.ok && JOIN.response.decode(reply.payload)).toMatchObject({ kind: 'welcome' })
    await waitFor(
      () => raw.getConnections().length === 0,
      5_000,
      () => 'still connected',
    )
    const peer = raw.peerId.toString()
    expect(log).toContainEqual(expect.objectContaining({ event: 'open-only', level: 'debug', peer }))
    expect(log.filter((entry) => entry.peer === peer && entry.level === 'warn')).toEqual([])
    expect(server.peers()).toEqual([])
  })

  it('check their arguments, and report a node that is not there as PeerUnreachable', async () => {
    const privateKey = await createPeerKey()
    const self = peerIdOf(privateKey)
    const other = peerIdOf(await createPeerKey())
    const call = (address: string) => requestOpen({ privateKey, address, protocol: ECHO, request: echo('?') })
    await expectNetworkError(call('/ip4/127.0.0.1/tcp/1'), 'InvalidArgument')
    await expectNetworkError(call('not a multiaddr'), 'InvalidArgument')
    await expectNetworkError(call(`/ip4/127.0.0.1/udp/1/p2p/${other}`), 'InvalidArgument')
    await expectNetworkError(call(`/ip4/127.0.0.1/tcp/1/p2p/${self}`), 'InvalidArgument')
    await expectNetworkError(
      requestOpen({
        privateKey: undefined as never,
        address: `/ip4/127.0.0.1/tcp/1/p2p/${other}`,
        protocol: ECHO,
        request: echo('?'),
      }),
      'InvalidArgument',
    )
    await expectNetworkError(
      requestOpen({
        privateKey,
        address: `/ip4/127.0.0.1/tcp/1/p2p/${other}`,
        protocol: ECHO,
        request: { kind: 'echo', text: 'x', body: new Uint8Array(0), delayMs: Number.NaN },
      }),
      'InvalidArgument',
    )
    await expectNetworkError(call(`/ip4/127.0.0.1/tcp/1/p2p/${other}`), 'PeerUnreachable')
    await expectNetworkError(
      requestOpen({
        privateKey,
        address: `/ip4/127.0.0.1/udp/1/quic-v1/p2p/${other}`,
        protocol: ECHO,
        request: echo('?'),
        timeoutMs: 2_000,
      }),
      'PeerUnreachable',
    )
  })
})
