import { afterEach, describe, expect, it } from 'vitest'
import {
  createMemoryCluster,
  createMemoryNetwork,
  isNetworkError,
  type MemoryNetwork,
  type MemoryNetworkHub,
  type MemoryNetworkOptions,
} from '../src/index.js'
import {
  ECHO,
  echoHandler,
  expectNetworkError,
  expectNetworkErrorSync,
  nextEvent,
} from '../src/testing/index.js'

const echo = (text: string) => ({ kind: 'echo' as const, text, body: new Uint8Array(0) })
let hubs: MemoryNetworkHub[] = []

async function cluster(nodes: number, options: MemoryNetworkOptions = {}): Promise<MemoryNetwork[]> {
  const created = await createMemoryCluster({ nodes, livenessTimeoutMs: 200, pingIntervalMs: 40, ...options })
  hubs.push(created.hub)
  for (const node of created.nodes) node.handle(ECHO, echoHandler())
  return created.nodes
}

function hubOf(): MemoryNetworkHub {
  const hub = hubs.at(-1)
  if (hub === undefined) throw new Error('no hub')
  return hub
}

function pair(nodes: MemoryNetwork[]): [MemoryNetwork, MemoryNetwork] {
  const [a, b] = nodes
  if (!a || !b) throw new Error('need two nodes')
  return [a, b]
}

function four(nodes: MemoryNetwork[]): [MemoryNetwork, MemoryNetwork, MemoryNetwork, MemoryNetwork] {
  const [a, b, c, d] = nodes
  if (!a || !b || !c || !d) throw new Error('need four nodes')
  return [a, b, c, d]
}

afterEach(async () => {
  await Promise.all(hubs.map((hub) => hub.stopAll()))
  hubs = []
})

describe('drop', () => {
  it('loses every message in one direction only, until healed', async () => {
    const [a, b] = pair(await cluster(2, { livenessTimeoutMs: 5_000 }))
    const handlerOfA = echoHandler()
    a.unhandle(ECHO.id)
    a.handle(ECHO, handlerOfA)
    hubOf().drop(a.peerId, b.peerId)
    await expectNetworkError(a.request(b.peerId, ECHO, echo('lost'), { timeoutMs: 100 }), 'Timeout')
    // b's request reaches a, but a's reply travels the dropping direction.
    await expectNetworkError(b.request(a.peerId, ECHO, echo('one way'), { timeoutMs: 100 }), 'Timeout')
    expect(handlerOfA.served).toBe(1)
    hubOf().heal()
    expect((await a.request(b.peerId, ECHO, echo('healed'))).text).toBe('healed')
  })

  it('loses the share of messages the probability says, drawing from the given randomness', async () => {
    // One draw per message on the lossy link: a lost request, then the cancel its timeout sends.
    const draws = [0.1, 0.9, 0.9, 0.1, 0.9, 0.9]
    const [a, b] = pair(
      await cluster(2, {
        livenessTimeoutMs: 10_000,
        pingIntervalMs: 10_000,
        random: () => draws.shift() ?? 0,
      }),
    )
    hubOf().drop(a.peerId, b.peerId, 0.5)
    const outcomes: string[] = []
    for (let i = 0; i < 4; i++) {
      await a.request(b.peerId, ECHO, echo(`m${i}`), { timeoutMs: 80 }).then(
        () => outcomes.push('ok'),
        (err: unknown) => outcomes.push(isNetworkError(err, 'Timeout') ? 'lost' : String(err)),
      )
    }
    expect(outcomes).toEqual(['lost', 'ok', 'lost', 'ok'])
    expect(draws).toEqual([])
  })
})

