import { describe, expect, it } from 'vitest'
import { ECHO, echo, echoHandler, expectNetworkError, nextEvent, nodeAt, withCluster } from './fixtures.js'
import type { NetworkTestSetup } from './setup.js'

const CONTENT = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

export function runMembershipTests(common: NetworkTestSetup): void {
  describe('membership', () => {
    it('lists every other node of the cluster as a live peer, never itself', async () => {
      await withCluster(common, 3, async (nodes) => {
        for (const node of nodes) {
          const others = nodes.filter((other) => other !== node).map((other) => other.peerId)
          expect([...node.peers()].sort()).toEqual([...others].sort())
        }
      })
    })

    it('emits peer:leave when a peer stops and peer:join when it starts again', {
      timeout: 20_000,
    }, async () => {
      await withCluster(common, 3, async (nodes) => {
        const [a, b, c] = [nodeAt(nodes, 0), nodeAt(nodes, 1), nodeAt(nodes, 2)]
        const left = [nextEvent(a, 'peer:leave', c.peerId), nextEvent(b, 'peer:leave', c.peerId)]
        await c.stop()
        expect(await Promise.all(left)).toEqual([{ peer: c.peerId }, { peer: c.peerId }])
        expect(a.peers()).not.toContain(c.peerId)
        const joined = nextEvent(a, 'peer:join', c.peerId)
        c.handle(ECHO, echoHandler())
        await c.start()
        expect(await joined).toEqual({ peer: c.peerId })
        expect((await a.request(c.peerId, ECHO, echo('welcome back'))).text).toBe('welcome back')
      })
    })

    it('refuses requests and streams between a node and a peer its predicate rejects', async () => {
      await withCluster(common, 3, async (nodes) => {
        const [a, b, outsider] = [nodeAt(nodes, 0), nodeAt(nodes, 1), nodeAt(nodes, 2)]
        for (const node of nodes) node.handle(ECHO, echoHandler())
        a.handleStream('/aruna/compliance-members/1.0.0', () => {})
        const left = nextEvent(a, 'peer:leave', outsider.peerId)
        a.setMembership((peer) => peer !== outsider.peerId)
        await left
        expect(a.peers()).not.toContain(outsider.peerId)
        await expectNetworkError(outsider.request(a.peerId, ECHO, echo('let me in')), 'NotMember')
        await expectNetworkError(
          outsider.openStream(a.peerId, '/aruna/compliance-members/1.0.0'),
          'NotMember',
        )
        await expectNetworkError(a.request(outsider.peerId, ECHO, echo('are you there?')), 'NotMember')
        expect((await a.request(b.peerId, ECHO, echo('member'))).text).toBe('member')
        expect((await b.request(a.peerId, ECHO, echo('member too'))).text).toBe('member too')
      })
    })

    it('treats a membership predicate that throws or rejects as a refusal', async () => {
      await withCluster(common, 3, async (nodes) => {
        const [a, b, c] = [nodeAt(nodes, 0), nodeAt(nodes, 1), nodeAt(nodes, 2)]
        for (const node of nodes) node.handle(ECHO, echoHandler())
        a.setMembership(async (peer) => {
          if (peer === b.peerId) throw new Error('member list unavailable')
          if (peer === c.peerId) return Promise.reject(new Error('still unavailable'))
          return true
        })
        await expectNetworkError(a.request(b.peerId, ECHO, echo('?')), 'NotMember')
        await expectNetworkError(a.request(c.peerId, ECHO, echo('?')), 'NotMember')
      })
    })

    it('stops calling a listener once it unsubscribes, and survives a listener that throws', async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        const seen: string[] = []
        const unsubscribe = a.on('peer:leave', () => seen.push('unsubscribed'))
        a.on('peer:leave', () => {
          throw new Error('listener bug')
        })
        const left = nextEvent(a, 'peer:leave', b.peerId)
        unsubscribe()
        await b.stop()
        await left
        expect(seen).toEqual([])
      })
    })
  })

  describe('providers', () => {
    it('finds every peer that provides a content id, itself included, each once', async () => {
      await withCluster(common, 3, async (nodes) => {
        const [a, b, c] = [nodeAt(nodes, 0), nodeAt(nodes, 1), nodeAt(nodes, 2)]
        await b.provide(CONTENT)
        await c.provide(CONTENT)
        await c.provide(CONTENT)
        expect([...(await a.findProviders(CONTENT, { timeoutMs: 3_000 }))].sort()).toEqual(
          [b.peerId, c.peerId].sort(),
        )
        expect([...(await b.findProviders(CONTENT, { timeoutMs: 3_000 }))].sort()).toEqual(
          [b.peerId, c.peerId].sort(),
        )
        expect(await a.findProviders(CONTENT, { timeoutMs: 3_000, limit: 1 })).toHaveLength(1)
      })
    })

    it('finds no providers for content nobody provides', async () => {
      await withCluster(common, 2, async (nodes) => {
        await nodeAt(nodes, 1).provide(CONTENT)
        expect(await nodeAt(nodes, 0).findProviders(`${CONTENT}-other`, { timeoutMs: 2_000 })).toEqual([])
      })
    })

    it('rejects empty, oversized and control-character content ids with InvalidArgument', async () => {
      await withCluster(common, 1, async (nodes) => {
        const a = nodeAt(nodes, 0)
        for (const id of ['', 'x'.repeat(513), 'bad\nid']) {
          await expectNetworkError(a.provide(id), 'InvalidArgument')
          await expectNetworkError(a.findProviders(id), 'InvalidArgument')
        }
        await expectNetworkError(a.findProviders(CONTENT, { signal: AbortSignal.abort() }), 'Aborted')
      })
    })
  })

  describe('lifecycle', () => {
    it('fails every call of a stopped node with NotStarted, and lists no peers', async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        b.handle(ECHO, echoHandler())
        await a.stop()
        await a.stop()
        expect(a.peers()).toEqual([])
        await expectNetworkError(a.request(b.peerId, ECHO, echo('x')), 'NotStarted')
        await expectNetworkError(a.openStream(b.peerId, '/aruna/compliance-any/1.0.0'), 'NotStarted')
        await expectNetworkError(a.provide(CONTENT), 'NotStarted')
        await expectNetworkError(a.findProviders(CONTENT), 'NotStarted')
      })
    })

    it('fails a request that is in flight when its own node stops with NotStarted', async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        b.handle(ECHO, echoHandler())
        const call = a.request(b.peerId, ECHO, { kind: 'hang' })
        await new Promise((resolve) => setTimeout(resolve, 100))
        await a.stop()
        await expectNetworkError(call, 'NotStarted')
      })
    })

    it('fails a request to a peer that has stopped with PeerUnreachable', { timeout: 20_000 }, async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        b.handle(ECHO, echoHandler())
        const left = nextEvent(a, 'peer:leave', b.peerId)
        await b.stop()
        await left
        await expectNetworkError(
          a.request(b.peerId, ECHO, echo('x'), { timeoutMs: 5_000 }),
          'PeerUnreachable',
        )
      })
    })

    it('treats start and stop as idempotent and keeps its peer id across a restart', async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        const id = a.peerId
        await a.start()
        b.handle(ECHO, echoHandler())
        await a.stop()
        await a.start()
        await a.start()
        expect(a.peerId).toBe(id)
        expect((await a.request(b.peerId, ECHO, echo('again'))).text).toBe('again')
      })
    })
  })
}
