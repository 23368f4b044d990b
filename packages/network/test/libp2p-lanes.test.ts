import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { afterEach, describe, expect, it } from 'vitest'
import {
  assertProtocolId,
  bytesCodec,
  CALLS_PROTOCOL_ID,
  decodeLaneMessage,
  decodeReply,
  defineProtocol,
  encodeFrame,
  encodeLaneMessage,
  encodeVarint,
  FrameDecoder,
  LANE_MAX_CALLS_IN_FLIGHT,
  type LaneMessage,
  type Libp2pNetwork,
  NetworkError,
} from '../src/index.js'
import { expectNetworkError, expectNetworkErrorSync } from '../src/testing/index.js'
import { createLibp2pCluster, type Libp2pCluster, waitFor } from '../src/testing/libp2p-cluster.js'

const SLOW = defineProtocol({ id: '/aruna/test-slow/1.0.0', request: bytesCodec, response: bytesCodec })
const ECHO = defineProtocol({ id: '/aruna/test-echo/1.0.0', request: bytesCodec, response: bytesCodec })
const echoHandler = (request: Uint8Array): Uint8Array => Buffer.concat([Buffer.from('echo:'), request])
const say = (words: string): Uint8Array => new TextEncoder().encode(words)
const heard = (reply: Uint8Array): string => new TextDecoder().decode(reply)
const BIG = defineProtocol({
  id: '/aruna/test-big/1.0.0',
  request: bytesCodec,
  response: bytesCodec,
  maxMessageBytes: 1024 * 1024,
})

let clusters: Libp2pCluster[] = []

afterEach(async () => {
  await Promise.all(clusters.map((cluster) => cluster.stop()))
  clusters = []
})

async function pair(): Promise<[Libp2pNetwork, Libp2pNetwork]> {
  const created = await createLibp2pCluster({ nodes: 2, transports: ['tcp'] })
  clusters.push(created)
  const [a, b] = created.nodes
  if (a === undefined || b === undefined) throw new Error('need two nodes')
  return [a, b]
}

/** The streams `from` has open to `to` for `protocol`, as libp2p sees them. */
function streamsFor(from: Libp2pNetwork, to: Libp2pNetwork, protocol: string): Stream[] {
  const connections = from.libp2p?.getConnections(peerIdFromString(to.peerId)) ?? []
  return connections.flatMap((c) => c.streams).filter((s) => s.protocol === protocol)
}

describe('call lanes: the wire format', () => {
  it('round-trips each kind of message', () => {
    const messages: LaneMessage[] = [
      { kind: 'request', call: 1, protocol: ECHO.id, body: Uint8Array.of(1, 2, 3) },
      { kind: 'request', call: 2 ** 31 - 1, protocol: ECHO.id, body: new Uint8Array(0) },
      { kind: 'reply', call: 300, body: Uint8Array.of(0, 9) },
      { kind: 'cancel', call: 0 },
    ]
    for (const message of messages) expect(decodeLaneMessage(encodeLaneMessage(message))).toEqual(message)
  })

  it('refuses what is not a lane message with MalformedMessage', () => {
    const request = encodeLaneMessage({ kind: 'request', call: 7, protocol: ECHO.id, body: Uint8Array.of(1) })
    const bad: Uint8Array[] = [
      new Uint8Array(0), // no kind
      Uint8Array.of(3, 1), // unknown kind
      Uint8Array.of(1), // no call id
      Uint8Array.of(1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), // call id varint too long
      Uint8Array.of(2, ...encodeVarint(2 ** 31)), // call id out of range
      Uint8Array.of(2, 1, 0), // bytes after a cancel
      Uint8Array.of(0, 1, 0), // empty protocol id
      Uint8Array.of(0, 1, 200, 1), // protocol id longer than allowed
      request.subarray(0, 8), // cut inside the protocol id
      Uint8Array.of(0, 1, 2, 0xff, 0xfe), // protocol id not UTF-8
    ]
    for (const bytes of bad) expectNetworkErrorSync(() => decodeLaneMessage(bytes), 'MalformedMessage')
    expectNetworkErrorSync(() => encodeLaneMessage({ kind: 'cancel', call: -1 }), 'InvalidArgument')
    expectNetworkErrorSync(
      () => encodeLaneMessage({ kind: 'request', call: 1, protocol: '', body: new Uint8Array(0) }),
      'InvalidArgument',
    )
  })

  it('keeps the lane protocol id from handlers', () => {
    expectNetworkErrorSync(() => assertProtocolId(CALLS_PROTOCOL_ID), 'InvalidArgument')
  })
})

