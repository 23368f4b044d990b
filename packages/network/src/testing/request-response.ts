import { describe, expect, it } from 'vitest'
import { bytesCodec } from '../codec.js'
import type { Protocol } from '../port.js'
import { defineProtocol } from '../protocol.js'
import {
  aborted,
  ECHO,
  ECHO_LIMIT,
  type EchoRequest,
  echo,
  echoHandler,
  expectNetworkError,
  expectNetworkErrorSync,
  nodeAt,
  pseudoRandomBytes,
  WAIT_MS,
  withCluster,
} from './fixtures.js'
import type { NetworkTestSetup } from './setup.js'

/** The echo protocol as a careless or hostile client might speak it: garbage instead of a request. */
const GARBAGE_CLIENT: Protocol<EchoRequest, Uint8Array> = {
  id: ECHO.id,
  request: { encode: () => Uint8Array.from([0xff, 0xfe, 0x00, 0x01]), decode: () => ({ kind: 'hang' }) },
  response: bytesCodec,
  maxMessageBytes: ECHO_LIMIT,
}

/** The echo protocol with a far larger limit than the server accepts. */
const GREEDY_CLIENT: Protocol<EchoRequest, unknown> = { ...ECHO, maxMessageBytes: 4 * ECHO_LIMIT }

/** A protocol whose server answers with bytes the client's codec refuses. */
const BROKEN_SERVER = defineProtocol({
  id: '/aruna/compliance-broken/1.0.0',
  request: bytesCodec,
  response: bytesCodec,
})
const STRICT_CLIENT = defineProtocol({ ...BROKEN_SERVER, response: ECHO.response })

