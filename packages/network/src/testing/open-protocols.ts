import { describe, expect, it } from 'vitest'
import type { PeerId, Protocol } from '../port.js'
import { defineProtocol } from '../protocol.js'
import {
  aborted,
  ECHO,
  ECHO_LIMIT,
  type EchoRequest,
  type EchoResponse,
  echo,
  echoHandler,
  expectNetworkError,
  nodeAt,
  withCluster,
} from './fixtures.js'
import type { NetworkCluster, NetworkTestSetup, Outsider } from './setup.js'

/** The echo protocol under another id, served with `{ open: true }` in these tests. */
const OPEN_ECHO: Protocol<EchoRequest, EchoResponse> = defineProtocol({
  ...ECHO,
  id: '/aruna/compliance-open/1.0.0',
})

/** The open echo protocol with a far larger limit than the server accepts. */
const GREEDY_OPEN: Protocol<EchoRequest, unknown> = { ...OPEN_ECHO, maxMessageBytes: 4 * ECHO_LIMIT }

const UNSERVED: Protocol<EchoRequest, EchoResponse> = defineProtocol({
  ...ECHO,
  id: '/aruna/compliance-unserved/1.0.0',
})

/** A fresh outsider, or `undefined` when the implementation under test has no way to make one. */
async function outsiderOf(cluster: NetworkCluster): Promise<Outsider | undefined> {
  return cluster.outsider?.()
}

export function runOpenProtocolTests(common: NetworkTestSetup): void {
  describe('open protocols', () => {
    it('serve a caller outside the realm, which never becomes a live peer', async (context) => {
      await withCluster(common, 2, async (nodes, cluster) => {
        const outsider = await outsiderOf(cluster)
        if (outsider === undefined) return context.skip()
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        const joined: PeerId[] = []
        a.on('peer:join', ({ peer }) => joined.push(peer))
        a.handle(OPEN_ECHO, echoHandler(), { open: true })
        const response = await outsider.request(a, OPEN_ECHO, echo('let me join'))
        expect(response.text).toBe('let me join')
        expect(response.servedBy).toBe(outsider.peerId)
        expect((await outsider.request(a, OPEN_ECHO, echo('again'))).text).toBe('again')
        // Members call an open protocol as any other.
        expect((await b.request(a.peerId, OPEN_ECHO, echo('member'))).servedBy).toBe(b.peerId)
        expect(a.peers()).not.toContain(outsider.peerId)
        expect(joined).not.toContain(outsider.peerId)
      })
    })

    it('refuse the outsider NotMember on closed protocols, whatever the membership predicate says', {
      timeout: 30_000,
    }, async (context) => {
      await withCluster(common, 2, async (nodes, cluster) => {
        const outsider = await outsiderOf(cluster)
        if (outsider === undefined) return context.skip()
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        const closed = echoHandler()
        a.handle(ECHO, closed)
        a.handle(OPEN_ECHO, echoHandler(), { open: true })
        // The predicate accepts every peer, but the outsider never passes the realm handshake.
        await expectNetworkError(outsider.request(a, ECHO, echo('members only?')), 'NotMember')
        a.setMembership((peer) => peer !== outsider.peerId)
        await expectNetworkError(outsider.request(a, ECHO, echo('members only?')), 'NotMember')
        expect((await outsider.request(a, OPEN_ECHO, echo('still open'))).text).toBe('still open')
        expect(closed.served).toBe(0)
        expect(a.peers()).not.toContain(outsider.peerId)
        expect((await b.request(a.peerId, ECHO, echo('member'))).text).toBe('member')
      })
    })

    it('give the outsider HandlerFailed without a stack, and NoHandler for unserved protocols', async (context) => {
      await withCluster(common, 1, async (nodes, cluster) => {
        const outsider = await outsiderOf(cluster)
        if (outsider === undefined) return context.skip()
        const a = nodeAt(nodes, 0)
        a.handle(OPEN_ECHO, echoHandler(), { open: true })
        const err = await expectNetworkError(
          outsider.request(a, OPEN_ECHO, { kind: 'fail', message: 'invite expired' }),
          'HandlerFailed',
        )
        expect(err.message).toContain('invite expired')
        expect(err.message).not.toContain('\n')
        expect(err.message).not.toContain('secretFunction')
        expect(err.message).not.toContain('/srv/secret')
        await expectNetworkError(outsider.request(a, UNSERVED, echo('anyone?')), 'NoHandler')
      })
    })

    it('enforce the size limits on both sides for the outsider', async (context) => {
      await withCluster(common, 1, async (nodes, cluster) => {
        const outsider = await outsiderOf(cluster)
        if (outsider === undefined) return context.skip()
        const a = nodeAt(nodes, 0)
        const handler = echoHandler()
        a.handle(OPEN_ECHO, handler, { open: true })
        const big = new Uint8Array(ECHO_LIMIT + 1)
        await expectNetworkError(outsider.request(a, OPEN_ECHO, echo('too big', big)), 'MessageTooLarge')
        await expectNetworkError(outsider.request(a, GREEDY_OPEN, echo('too big', big)), 'MessageTooLarge')
        await expectNetworkError(
          outsider.request(a, OPEN_ECHO, { kind: 'big', bytes: ECHO_LIMIT }),
          'MessageTooLarge',
        )
        expect(handler.served).toBe(1)
        expect((await outsider.request(a, OPEN_ECHO, echo('small'))).text).toBe('small')
      })
    })

    it('time out, abort the handler when the outsider gives up, and fail once the node stopped', async (context) => {
      await withCluster(common, 1, async (nodes, cluster) => {
        const outsider = await outsiderOf(cluster)
        if (outsider === undefined) return context.skip()
        const a = nodeAt(nodes, 0)
        const handler = echoHandler()
        a.handle(OPEN_ECHO, handler, { open: true })
        await expectNetworkError(
          outsider.request(a, OPEN_ECHO, { kind: 'hang' }, { timeoutMs: 300 }),
          'Timeout',
        )
        const signal = handler.signals[0]
        if (signal === undefined) throw new Error('the handler never ran')
        await aborted(signal)
        await expectNetworkError(
          outsider.request(a, OPEN_ECHO, echo('never sent'), { signal: AbortSignal.abort() }),
          'Aborted',
        )
        await a.stop()
        await expectNetworkError(
          outsider.request(a, OPEN_ECHO, echo('anyone?'), { timeoutMs: 4_000 }),
          'PeerUnreachable',
        )
      })
    })
  })
}
