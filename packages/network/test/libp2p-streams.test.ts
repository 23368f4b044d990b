import { createHash } from 'node:crypto'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { afterEach, describe, expect, it } from 'vitest'
import {
  decodeReply,
  encodeFrame,
  encodeReply,
  encodeVarint,
  FrameDecoder,
  type Libp2pNetwork,
  type NetworkStream,
  type TransportName,
} from '../src/index.js'
import { ECHO, echoHandler, expectNetworkError } from '../src/testing/index.js'
import { createLibp2pCluster, type Libp2pCluster, waitFor } from '../src/testing/libp2p-cluster.js'

const UPLOAD = '/aruna/test-upload/1.0.0'
const SINK = '/aruna/test-sink/1.0.0'
const MIB = 1024 * 1024

let clusters: Libp2pCluster[] = []

afterEach(async () => {
  await Promise.all(clusters.map((cluster) => cluster.stop()))
  clusters = []
})

async function cluster(transport: TransportName, nodes = 2): Promise<Libp2pNetwork[]> {
  const created = await createLibp2pCluster({ nodes, transports: [transport] })
  clusters.push(created)
  return created.nodes
}

function pair(nodes: Libp2pNetwork[]): [Libp2pNetwork, Libp2pNetwork] {
  const [a, b] = nodes
  if (a === undefined || b === undefined) throw new Error('need two nodes')
  return [a, b]
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** Reads one length-prefixed frame off a raw libp2p stream, bounded by `timeoutMs`. */
async function readFrame(stream: Stream, timeoutMs = 3_000): Promise<Uint8Array> {
  const frames = new FrameDecoder({ maxFrameBytes: 64 * 1024 })
  return new Promise<Uint8Array>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no frame in time')), timeoutMs)
    stream.addEventListener('message', (event) => {
      const [frame] = frames.push(event.data.subarray())
      if (frame instanceof Uint8Array) {
        clearTimeout(timer)
        resolve(frame)
      }
    })
    stream.addEventListener('close', () => reject(new Error('stream closed without a frame')))
  })
}

describe('a byte stream to a hostile reader', () => {
  it('holds the writer back when the reader grants credit but its transport lets nothing through', {
    timeout: 15_000,
  }, async () => {
    const [a, b] = pair(await cluster('tcp'))
    const raw = b.libp2p
    if (raw === undefined) throw new Error('b is not running')
    let received = 0
    // Accepts, grants 64 MiB at once, then pauses: Yamux stops sending window updates.
    await raw.handle(SINK, (stream) => {
      stream.addEventListener('message', (event) => {
        received += event.data.byteLength
      })
      stream.send(encodeFrame(encodeReply({ ok: true, payload: new Uint8Array(0) })))
      stream.send(encodeFrame(Uint8Array.from([1, ...encodeVarint(64 * MIB)])))
      stream.pause()
    })
    const stream = await a.openStream(b.peerId, SINK)
    let accepted = 0
    const writer = (async () => {
      const chunk = new Uint8Array(256 * 1024)
      while (accepted < 32 * MIB) {
        await stream.write(chunk)
        accepted += chunk.byteLength
      }
    })()
    writer.catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(accepted).toBeLessThan(4 * MIB)
    expect(received).toBeLessThan(4 * MIB)
    stream.abort()
    await expectNetworkError(writer, 'StreamReset')
  })
})