describe('delay', () => {
  it('makes a request take at least the injected delay', async () => {
    const [a, b] = pair(await cluster(2, { livenessTimeoutMs: 5_000 }))
    hubOf().delay(a.peerId, b.peerId, 120)
    const started = performance.now()
    await a.request(b.peerId, ECHO, echo('slow'))
    expect(performance.now() - started).toBeGreaterThanOrEqual(115)
  })

  it('keeps stream chunks in order when the delay shrinks mid-stream', async () => {
    const [a, b] = pair(await cluster(2, { livenessTimeoutMs: 5_000 }))
    const received: number[] = []
    const done = new Promise<void>((resolve) =>
      b.handleStream('/aruna/order/1.0.0', async (stream) => {
        for await (const chunk of stream) received.push(...chunk)
        resolve()
      }),
    )
    const stream = await a.openStream(b.peerId, '/aruna/order/1.0.0')
    hubOf().delay(a.peerId, b.peerId, 80)
    for (let i = 0; i < 10; i++) await stream.write(Uint8Array.of(i))
    hubOf().delay(a.peerId, b.peerId, 0)
    for (let i = 10; i < 20; i++) await stream.write(Uint8Array.of(i))
    await stream.closeWrite()
    await done
    expect(received).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })
})

describe('partition', () => {
  it('cuts requests across groups, makes each side unreachable to the other, and heals', async () => {
    const [a, b, c, d] = four(await cluster(4))
    const gone = [nextEvent(a, 'peer:unreachable', c.peerId), nextEvent(c, 'peer:unreachable', a.peerId)]
    hubOf().partition([a.peerId, b.peerId], [c.peerId, d.peerId])
    await expectNetworkError(a.request(c.peerId, ECHO, echo('across'), { timeoutMs: 100 }), 'Timeout')
    expect((await a.request(b.peerId, ECHO, echo('same side'))).text).toBe('same side')
    await Promise.all(gone)
    await expect.poll(() => [...a.peers()].sort(), { timeout: 2_000 }).toEqual([b.peerId])
    const back = [nextEvent(a, 'peer:join', c.peerId), nextEvent(c, 'peer:join', a.peerId)]
    hubOf().heal()
    await Promise.all(back)
    expect((await a.request(c.peerId, ECHO, echo('together again'))).text).toBe('together again')
  })

  it('holds stream traffic while cut and delivers it, in order, after a short partition heals', async () => {
    const [a, b] = pair(await cluster(2, { livenessTimeoutMs: 5_000 }))
    const chunks: number[] = []
    b.handleStream('/aruna/held/1.0.0', async (stream) => {
      for await (const chunk of stream) chunks.push(...chunk)
    })
    const stream = await a.openStream(b.peerId, '/aruna/held/1.0.0')
    hubOf().partition([a.peerId], [b.peerId])
    await stream.write(Uint8Array.of(1, 2))
    await stream.write(Uint8Array.of(3))
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(chunks).toEqual([])
    hubOf().heal()
    await expect.poll(() => chunks, { timeout: 1_000 }).toEqual([1, 2, 3])
  })

  it('resets a stream once liveness gives up on the peer', async () => {
    const [a, b] = pair(await cluster(2))
    b.handleStream('/aruna/held/1.0.0', () => {})
    const stream = await a.openStream(b.peerId, '/aruna/held/1.0.0')
    const reading = (async () => {
      for await (const _ of stream) {
        // nothing arrives
      }
    })()
    hubOf().partition([a.peerId], [b.peerId])
    await expectNetworkError(reading, 'StreamReset')
  })

  it('rejects unknown peers in a partition with InvalidArgument', async () => {
    const [a] = (await cluster(1)) as [MemoryNetwork]
    expectNetworkErrorSync(() => hubOf().partition([a.peerId], ['nobody']), 'InvalidArgument')
  })
})

