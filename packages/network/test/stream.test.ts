import { afterEach, describe, expect, it } from 'vitest'
import {
  createMemoryCluster,
  encodeVarint,
  type MemoryNetwork,
  type MemoryNetworkHub,
  MessageChannel,
  messageCodec,
  NetworkError,
  type NetworkStream,
  openMessageChannel,
} from '../src/index.js'
import { expectNetworkError } from '../src/testing/index.js'

const HELD = '/aruna/held/1.0.0'
let hub: MemoryNetworkHub | undefined

async function connected(
  window = 1024,
): Promise<{ a: MemoryNetwork; b: MemoryNetwork; inbound: Promise<NetworkStream> }> {
  const cluster = await createMemoryCluster({ nodes: 2, livenessTimeoutMs: 5_000, streamWindowBytes: window })
  hub = cluster.hub
  const [a, b] = cluster.nodes
  if (!a || !b) throw new Error('two nodes expected')
  const inbound = new Promise<NetworkStream>((resolve) => b.handleStream(HELD, resolve))
  return { a, b, inbound }
}

afterEach(async () => {
  await hub?.stopAll()
  hub = undefined
})

describe('MemoryStream', () => {
  it('lets the writer go on after the reader stops iterating early', async () => {
    const { a, b, inbound } = await connected()
    const stream = await a.openStream(b.peerId, HELD)
    await stream.write(new Uint8Array(1000))
    const remote = await inbound
    for await (const _ of remote) break
    for (let i = 0; i < 20; i++) await stream.write(new Uint8Array(1000))
    await stream.closeWrite()
    expect((await remote[Symbol.asyncIterator]().next()).done).toBe(true)
  })

  it('fails a write waiting for the window with Aborted when its signal fires', async () => {
    const { a, b } = await connected()
    const stream = await a.openStream(b.peerId, HELD)
    await stream.write(new Uint8Array(2000))
    const controller = new AbortController()
    const waiting = stream.write(new Uint8Array(10), { signal: controller.signal })
    controller.abort()
    await expectNetworkError(waiting, 'Aborted')
    await expectNetworkError(stream.write(Uint8Array.of(1), { signal: AbortSignal.abort() }), 'Aborted')
  })

  it('fails local reads and writes with the reason given to abort, and refuses non-byte chunks', async () => {
    const { a, b } = await connected()
    const stream = await a.openStream(b.peerId, HELD)
    await expectNetworkError(stream.write('text' as never), 'InvalidArgument')
    await stream.write(new Uint8Array(0))
    const reason = new NetworkError('Aborted', 'changed my mind')
    const reading = stream[Symbol.asyncIterator]().next()
    stream.abort(reason)
    stream.abort()
    await expect(reading).rejects.toBe(reason)
    await expect(stream.write(Uint8Array.of(1))).rejects.toBe(reason)
    await stream.closeWrite()
  })

  it('resets streams on both sides when a node stops', async () => {
    const { a, b, inbound } = await connected()
    const stream = await a.openStream(b.peerId, HELD)
    const remote = await inbound
    const remoteRead = remote[Symbol.asyncIterator]().next()
    await a.stop()
    await expectNetworkError(stream[Symbol.asyncIterator]().next(), 'StreamReset')
    await expectNetworkError(remoteRead, 'StreamReset')
  })

  it('aborts an open that does not get answered in time', async () => {
    const { a, b } = await connected()
    hub?.drop(b.peerId, a.peerId)
    await expectNetworkError(a.openStream(b.peerId, HELD, { timeoutMs: 50 }), 'Timeout')
  })
})

describe('MessageChannel', () => {
  const codec = messageCodec((value) => value as { n: number })

  it('opens over a stream and delivers messages until the sender closes', async () => {
    const { a, b, inbound } = await connected(1 << 20)
    const channel = await openMessageChannel(a, b.peerId, HELD, codec)
    expect([channel.peer, channel.protocol]).toEqual([b.peerId, HELD])
    const remote = new MessageChannel(await inbound, codec)
    expect(remote.peer).toBe(a.peerId)
    await channel.send({ n: 1 })
    await channel.send({ n: 2 })
    await channel.close()
    const received: unknown[] = []
    for await (const message of remote) received.push(message)
    expect(received).toEqual([{ n: 1 }, { n: 2 }])
    channel.abort()
    await expectNetworkError(channel.send({ n: 3 }), 'StreamReset')
  })

  it('aborts the stream and fails iteration on a broken length prefix', async () => {
    const { a, b, inbound } = await connected(1 << 20)
    const stream = await a.openStream(b.peerId, HELD)
    const remote = new MessageChannel(await inbound, codec)
    await stream.write(new Uint8Array(6).fill(0xff))
    const reading = (async () => {
      for await (const _ of remote) {
        // nothing valid arrives
      }
    })()
    await expectNetworkError(reading, 'MalformedMessage')
    await expectNetworkError(stream[Symbol.asyncIterator]().next(), 'StreamReset')
  })

  it('reports a stream that ends inside a message', async () => {
    const { a, b, inbound } = await connected(1 << 20)
    const stream = await a.openStream(b.peerId, HELD)
    const invalid: string[] = []
    const remote = new MessageChannel(await inbound, codec, {
      onInvalidMessage: (err) => invalid.push(err.code),
    })
    await stream.write(Buffer.concat([encodeVarint(10), Uint8Array.of(1, 2)]))
    await stream.closeWrite()
    for await (const _ of remote) throw new Error('no message expected')
    expect(invalid).toEqual(['MalformedMessage'])
    expect(() => new MessageChannel(stream, codec, { maxMessageBytes: 0 })).toThrow(NetworkError)
  })
})