export function runRequestResponseTests(common: NetworkTestSetup): void {
  describe('request/response', () => {
    it('returns the handler response, binary fields intact, and tells the handler who asked', async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        b.handle(ECHO, echoHandler())
        const body = pseudoRandomBytes(10_000)
        const response = await a.request(b.peerId, ECHO, echo('hello', body))
        expect(response.text).toBe('hello')
        expect(response.body).toBeInstanceOf(Uint8Array)
        expect(Buffer.from(response.body).equals(Buffer.from(body))).toBe(true)
        expect(response.servedBy).toBe(a.peerId)
      })
    })

    it('matches many concurrent requests from several nodes to their own responses', async () => {
      await withCluster(common, 3, async (nodes) => {
        const server = nodeAt(nodes, 1)
        server.handle(ECHO, echoHandler())
        const callers = [nodeAt(nodes, 0), nodeAt(nodes, 2)]
        const calls = callers.flatMap((caller, c) =>
          Array.from({ length: 40 }, (_, i) => {
            const text = `${c}-${i}`
            return caller
              .request(server.peerId, ECHO, echo(text, Uint8Array.of(c, i), (i * 7) % 20))
              .then((response) => ({ text, caller: caller.peerId, response }))
          }),
        )
        for (const { text, caller, response } of await Promise.all(calls)) {
          expect(response.text).toBe(text)
          expect(response.servedBy).toBe(caller)
          expect([...response.body]).toEqual(text.split('-').map(Number))
        }
      })
    })

    it('serves requests in both directions at once', async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        a.handle(ECHO, echoHandler())
        b.handle(ECHO, echoHandler())
        const [fromA, fromB] = await Promise.all([
          a.request(b.peerId, ECHO, echo('from a', new Uint8Array(0), 10)),
          b.request(a.peerId, ECHO, echo('from b', new Uint8Array(0), 10)),
        ])
        expect(fromA.text).toBe('from a')
        expect(fromB.text).toBe('from b')
      })
    })

    it('gives the caller HandlerFailed with a one-line message and no stack when the handler throws', async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        b.handle(ECHO, echoHandler())
        const err = await expectNetworkError(
          a.request(b.peerId, ECHO, { kind: 'fail', message: 'disk on fire' }),
          'HandlerFailed',
        )
        expect(err.message).toContain('disk on fire')
        expect(err.message).not.toContain('\n')
        expect(err.message).not.toContain('secretFunction')
        expect(err.message).not.toContain('/srv/secret')
        expect((await a.request(b.peerId, ECHO, echo('still serving'))).text).toBe('still serving')
      })
    })

    it('fails with NoHandler when the peer does not serve the protocol, or no longer does', async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        await expectNetworkError(a.request(b.peerId, ECHO, echo('anyone?')), 'NoHandler')
        b.handle(ECHO, echoHandler())
        expect((await a.request(b.peerId, ECHO, echo('now'))).text).toBe('now')
        b.unhandle(ECHO.id)
        await expectNetworkError(a.request(b.peerId, ECHO, echo('gone?')), 'NoHandler')
      })
    })

    it('fails with Timeout when no answer comes in time, aborts the handler, and keeps serving', async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        const handler = echoHandler()
        b.handle(ECHO, handler)
        const started = performance.now()
        await expectNetworkError(a.request(b.peerId, ECHO, { kind: 'hang' }, { timeoutMs: 200 }), 'Timeout')
        expect(performance.now() - started).toBeLessThan(WAIT_MS)
        const signal = handler.signals[0]
        expect(signal).toBeDefined()
        await aborted(signal!)
        expect((await a.request(b.peerId, ECHO, echo('after timeout'))).text).toBe('after timeout')
      })
    })

    it('fails with Aborted when the caller aborts, and aborts the handler', async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        const handler = echoHandler()
        b.handle(ECHO, handler)
        const controller = new AbortController()
        const call = a.request(b.peerId, ECHO, { kind: 'hang' }, { signal: controller.signal })
        setTimeout(() => controller.abort(), 100)
        await expectNetworkError(call, 'Aborted')
        expect(handler.signals.length).toBeGreaterThan(0)
        await aborted(handler.signals[0]!)
      })
    })

    it('fails with Aborted at once, without reaching the peer, when the signal has already fired', async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        const handler = echoHandler()
        b.handle(ECHO, handler)
        await expectNetworkError(
          a.request(b.peerId, ECHO, echo('x'), { signal: AbortSignal.abort() }),
          'Aborted',
        )
        expect((await a.request(b.peerId, ECHO, echo('y'))).text).toBe('y')
        expect(handler.served).toBe(1)
      })
    })

    it('refuses to send a request over the protocol limit with MessageTooLarge', async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        const handler = echoHandler()
        b.handle(ECHO, handler)
        await expectNetworkError(
          a.request(b.peerId, ECHO, echo('big', new Uint8Array(ECHO_LIMIT))),
          'MessageTooLarge',
        )
        expect(handler.served).toBe(0)
      })
    })

    it('refuses an oversized request on the receiving side with MessageTooLarge and keeps serving', async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        const handler = echoHandler()
        b.handle(ECHO, handler)
        const oversized = echo('big', new Uint8Array(2 * ECHO_LIMIT))
        await expectNetworkError(a.request(b.peerId, GREEDY_CLIENT, oversized), 'MessageTooLarge')
        expect(handler.served).toBe(0)
        expect((await a.request(b.peerId, ECHO, echo('next'))).text).toBe('next')
      })
    })

    it('fails with MessageTooLarge when the response would exceed the limit', async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        b.handle(ECHO, echoHandler())
        await expectNetworkError(
          a.request(b.peerId, ECHO, { kind: 'big', bytes: 2 * ECHO_LIMIT }),
          'MessageTooLarge',
        )
        expect((await a.request(b.peerId, ECHO, { kind: 'big', bytes: 100 })).body).toHaveLength(100)
      })
    })

    it('fails with MalformedMessage when the peer cannot decode the request, and keeps serving', async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        const handler = echoHandler()
        b.handle(ECHO, handler)
        await expectNetworkError(a.request(b.peerId, GARBAGE_CLIENT, echo('ignored')), 'MalformedMessage')
        expect(handler.served).toBe(0)
        expect((await a.request(b.peerId, ECHO, echo('fine'))).text).toBe('fine')
      })
    })

    it('fails with MalformedMessage when the response cannot be decoded', async () => {
      await withCluster(common, 2, async (nodes) => {
        const [a, b] = [nodeAt(nodes, 0), nodeAt(nodes, 1)]
        b.handle(BROKEN_SERVER, () => Uint8Array.from([0x00, 0x7b]))
        await expectNetworkError(a.request(b.peerId, STRICT_CLIENT, new Uint8Array(1)), 'MalformedMessage')
      })
    })

    it('rejects bad protocol ids, a second handler for one protocol, and requests to itself', async () => {
      await withCluster(common, 2, async (nodes) => {
        const a = nodeAt(nodes, 0)
        for (const id of [
          '/aruna/Echo/1.0.0',
          '/other/echo/1.0.0',
          '/aruna/echo/1.1.0',
          '/aruna/hello/1.0.0',
          '',
        ]) {
          expectNetworkErrorSync(() => a.handle({ ...ECHO, id }, echoHandler()), 'InvalidArgument')
          expectNetworkErrorSync(() => a.handleStream(id, () => {}), 'InvalidArgument')
        }
        a.handle(ECHO, echoHandler())
        expectNetworkErrorSync(() => a.handle(ECHO, echoHandler()), 'AlreadyHandled')
        expectNetworkErrorSync(() => a.handleStream(ECHO.id, () => {}), 'AlreadyHandled')
        await expectNetworkError(a.request(a.peerId, ECHO, echo('me')), 'InvalidArgument')
        await expectNetworkError(a.request('', ECHO, echo('nobody')), 'InvalidArgument')
        await expectNetworkError(
          a.request(nodeAt(nodes, 1).peerId, ECHO, echo('x'), { timeoutMs: -1 }),
          'InvalidArgument',
        )
      })
    })

    it('lets a handler make requests of its own while serving', async () => {
      await withCluster(common, 3, async (nodes) => {
        const [a, b, c] = [nodeAt(nodes, 0), nodeAt(nodes, 1), nodeAt(nodes, 2)]
        c.handle(ECHO, echoHandler())
        b.handle(ECHO, async (request, context) => {
          const inner = await b.request(c.peerId, ECHO, request, { signal: context.signal })
          return { ...inner, text: `via ${b.peerId}: ${inner.text}` }
        })
        const response = await a.request(b.peerId, ECHO, echo('relay'))
        expect(response.text).toBe(`via ${b.peerId}: relay`)
        expect(response.servedBy).toBe(b.peerId)
      })
    })
  })
}