describe('call lanes between two libp2p nodes', () => {
  it('carries many concurrent small requests on one stream and matches replies that come in any order', async () => {
    const [a, b] = await pair()
    b.handle(SLOW, async (request) => {
      // The first requests are answered last.
      await new Promise((resolve) => setTimeout(resolve, 60 - (request[0] ?? 0)))
      return request
    })
    b.handle(ECHO, echoHandler)
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_v, i) => a.request(b.peerId, SLOW, Uint8Array.of(i, 1, 2))),
    )
    replies.forEach((reply, i) => {
      expect([...reply]).toEqual([i, 1, 2])
    })
    expect(heard(await a.request(b.peerId, ECHO, say('hi')))).toBe('echo:hi')
    expect(streamsFor(a, b, CALLS_PROTOCOL_ID)).toHaveLength(1)
    // No request went on a stream of its own.
    expect(streamsFor(a, b, SLOW.id)).toHaveLength(0)
  })

  it('sends a request over 64 KiB on a stream of its own', async () => {
    const [a, b] = await pair()
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    b.handle(BIG, async (request) => {
      await held
      return request.subarray(0, 10)
    })
    const big = new Uint8Array(100 * 1024).fill(7)
    const answer = a.request(b.peerId, BIG, big)
    await waitFor(
      () => streamsFor(a, b, BIG.id).length === 1,
      5_000,
      () => 'a stream of its own for the big request',
    )
    release()
    expect([...(await answer)]).toEqual(Array(10).fill(7))
    // A small request on the same protocol takes the lane.
    expect([...(await a.request(b.peerId, BIG, Uint8Array.of(5)))]).toEqual([5])
    expect(streamsFor(a, b, CALLS_PROTOCOL_ID)).toHaveLength(1)
  })

  it('sends every request of a protocol with large replies on a stream of its own', async () => {
    const [a, b] = await pair()
    const CHUNKS = defineProtocol({
      id: '/aruna/test-chunks/1.0.0',
      request: bytesCodec,
      response: bytesCodec,
      maxMessageBytes: 4 * 1024 * 1024,
      largeReplies: true,
    })
    expect(CHUNKS.largeReplies).toBe(true)
    expect(SLOW.largeReplies).toBeUndefined()
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    b.handle(CHUNKS, async () => {
      await held
      return new Uint8Array(2 * 1024 * 1024).fill(3)
    })
    const answer = a.request(b.peerId, CHUNKS, Uint8Array.of(1))
    await waitFor(
      () => streamsFor(a, b, CHUNKS.id).length === 1,
      5_000,
      () => 'a stream of its own for the small request',
    )
    release()
    expect((await answer).byteLength).toBe(2 * 1024 * 1024)
    expect(streamsFor(a, b, CALLS_PROTOCOL_ID)).toHaveLength(0)
  })

  it('aborts the handler when the caller gives up, and answers the next call', async () => {
    const [a, b] = await pair()
    let handlerSignal: AbortSignal | undefined
    b.handle(SLOW, async (request, context) => {
      if (request[0] === 1) return request
      handlerSignal = context.signal
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }))
      return request
    })
    const controller = new AbortController()
    const call = a.request(b.peerId, SLOW, Uint8Array.of(0), { signal: controller.signal })
    await waitFor(
      () => handlerSignal !== undefined,
      5_000,
      () => 'the handler to start',
    )
    controller.abort(new NetworkError('Aborted', 'gave up'))
    await expect(call).rejects.toMatchObject({ code: 'Aborted' })
    await waitFor(
      () => handlerSignal?.aborted === true,
      5_000,
      () => 'the handler to be aborted',
    )
    expect([...(await a.request(b.peerId, SLOW, Uint8Array.of(1)))]).toEqual([1])
  })

  it('fails the calls in flight when the lane breaks, and opens a new lane for the next call', async () => {
    const [a, b] = await pair()
    let started = 0
    b.handle(SLOW, async (request, context) => {
      if (request[0] === 1) return request
      started++
      await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }))
      return request
    })
    const calls = [0, 0, 0].map((v) => a.request(b.peerId, SLOW, Uint8Array.of(v)))
    await waitFor(
      () => started === 3,
      5_000,
      () => 'three handlers to start',
    )
    const [lane] = streamsFor(a, b, CALLS_PROTOCOL_ID)
    lane?.abort(new Error('test breaks the lane'))
    for (const call of calls) await expect(call).rejects.toMatchObject({ code: 'PeerUnreachable' })
    expect([...(await a.request(b.peerId, SLOW, Uint8Array.of(1)))]).toEqual([1])
    const lanes = streamsFor(a, b, CALLS_PROTOCOL_ID)
    expect(lanes).toHaveLength(1)
    expect(lanes[0]).not.toBe(lane)
  })

  it('calls a peer that serves no lanes over streams of their own', async () => {
    const [a, b] = await pair()
    b.handle(ECHO, echoHandler)
    await b.libp2p?.unhandle(CALLS_PROTOCOL_ID)
    expect(heard(await a.request(b.peerId, ECHO, say('one')))).toBe('echo:one')
    expect(heard(await a.request(b.peerId, ECHO, say('two')))).toBe('echo:two')
    expect(streamsFor(a, b, CALLS_PROTOCOL_ID)).toHaveLength(0)
  })

  it('answers refusals and handler failures on the lane as on a stream', async () => {
    const [a, b] = await pair()
    b.handle(SLOW, () => {
      throw new Error('boom\n  at secret stack')
    })
    await expectNetworkError(a.request(b.peerId, SLOW, Uint8Array.of(1)), 'HandlerFailed')
    await expectNetworkError(a.request(b.peerId, BIG, Uint8Array.of(1)), 'NoHandler')
    expect(streamsFor(a, b, CALLS_PROTOCOL_ID)).toHaveLength(1)
  })

  it('drops a lane that breaks the format, and goes on serving the peer', async () => {
    const [a, b] = await pair()
    b.handle(ECHO, echoHandler)
    const raw = a.libp2p
    if (raw === undefined) throw new Error('a is not running')
    // A lane request by hand first: it is answered like any other.
    const lane = await raw.dialProtocol(peerIdFromString(b.peerId), CALLS_PROTOCOL_ID)
    const replies = new FrameDecoder({ maxFrameBytes: 64 * 1024 })
    const got: LaneMessage[] = []
    let closed = false
    lane.addEventListener('message', (event) => {
      for (const item of replies.push(event.data.subarray()))
        if (item instanceof Uint8Array) got.push(decodeLaneMessage(item))
    })
    lane.addEventListener('close', () => {
      closed = true
    })
    const body = ECHO.request.encode(say('by hand'))
    lane.send(encodeFrame(encodeLaneMessage({ kind: 'request', call: 5, protocol: ECHO.id, body })))
    await waitFor(
      () => got.length === 1,
      5_000,
      () => 'the reply on the hand-made lane',
    )
    const [reply] = got
    expect(reply?.kind).toBe('reply')
    expect(reply?.call).toBe(5)
    const decoded = decodeReply(reply?.kind === 'reply' ? reply.body : new Uint8Array(0))
    expect(decoded.ok && heard(ECHO.response.decode(decoded.payload))).toBe('echo:by hand')
    // Then a message of an unknown kind: the serving node drops the lane.
    lane.send(encodeFrame(Uint8Array.of(9, 1)))
    await waitFor(
      () => closed,
      5_000,
      () => 'the broken lane to be closed',
    )
    expect(heard(await a.request(b.peerId, ECHO, say('after')))).toBe('echo:after')
  })

  it('sends the calls beyond a full lane on streams of their own, and all are answered', {
    timeout: 30_000,
  }, async () => {
    const [a, b] = await pair()
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    let started = 0
    b.handle(SLOW, async (request) => {
      started++
      await held
      return request
    })
    const total = LANE_MAX_CALLS_IN_FLIGHT + 20
    const calls = Array.from({ length: total }, (_v, i) =>
      a.request(b.peerId, SLOW, Uint8Array.of(i % 256, Math.floor(i / 256))),
    )
    await waitFor(
      () => started === total,
      20_000,
      () => `${started} of ${total} handlers started`,
    )
    // The lane holds its maximum; the rest went on streams of the protocol.
    expect(streamsFor(a, b, SLOW.id).length).toBe(20)
    release()
    const replies = await Promise.all(calls)
    replies.forEach((reply, i) => {
      expect([...reply]).toEqual([i % 256, Math.floor(i / 256)])
    })
  })

  it('drops a lane that carries more calls at once than allowed', { timeout: 30_000 }, async () => {
    const [a, b] = await pair()
    b.handle(
      SLOW,
      (_request, context) =>
        new Promise<Uint8Array>((resolve) => {
          context.signal.addEventListener('abort', () => resolve(new Uint8Array(0)), { once: true })
        }),
    )
    const raw = a.libp2p
    if (raw === undefined) throw new Error('a is not running')
    const lane = await raw.dialProtocol(peerIdFromString(b.peerId), CALLS_PROTOCOL_ID)
    let closed = false
    lane.addEventListener('close', () => {
      closed = true
    })
    const frames = Array.from({ length: LANE_MAX_CALLS_IN_FLIGHT + 1 }, (_v, call) =>
      encodeFrame(encodeLaneMessage({ kind: 'request', call, protocol: SLOW.id, body: Uint8Array.of(1) })),
    )
    lane.send(Buffer.concat(frames))
    await waitFor(
      () => closed,
      20_000,
      () => 'the overfull lane to be closed',
    )
    expect(streamsFor(a, b, CALLS_PROTOCOL_ID)).toHaveLength(0)
  })
})