describe('kill and restart', () => {
  it('fails calls in flight at once, reports the peer unreachable within the liveness timeout, and rejoins on restart', async () => {
    const [a, b, c] = (await cluster(3)) as [MemoryNetwork, MemoryNetwork, MemoryNetwork]
    b.handleStream('/aruna/held/1.0.0', () => {})
    const stream = await a.openStream(b.peerId, '/aruna/held/1.0.0')
    const inFlight = a.request(b.peerId, ECHO, { kind: 'hang' }, { timeoutMs: 5_000 })
    const unreachable = [
      nextEvent(a, 'peer:unreachable', b.peerId, 1_000),
      nextEvent(c, 'peer:unreachable', b.peerId, 1_000),
    ]
    await new Promise((resolve) => setTimeout(resolve, 20))
    const killedAt = performance.now()
    hubOf().kill(b.peerId)
    hubOf().kill(b.peerId)
    await expectNetworkError(inFlight, 'PeerUnreachable')
    expect(performance.now() - killedAt).toBeLessThan(150)
    await expectNetworkError(stream.write(Uint8Array.of(1)), 'StreamReset')
    await expectNetworkError(
      a.request(b.peerId, ECHO, echo('anyone?'), { timeoutMs: 2_000 }),
      'PeerUnreachable',
    )
    await Promise.all(unreachable)
    expect(a.peers()).toEqual([c.peerId])
    const joined = nextEvent(a, 'peer:join', b.peerId)
    await hubOf().restart(b.peerId)
    await joined
    expect((await a.request(b.peerId, ECHO, echo('back'))).text).toBe('back')
  })

  it('keeps a killed node provider records, stale, but withdraws those of a stopped node', async () => {
    const [a, b, c] = (await cluster(3)) as [MemoryNetwork, MemoryNetwork, MemoryNetwork]
    await b.provide('cid-1')
    await c.provide('cid-1')
    hubOf().kill(b.peerId)
    await c.stop()
    expect(await a.findProviders('cid-1')).toEqual([b.peerId])
  })

  it('makes a node that never started unreachable, quickly', async () => {
    const hub = createMemoryNetwork({ livenessTimeoutMs: 200 })
    hubs.push(hub)
    const a = hub.createNode()
    const idle = hub.createNode({ peerId: 'idle' })
    await a.start()
    expect(a.peers()).toEqual([])
    await expectNetworkError(
      a.request(idle.peerId, ECHO, echo('hi'), { timeoutMs: 2_000 }),
      'PeerUnreachable',
    )
    await expectNetworkError(
      a.request('never-created', ECHO, echo('hi'), { timeoutMs: 2_000 }),
      'PeerUnreachable',
    )
  })
})

describe('hub', () => {
  it('checks its arguments', async () => {
    const hub = createMemoryNetwork()
    hubs.push(hub)
    const a = hub.createNode({ peerId: 'a' })
    hub.createNode({ peerId: 'b' })
    expect(hub.nodes.map((node) => node.peerId)).toEqual(['a', 'b'])
    expect(hub.node('a')).toBe(a)
    expectNetworkErrorSync(() => hub.createNode({ peerId: 'a' }), 'InvalidArgument')
    expectNetworkErrorSync(() => hub.createNode({ peerId: '' }), 'InvalidArgument')
    expectNetworkErrorSync(() => hub.node('c'), 'InvalidArgument')
    expectNetworkErrorSync(() => hub.drop('a', 'b', 1.5), 'InvalidArgument')
    expectNetworkErrorSync(() => hub.drop('a', 'a'), 'InvalidArgument')
    expectNetworkErrorSync(() => hub.drop('a', 'c'), 'InvalidArgument')
    expectNetworkErrorSync(() => hub.delay('a', 'b', -1), 'InvalidArgument')
    expectNetworkErrorSync(() => hub.delay('a', 'b', Number.POSITIVE_INFINITY), 'InvalidArgument')
    expectNetworkErrorSync(() => hub.kill('c'), 'InvalidArgument')
    expectNetworkErrorSync(() => a.setMembership('yes' as never), 'InvalidArgument')
    expectNetworkErrorSync(() => createMemoryNetwork({ livenessTimeoutMs: 0 }), 'InvalidArgument')
    await expectNetworkError(createMemoryCluster({ nodes: 0 }), 'InvalidArgument')
  })

  it('starts nodes with the membership predicate given at creation', async () => {
    const hub = createMemoryNetwork({ livenessTimeoutMs: 200 })
    hubs.push(hub)
    const a = hub.createNode({ isMember: (peer) => peer !== 'outsider' })
    const outsider = hub.createNode({ peerId: 'outsider' })
    const b = hub.createNode()
    a.handle(ECHO, echoHandler())
    await Promise.all([a.start(), outsider.start(), b.start()])
    expect(a.peers()).toEqual([b.peerId])
    await expectNetworkError(outsider.request(a.peerId, ECHO, echo('hi')), 'NotMember')
  })
})
