import {
  generateAutomergeUrl,
  type Message,
  type NetworkAdapterEvents,
  parseAutomergeUrl,
  type PeerId as RepoPeerId,
} from '@automerge/automerge-repo/slim'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AUTOMERGE_PROTOCOL_ID,
  AutomergeNetworkAdapter,
  type AutomergeNetworkAdapterOptions,
  type AutomergeWireMessage,
  automergeWireCodec,
  createMemoryCluster,
  encodeFrame,
  encodeVarint,
  type MemoryNetwork,
  type MemoryNetworkHub,
  MessageChannel,
  messageCodec,
  type NetworkError,
  type NetworkStream,
} from '../src/index.js'
import { expectNetworkErrorSync, WAIT_MS } from '../src/testing/index.js'

const documentId = parseAutomergeUrl(generateAutomergeUrl()).documentId
const repoPeer = (id: string) => id as RepoPeerId

let hub: MemoryNetworkHub | undefined
let adapters: AutomergeNetworkAdapter[] = []

afterEach(async () => {
  for (const adapter of adapters) adapter.disconnect()
  adapters = []
  await hub?.stopAll()
  hub = undefined
})

async function cluster(count: number, livenessTimeoutMs = 2_000): Promise<MemoryNetwork[]> {
  const created = await createMemoryCluster({ nodes: count, livenessTimeoutMs })
  hub = created.hub
  return created.nodes
}

/** An adapter on `node` whose reported problems land in `errors`. */
function adapterOn(
  node: MemoryNetwork,
  options: AutomergeNetworkAdapterOptions = {},
): { adapter: AutomergeNetworkAdapter; errors: NetworkError[] } {
  const errors: NetworkError[] = []
  const adapter = new AutomergeNetworkAdapter(node, { onError: (err) => errors.push(err), ...options })
  adapters.push(adapter)
  return { adapter, errors }
}

type AdapterEvent = 'peer-candidate' | 'peer-disconnected' | 'message'

/** The next `event` of `adapter` that `accept` takes; fails after `timeoutMs`. */
function next<E extends AdapterEvent>(
  adapter: AutomergeNetworkAdapter,
  event: E,
  accept: (payload: Parameters<NetworkAdapterEvents[E]>[0]) => boolean = () => true,
  timeoutMs = WAIT_MS,
): Promise<Parameters<NetworkAdapterEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const listener = (payload: Parameters<NetworkAdapterEvents[E]>[0]): void => {
      if (!accept(payload)) return
      clearTimeout(timer)
      adapter.off(event, listener as never)
      resolve(payload)
    }
    const timer = setTimeout(() => {
      adapter.off(event, listener as never)
      reject(new Error(`no ${event} within ${timeoutMs} ms`))
    }, timeoutMs)
    adapter.on(event, listener as never)
  })
}

/** Everything `adapter` emits as `event`, from now on. */
function record<E extends AdapterEvent>(
  adapter: AutomergeNetworkAdapter,
  event: E,
): Array<Parameters<NetworkAdapterEvents[E]>[0]> {
  const seen: Array<Parameters<NetworkAdapterEvents[E]>[0]> = []
  adapter.on(event, ((payload: Parameters<NetworkAdapterEvents[E]>[0]) => seen.push(payload)) as never)
  return seen
}