describe.each(['tcp', 'quic'] satisfies TransportName[])('libp2p node over %s', (transport) => {
  it('carries a 64 MiB body byte-identical, verified by sha256 on the receiving side', {
    timeout: 60_000,
  }, async () => {
    const [a, b] = pair(await cluster(transport))
    b.handleStream(UPLOAD, async (stream) => {
      const hash = createHash('sha256')
      let bytes = 0
      for await (const chunk of stream) {
        hash.update(chunk)
        bytes += chunk.byteLength
      }
      await stream.write(new TextEncoder().encode(`${bytes} ${hash.digest('hex')}`))
      await stream.closeWrite()
    })
    const sent = createHash('sha256')
    const stream = await a.openStream(b.peerId, UPLOAD)
    const chunk = new Uint8Array(256 * 1024)
    for (let i = 0; i < 256; i++) {
      chunk.fill(i)
      chunk[0] = i ^ 0x5a
      sent.update(chunk)
      await stream.write(chunk)
    }
    await stream.closeWrite()
    expect(new TextDecoder().decode(await readAll(stream))).toBe(`${64 * MIB} ${sent.digest('hex')}`)
  })

  it('answers a request with a large binary body intact', async () => {
    const [a, b] = pair(await cluster(transport))
    b.handle(ECHO, echoHandler())
    const body = Uint8Array.from({ length: 60_000 }, (_, i) => (i * 7) & 0xff)
    const response = await a.request(b.peerId, ECHO, { kind: 'echo', text: 'big', body })
    expect(createHash('sha256').update(response.body).digest('hex')).toBe(
      createHash('sha256').update(body).digest('hex'),
    )
  })

  it('answers garbage and oversized frames on a raw stream with typed errors and keeps serving', async () => {
    const nodes = await cluster(transport, 3)
    const [a, b] = pair(nodes)
    const c = nodes[2] as Libp2pNetwork
    const handler = echoHandler()
    b.handle(ECHO, handler)
    const raw = a.libp2p
    if (raw === undefined) throw new Error('a is not running')
    const target = peerIdFromString(b.peerId)

    const garbage = await raw.dialProtocol(target, ECHO.id)
    garbage.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))
    const broken = decodeReply(await readFrame(garbage))
    expect(broken.ok ? 'ok' : broken.error.code).toBe('MalformedMessage')

    const oversized = await raw.dialProtocol(target, ECHO.id)
    oversized.send(Buffer.concat([encodeVarint(10 * MIB), new Uint8Array(1000)]))
    const tooLarge = decodeReply(await readFrame(oversized))
    expect(tooLarge.ok ? 'ok' : tooLarge.error.code).toBe('MessageTooLarge')

    const undecodable = await raw.dialProtocol(target, ECHO.id)
    undecodable.send(encodeFrame(Uint8Array.from([1, 2, 3])))
    const malformed = decodeReply(await readFrame(undecodable))
    expect(malformed.ok ? 'ok' : malformed.error.code).toBe('MalformedMessage')

    expect(handler.served).toBe(0)
    expect(
      (await c.request(b.peerId, ECHO, { kind: 'echo', text: 'still there', body: new Uint8Array(0) })).text,
    ).toBe('still there')
    expect(
      (await a.request(b.peerId, ECHO, { kind: 'echo', text: 'me too', body: new Uint8Array(0) })).text,
    ).toBe('me too')
  })

  it('resets a byte stream whose peer breaks the wire protocol, and keeps serving others', async () => {
    const nodes = await cluster(transport, 3)
    const [a, b] = pair(nodes)
    const c = nodes[2] as Libp2pNetwork
    const failures: string[] = []
    const completed: number[] = []
    b.handleStream(SINK, async (stream: NetworkStream) => {
      try {
        completed.push((await readAll(stream)).byteLength)
      } catch (err) {
        failures.push((err as { code?: string }).code ?? 'unknown')
      }
    })
    const raw = a.libp2p
    if (raw === undefined) throw new Error('a is not running')
    const violations = [
      encodeFrame(Uint8Array.from([9, 1, 2])), // an unknown frame type
      encodeFrame(Uint8Array.from([1, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])), // a huge window grant
      Buffer.concat([encodeVarint(2 * MIB), new Uint8Array(10)]), // a frame over the wire limit
      encodeFrame(new Uint8Array(1 + 70_000)), // data beyond the granted window (no grant yet read)
    ]
    for (const violation of violations) {
      const stream = await raw.dialProtocol(peerIdFromString(b.peerId), SINK)
      const accepted = decodeReply(await readFrame(stream))
      expect(accepted.ok).toBe(true)
      stream.send(violation)
    }
    await waitFor(
      () => failures.length === violations.length,
      5_000,
      () => `failures: ${failures.join(', ')}`,
    )
    expect(failures).toEqual(violations.map(() => 'StreamReset'))
    const stream = await c.openStream(b.peerId, SINK)
    await stream.write(Uint8Array.of(1, 2, 3))
    await stream.closeWrite()
    await waitFor(
      () => completed.length === 1,
      3_000,
      () => `good stream: ${failures.join(', ')}`,
    )
    expect(completed).toEqual([3])
  })

  it('refuses to open a stream the peer does not serve, and one to an unknown protocol peer', async () => {
    const [a, b] = pair(await cluster(transport))
    await expectNetworkError(a.openStream(b.peerId, SINK), 'NoHandler')
    await expectNetworkError(a.request('not-a-peer-id', ECHO, { kind: 'hang' }), 'InvalidArgument')
  })
})
