import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryCluster, defineProtocol, type MemoryNetworkHub, type PeerId } from '../src/index.js'
import {
  ECHO,
  echoHandler,
  expectNetworkError,
  expectNetworkErrorSync,
  waitFor,
} from '../src/testing/index.js'

const OPEN = defineProtocol({ ...ECHO, id: '/aruna/test-open/1.0.0' })
const echo = (text: string) => ({ kind: 'echo' as const, text, body: new Uint8Array(0) })
let hubs: MemoryNetworkHub[] = []

afterEach(async () => {
  await Promise.all(hubs.map((hub) => hub.stopAll()))
  hubs = []
})

async function cluster(nodes: number) {
  const created = await createMemoryCluster({ nodes, livenessTimeoutMs: 200, pingIntervalMs: 40 })
  hubs.push(created.hub)
  return created
}

describe('open protocols on the memory network', () => {
  it('serve a hub node that is not started yet, which joins as a member afterwards', async () => {
    const { hub, nodes } = await cluster(1)
    const [a] = nodes
    if (a === undefined) throw new Error('no node')
    const members = new Set<PeerId>([a.peerId])
    a.setMembership((peer) => members.has(peer))
    a.handle(ECHO, echoHandler())
    a.handle(
      OPEN,
      (request, { peer }) => {
        members.add(peer)
        return { kind: 'echoed' as const, text: request.kind, body: new Uint8Array(0), servedBy: peer }
      },
      { open: true },
    )
    const newcomer = hub.createNode({ peerId: 'newcomer', isMember: (peer) => peer === a.peerId })
    const joined: PeerId[] = []
    a.on('peer:join', ({ peer }) => joined.push(peer))
    await expectNetworkError(
      hub.requestOpen({ from: 'newcomer', to: a.peerId, protocol: ECHO, request: echo('?') }),
      'NotMember',
    )
    const answer = await hub.requestOpen({
      from: 'newcomer',
      to: a.peerId,
      protocol: OPEN,
      request: echo('join'),
    })
    expect(answer.servedBy).toBe('newcomer')
    expect(a.peers()).toEqual([])
    expect(joined).toEqual([])
    await newcomer.start()
    expect(a.peers()).toEqual(['newcomer'])
    expect(joined).toEqual(['newcomer'])
    // A live member's outsider call reaches closed protocols too, as on libp2p (admission is per peer).
    const text = (
      await hub.requestOpen({ from: 'newcomer', to: a.peerId, protocol: ECHO, request: echo('hi') })
    ).text
    expect(text).toBe('hi')
  })

  it('fail at once when the serving node crashes, and check their arguments', async () => {
    const { hub, nodes } = await cluster(1)
    const [a] = nodes
    if (a === undefined) throw new Error('no node')
    const handler = echoHandler()
    a.handle(OPEN, handler, { open: true })
    const hanging = hub.requestOpen({ from: 'x', to: a.peerId, protocol: OPEN, request: { kind: 'hang' } })
    await waitFor(
      () => handler.served > 0,
      2_000,
      () => 'the handler never ran',
    )
    hub.kill(a.peerId)
    await expectNetworkError(hanging, 'PeerUnreachable')
    await expectNetworkError(
      hub.requestOpen({ from: 'x', to: 'nobody', protocol: OPEN, request: echo('?') }),
      'PeerUnreachable',
    )
    await expectNetworkError(
      hub.requestOpen({ from: a.peerId, to: a.peerId, protocol: OPEN, request: echo('?') }),
      'InvalidArgument',
    )
    await expectNetworkError(
      hub.requestOpen({ from: '', to: a.peerId, protocol: OPEN, request: echo('?') }),
      'InvalidArgument',
    )
    expectNetworkErrorSync(() => a.handle(OPEN, handler, { open: true }), 'AlreadyHandled')
  })
})