async function waitFor(check: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function syncMessage(from: string, to: string, data = Uint8Array.of(1, 2, 3)): Message {
  return { type: 'sync', senderId: repoPeer(from), targetId: repoPeer(to), documentId, data }
}

/** Two started nodes with connected adapters that have greeted each other. */
async function greetedPair(options: AutomergeNetworkAdapterOptions = {}) {
  const [a, b] = await cluster(2)
  const left = adapterOn(a!, options)
  const right = adapterOn(b!, options)
  const candidates = Promise.all([
    next(left.adapter, 'peer-candidate'),
    next(right.adapter, 'peer-candidate'),
  ])
  left.adapter.connect(repoPeer('left'), { storageId: 'left-store' as never })
  right.adapter.connect(repoPeer('right'))
  await candidates
  return { a: a!, b: b!, left, right }
}

const serving = new WeakSet<MemoryNetwork>()

/**
 * A channel from a node that speaks the protocol by hand (a hostile or buggy peer). The node
 * accepts the adapter's channels to it and reads nothing from them.
 */
async function rawChannel(from: MemoryNetwork, to: MemoryNetwork): Promise<NetworkStream> {
  if (!serving.has(from)) {
    serving.add(from)
    from.handleStream(AUTOMERGE_PROTOCOL_ID, () => {})
  }
  return from.openStream(to.peerId, AUTOMERGE_PROTOCOL_ID)
}

function frame(message: AutomergeWireMessage | unknown): Uint8Array {
  return encodeFrame(messageCodec((value) => value).encode(message))
}

describe('AutomergeNetworkAdapter', () => {
  it('greets live peers both ways with their automerge peer id and metadata, then is ready', async () => {
    const [a, b] = await cluster(2)
    const left = adapterOn(a!).adapter
    const right = adapterOn(b!).adapter
    expect(left.isReady()).toBe(false)
    const rightSees = next(right, 'peer-candidate')
    const leftSees = next(left, 'peer-candidate')
    left.connect(repoPeer('left'), { storageId: 'left-store' as never, isEphemeral: false })
    right.connect(repoPeer('right'), { isEphemeral: true })
    expect(await rightSees).toEqual({
      peerId: 'left',
      peerMetadata: { storageId: 'left-store', isEphemeral: false },
    })
    expect(await leftSees).toEqual({ peerId: 'right', peerMetadata: { isEphemeral: true } })
    await Promise.all([left.whenReady(), right.whenReady()])
    expect(left.isReady() && right.isReady()).toBe(true)
    expect(left.connectedPeers).toEqual(['right'])
    expect(right.connectedPeers).toEqual(['left'])
  })

  it('names the network peer behind each greeted Repo peer, and forgets it when the session ends', async () => {
    const { a, b, left, right } = await greetedPair()
    expect(left.adapter.networkPeerOf(repoPeer('right'))).toBe(b.peerId)
    expect(right.adapter.networkPeerOf(repoPeer('left'))).toBe(a.peerId)
    expect(left.adapter.networkPeerOf(repoPeer('nobody'))).toBeUndefined()
    const gone = next(left.adapter, 'peer-disconnected')
    right.adapter.disconnect()
    await gone
    expect(left.adapter.networkPeerOf(repoPeer('right'))).toBeUndefined()
  })

  it('reaches peers that join later and is ready at once when no peer is live', async () => {
    const created = await createMemoryCluster({ nodes: 1 })
    hub = created.hub
    const first = adapterOn(created.nodes[0]!).adapter
    first.connect(repoPeer('first'))
    await first.whenReady()
    const late = hub.createNode()
    const lateAdapter = adapterOn(late).adapter
    lateAdapter.connect(repoPeer('late')) // before its node runs: it reaches out on peer:join
    const seen = next(first, 'peer-candidate')
    await late.start()
    expect((await seen).peerId).toBe('late')
    await lateAdapter.whenReady()
  })

  it('is ready once peers without an adapter refuse, and after readyTimeoutMs when a greeting never comes', async () => {
    const [a, b, c] = await cluster(3)
    c!.handleStream(AUTOMERGE_PROTOCOL_ID, () => {}) // accepts the channel, never greets
    const { adapter } = adapterOn(a!, { readyTimeoutMs: 150 })
    const started = performance.now()
    adapter.connect(repoPeer('a'))
    await adapter.whenReady()
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)

    const d = hub!.createNode()
    await d.start()
    const quick = adapterOn(b!, { readyTimeoutMs: WAIT_MS, shouldConnect: (peer) => peer !== c!.peerId })
    const begun = performance.now()
    quick.adapter.connect(repoPeer('b')) // a greets it; d runs no adapter (NoHandler, not an error)
    await quick.adapter.whenReady()
    expect(performance.now() - begun).toBeLessThan(WAIT_MS / 2)
    expect(quick.errors).toEqual([])
  })

  it('routes each message to the peer that greeted with its targetId, binary data intact', async () => {
    const nodes = await cluster(3)
    const [a, b, c] = nodes.map((node) => adapterOn(node).adapter)
    const greeted = Promise.all([
      waitFor(() => a!.connectedPeers.length === 2, 'a to see two peers'),
      waitFor(() => b!.connectedPeers.length === 2, 'b to see two peers'),
      waitFor(() => c!.connectedPeers.length === 2, 'c to see two peers'),
    ])
    a!.connect(repoPeer('a'))
    b!.connect(repoPeer('b'))
    c!.connect(repoPeer('c'))
    await greeted
    const atB = record(b!, 'message')
    const atC = next(c!, 'message')
    const data = Uint8Array.from({ length: 300 }, (_, i) => i % 256)
    a!.send(syncMessage('a', 'c', data))
    const received = await atC
    expect(received).toMatchObject({ type: 'sync', senderId: 'a', targetId: 'c', documentId })
    expect(received.data).toBeInstanceOf(Uint8Array)
    expect([...(received.data ?? [])]).toEqual([...data])
    await pause(20)
    expect(atB).toEqual([])
  })

  it('keeps the order of the messages sent to one peer', async () => {
    const { left, right } = await greetedPair()
    const got = record(right.adapter, 'message')
    for (let i = 0; i < 100; i++) left.adapter.send(syncMessage('left', 'right', Uint8Array.of(i)))
    await waitFor(() => got.length === 100, 'all 100 messages')
    expect(got.map((message) => message.data?.[0])).toEqual(Array.from({ length: 100 }, (_, i) => i))
  })

  it('drops and reports messages for another peer, from an impostor, or before a greeting', async () => {
    const [a, b] = await cluster(2)
    const { adapter, errors } = adapterOn(a!)
    adapter.connect(repoPeer('victim'))
    const got = record(adapter, 'message')
    const stream = await rawChannel(b!, a!)
    await stream.write(frame({ kind: 'message', message: syncMessage('mallory', 'victim') }))
    const candidate = next(adapter, 'peer-candidate')
    await stream.write(frame({ kind: 'arrive', peerId: 'mallory', peerMetadata: {} }))
    expect((await candidate).peerId).toBe('mallory')
    await stream.write(frame({ kind: 'message', message: syncMessage('mallory', 'someone-else') }))
    await stream.write(frame({ kind: 'message', message: syncMessage('alice', 'victim') }))
    const relayed = { ...syncMessage('alice', 'victim'), type: 'ephemeral', count: 1, sessionId: 's' }
    await stream.write(frame({ kind: 'message', message: relayed }))
    await stream.write(
      frame({ kind: 'message', message: syncMessage('mallory', 'victim', Uint8Array.of(9)) }),
    )
    await waitFor(() => got.length === 2, 'the two acceptable messages')
    expect(got.map((message) => [message.type, message.senderId])).toEqual([
      ['ephemeral', 'alice'],
      ['sync', 'mallory'],
    ])
    expect(errors.map((err) => err.code)).toEqual([
      'MalformedMessage',
      'MalformedMessage',
      'MalformedMessage',
    ])
    expect(errors.map((err) => err.message).join('\n')).toMatch(
      /before its greeting[\s\S]*for someone-else[\s\S]*as alice/,
    )
  })

  it('skips undecodable and oversized frames from a peer and keeps its channel', async () => {
    const [a, b] = await cluster(2)
    const { adapter, errors } = adapterOn(a!, { maxMessageBytes: 1024 })
    adapter.connect(repoPeer('target'))
    const got = record(adapter, 'message')
    const stream = await rawChannel(b!, a!)
    await stream.write(frame({ kind: 'arrive', peerId: 'sender', peerMetadata: {} }))
    await stream.write(encodeFrame(Uint8Array.of(1, 2, 3)))
    await stream.write(frame({ kind: 'message', message: { type: 'sync', senderId: 'sender' } }))
    await stream.write(Buffer.concat([encodeVarint(5000), new Uint8Array(5000)]))
    await stream.write(frame({ kind: 'message', message: syncMessage('sender', 'target') }))
    await waitFor(() => got.length === 1, 'the valid message after the bad ones')
    expect(errors.map((err) => err.code)).toEqual(['MalformedMessage', 'MalformedMessage', 'MessageTooLarge'])
    expect(adapter.connectedPeers).toEqual(['sender'])
  })

  it('ends the session on a broken length prefix, reports it, and reaches out again later', async () => {
    const [a, b] = await cluster(2)
    const { adapter, errors } = adapterOn(a!, { reconnectDelayMs: 50 })
    adapter.connect(repoPeer('target'))
    const opened: NetworkStream[] = []
    b!.handleStream(AUTOMERGE_PROTOCOL_ID, (stream) => {
      opened.push(stream)
    })
    const stream = await b!.openStream(a!.peerId, AUTOMERGE_PROTOCOL_ID)
    const candidate = next(adapter, 'peer-candidate')
    await stream.write(frame({ kind: 'arrive', peerId: 'broken', peerMetadata: {} }))
    await candidate
    await waitFor(() => opened.length === 1, 'the answering channel')
    const gone = next(adapter, 'peer-disconnected')
    await stream.write(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
    expect((await gone).peerId).toBe('broken')
    expect(errors.map((err) => err.code)).toContain('MalformedMessage')
    // The peer is still live on the network, so the adapter tries again with a fresh arrive.
    await waitFor(() => opened.length === 2, 'a new channel after the reconnect delay')
    const greeting = await new MessageChannel(opened[1]!, automergeWireCodec)[Symbol.asyncIterator]().next()
    expect(greeting.value).toMatchObject({ kind: 'arrive', peerId: 'target' })
  })

  it('reports a message it cannot send, and one for nobody, and keeps the channel', async () => {
    const { left, right } = await greetedPair({ maxMessageBytes: 1024 })
    const got = record(right.adapter, 'message')
    left.adapter.send(syncMessage('left', 'right', new Uint8Array(4096)))
    left.adapter.send(syncMessage('left', 'nobody'))
    left.adapter.send(syncMessage('left', 'right', Uint8Array.of(7)))
    await waitFor(() => got.length === 1, 'the message after the oversized one')
    expect(got[0]?.data).toEqual(Uint8Array.of(7))
    expect(left.errors.map((err) => err.code).sort()).toEqual(['MessageTooLarge', 'PeerUnreachable'])
  })

  it('survives a message listener that throws', async () => {
    const { left, right } = await greetedPair()
    const got = record(right.adapter, 'message')
    right.adapter.on('message', () => {
      throw new Error('listener broke')
    })
    left.adapter.send(syncMessage('left', 'right'))
    left.adapter.send(syncMessage('left', 'right'))
    await waitFor(() => got.length === 2, 'both messages')
    expect(right.errors.map((err) => err.message)).toEqual([
      'message failed: listener broke',
      'message failed: listener broke',
    ])
  })

  it('says leave on disconnect, sends nothing after, and greets again on reconnect', async () => {
    const { left, right } = await greetedPair()
    const leftSaw = next(left.adapter, 'peer-disconnected')
    const rightSaw = next(right.adapter, 'peer-disconnected')
    left.adapter.disconnect()
    left.adapter.disconnect()
    expect(await leftSaw).toEqual({ peerId: 'right' })
    expect(await rightSaw).toEqual({ peerId: 'left' })
    const got = record(right.adapter, 'message')
    left.adapter.send(syncMessage('left', 'right'))
    await pause(30)
    expect(got).toEqual([])
    expect(right.adapter.connectedPeers).toEqual([])

    const back = next(right.adapter, 'peer-candidate')
    const welcomed = next(left.adapter, 'peer-candidate')
    left.adapter.connect(repoPeer('left-again'))
    expect((await back).peerId).toBe('left-again')
    expect((await welcomed).peerId).toBe('right')
    left.adapter.send(syncMessage('left-again', 'right'))
    await waitFor(() => got.length === 1, 'a message after reconnecting')
    expect(left.errors).toEqual([])
    expect(right.errors).toEqual([])
  })

  it('greets with arrive, answers an arrive with welcome, and says leave before closing', async () => {
    const [a, b] = await cluster(2)
    const { adapter } = adapterOn(a!)
    const heard: string[] = []
    let ended = false
    b!.handleStream(AUTOMERGE_PROTOCOL_ID, async (stream) => {
      for await (const message of new MessageChannel(stream, automergeWireCodec)) heard.push(message.kind)
      ended = true
    })
    adapter.connect(repoPeer('adapter'))
    await waitFor(() => heard.length === 1, 'the arrive')
    const stream = await b!.openStream(a!.peerId, AUTOMERGE_PROTOCOL_ID)
    await stream.write(frame({ kind: 'arrive', peerId: 'raw', peerMetadata: {} }))
    await waitFor(() => heard.length === 2, 'the welcome')
    adapter.disconnect()
    await waitFor(() => ended, 'the channel to end')
    expect(heard).toEqual(['arrive', 'welcome', 'leave'])
  })

  it('ends a session when the peer closes its channel without a word, and rebinds a channel that changes Repo', async () => {
    const [a, b] = await cluster(2)
    const { adapter, errors } = adapterOn(a!)
    adapter.connect(repoPeer('me'))
    const stream = await rawChannel(b!, a!)
    await stream.write(frame({ kind: 'arrive', peerId: 'first', peerMetadata: {} }))
    await waitFor(() => adapter.connectedPeers.includes(repoPeer('first')), 'first to greet')
    const replaced = next(adapter, 'peer-disconnected')
    const greeted = next(adapter, 'peer-candidate')
    await stream.write(frame({ kind: 'welcome', peerId: 'second', peerMetadata: {} }))
    expect(await replaced).toEqual({ peerId: 'first' })
    expect((await greeted).peerId).toBe('second')
    const gone = next(adapter, 'peer-disconnected')
    await stream.closeWrite()
    expect(await gone).toEqual({ peerId: 'second' })
    expect(errors).toEqual([])
  })

  it('reports a channel it cannot open in time, and is ready anyway', async () => {
    const [a, b] = await cluster(2, 5_000)
    adapterOn(b!).adapter.connect(repoPeer('b'))
    hub!.partition([a!.peerId], [b!.peerId]) // b stays live for a until the liveness timeout
    const { adapter, errors } = adapterOn(a!, { openTimeoutMs: 100 })
    adapter.connect(repoPeer('a'))
    await adapter.whenReady()
    expect(errors.map((err) => err.code)).toEqual(['Timeout'])
    expect(adapter.connectedPeers).toEqual([])
  })

  it('ends a session on leave while the channel is still open', async () => {
    const [a, b] = await cluster(2)
    const { adapter } = adapterOn(a!)
    adapter.connect(repoPeer('me'))
    const stream = await rawChannel(b!, a!)
    await stream.write(frame({ kind: 'arrive', peerId: 'leaver', peerMetadata: {} }))
    await waitFor(() => adapter.connectedPeers.includes(repoPeer('leaver')), 'leaver to greet')
    const gone = next(adapter, 'peer-disconnected')
    await stream.write(frame({ kind: 'leave' }))
    expect(await gone).toEqual({ peerId: 'leaver' })
  })

  it('starts over with a peer that opens a new channel, answering on a new channel of its own', async () => {
    const [a, b] = await cluster(2)
    const { adapter } = adapterOn(a!)
    const greetings: string[][] = []
    b!.handleStream(AUTOMERGE_PROTOCOL_ID, async (stream) => {
      const heard: string[] = []
      greetings.push(heard)
      for await (const message of new MessageChannel(stream, automergeWireCodec)) heard.push(message.kind)
    })
    adapter.connect(repoPeer('me'))
    await waitFor(() => greetings.length === 1 && greetings[0]!.length === 1, 'the first arrive')
    const first = await b!.openStream(a!.peerId, AUTOMERGE_PROTOCOL_ID)
    await first.write(frame({ kind: 'arrive', peerId: 'same', peerMetadata: {} }))
    await waitFor(() => adapter.connectedPeers.includes(repoPeer('same')), 'the peer to greet')
    const gone = next(adapter, 'peer-disconnected')
    const back = next(adapter, 'peer-candidate')
    const second = await b!.openStream(a!.peerId, AUTOMERGE_PROTOCOL_ID)
    await second.write(frame({ kind: 'arrive', peerId: 'same', peerMetadata: {} }))
    expect(await gone).toEqual({ peerId: 'same' })
    expect((await back).peerId).toBe('same')
    await waitFor(() => greetings.length === 2 && greetings[1]!.length === 1, 'a greeting on a new channel')
    expect(greetings).toEqual([['arrive', 'welcome'], ['welcome']])
  })

  it('treats connect while connected as a reconnect under the new id', async () => {
    const { left, right } = await greetedPair()
    const gone = next(right.adapter, 'peer-disconnected')
    const back = next(right.adapter, 'peer-candidate')
    left.adapter.connect(repoPeer('renamed'))
    expect(await gone).toEqual({ peerId: 'left' })
    expect((await back).peerId).toBe('renamed')
  })

  it('reports peer-disconnected when a peer stops or crashes, and greets it again when it is back', async () => {
    const [a, b, c] = await cluster(3, 200)
    const [left, middle, right] = [a!, b!, c!].map((node) => adapterOn(node).adapter)
    left!.connect(repoPeer('left'))
    middle!.connect(repoPeer('middle'))
    right!.connect(repoPeer('right'))
    await waitFor(() => left!.connectedPeers.length === 2, 'left to see both peers')

    const stopped = next(left!, 'peer-disconnected', (p) => p.peerId === 'middle')
    await b!.stop()
    await stopped
    const crashed = next(left!, 'peer-disconnected', (p) => p.peerId === 'right')
    hub!.kill(c!.peerId)
    await crashed
    expect(left!.connectedPeers).toEqual([])

    const back = next(left!, 'peer-candidate', (p) => p.peerId === 'right')
    await hub!.restart(c!.peerId)
    await back
  })

  it('syncs only with the peers shouldConnect chooses, and applies a change on refreshPeers', async () => {
    const [a, b, c] = await cluster(3)
    let chosen = new Set([c!.peerId])
    const hubSide = adapterOn(a!, { shouldConnect: (peer) => chosen.has(peer) })
    const other = adapterOn(b!)
    const third = adapterOn(c!)
    const thirdSeen = next(third.adapter, 'peer-candidate', (p) => p.peerId === 'a')
    hubSide.adapter.connect(repoPeer('a'))
    other.adapter.connect(repoPeer('b')) // reaches out to a, which refuses
    third.adapter.connect(repoPeer('c'))
    await thirdSeen
    await waitFor(() => other.adapter.connectedPeers.includes(repoPeer('c')), 'b and c to greet')
    await pause(50)
    expect(hubSide.adapter.connectedPeers).toEqual(['c'])
    expect(other.adapter.connectedPeers).toEqual(['c'])

    chosen = new Set([b!.peerId])
    const bSeen = next(other.adapter, 'peer-candidate', (p) => p.peerId === 'a')
    const aSeen = next(hubSide.adapter, 'peer-candidate', (p) => p.peerId === 'b')
    const cLost = next(third.adapter, 'peer-disconnected', (p) => p.peerId === 'a')
    hubSide.adapter.refreshPeers()
    await Promise.all([bSeen, aSeen, cLost])
    expect(hubSide.adapter.connectedPeers).toEqual(['b'])
    expect([...hubSide.errors, ...other.errors, ...third.errors]).toEqual([])
  })

  it('counts a shouldConnect that throws as a refusal', async () => {
    const [a, b] = await cluster(2)
    const picky = adapterOn(a!, {
      shouldConnect: () => {
        throw new Error('no idea')
      },
    }).adapter
    const open = adapterOn(b!).adapter
    picky.connect(repoPeer('picky'))
    open.connect(repoPeer('open'))
    await Promise.all([picky.whenReady(), open.whenReady()])
    await pause(50)
    expect(picky.connectedPeers).toEqual([])
    expect(open.connectedPeers).toEqual([])
  })

  it('refuses a second peer greeting with an automerge peer id already taken, or with ours', async () => {
    const [a, b, c] = await cluster(3)
    const { adapter, errors } = adapterOn(a!)
    adapter.connect(repoPeer('me'))
    const first = await rawChannel(b!, a!)
    const seen = next(adapter, 'peer-candidate')
    await first.write(frame({ kind: 'arrive', peerId: 'twin', peerMetadata: {} }))
    await seen
    const second = await rawChannel(c!, a!)
    await second.write(frame({ kind: 'arrive', peerId: 'twin', peerMetadata: {} }))
    await waitFor(() => errors.length === 1, 'the refusal')
    expect(errors[0]?.message).toMatch(/twin.*already/)
    const third = await rawChannel(c!, a!)
    await third.write(frame({ kind: 'arrive', peerId: 'me', peerMetadata: {} }))
    await waitFor(() => errors.length === 2, 'the second refusal')
    expect(errors[1]?.message).toMatch(/me, which is ours/)
    expect(adapter.connectedPeers).toEqual(['twin'])
  })

  it('forgets a peer whose Repo starts over under a new id on a new channel', async () => {
    const [a, b] = await cluster(2)
    const { adapter } = adapterOn(a!)
    adapter.connect(repoPeer('me'))
    const first = await rawChannel(b!, a!)
    await first.write(frame({ kind: 'arrive', peerId: 'old', peerMetadata: {} }))
    await waitFor(() => adapter.connectedPeers.includes(repoPeer('old')), 'old to greet')
    const gone = next(adapter, 'peer-disconnected')
    const back = next(adapter, 'peer-candidate')
    const second = await rawChannel(b!, a!)
    await second.write(frame({ kind: 'arrive', peerId: 'new', peerMetadata: {} }))
    expect(await gone).toEqual({ peerId: 'old' })
    expect((await back).peerId).toBe('new')
    expect(adapter.connectedPeers).toEqual(['new'])
  })

  it('refuses a second adapter on the same protocol and invalid options', async () => {
    const [node] = await cluster(1)
    adapterOn(node!).adapter.connect(repoPeer('one'))
    expectNetworkErrorSync(() => adapterOn(node!).adapter.connect(repoPeer('two')), 'AlreadyHandled')
    expectNetworkErrorSync(() => new AutomergeNetworkAdapter(node!, { protocolId: '/x' }), 'InvalidArgument')
    for (const bad of [0, 1.5, Number.NaN]) {
      expectNetworkErrorSync(
        () => new AutomergeNetworkAdapter(node!, { maxMessageBytes: bad }),
        'InvalidArgument',
      )
    }
    for (const key of ['readyTimeoutMs', 'openTimeoutMs', 'reconnectDelayMs'] as const) {
      expectNetworkErrorSync(() => new AutomergeNetworkAdapter(node!, { [key]: -1 }), 'InvalidArgument')
    }
    const custom = new AutomergeNetworkAdapter(node!, { protocolId: '/aruna/crdt/2.0.0' })
    expect(custom.protocolId).toBe('/aruna/crdt/2.0.0')
  })

  it('keeps working when the onError reporter throws', async () => {
    const [a, b] = await cluster(2)
    const adapter = new AutomergeNetworkAdapter(a!, {
      onError: () => {
        throw new Error('reporter broke')
      },
    })
    adapters.push(adapter)
    adapter.connect(repoPeer('me'))
    const got = record(adapter, 'message')
    const stream = await rawChannel(b!, a!)
    await stream.write(frame({ kind: 'arrive', peerId: 'peer', peerMetadata: {} }))
    await stream.write(encodeFrame(Uint8Array.of(9, 9)))
    await stream.write(frame({ kind: 'message', message: syncMessage('peer', 'me') }))
    await waitFor(() => got.length === 1, 'the message after the bad frame')
  })
})
