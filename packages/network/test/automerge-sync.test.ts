import { isDeepStrictEqual } from 'node:util'
import { type DocHandle, Repo, type PeerId as RepoPeerId } from '@automerge/automerge-repo'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AutomergeNetworkAdapter,
  type AutomergeNetworkAdapterOptions,
  createMemoryCluster,
  type MemoryNetwork,
  type MemoryNetworkHub,
  type NetworkError,
} from '../src/index.js'
import { WAIT_MS } from '../src/testing/index.js'

interface Notebook {
  title: string
  items: string[]
  notes: Record<string, string>
}

interface Member {
  node: MemoryNetwork
  adapter: AutomergeNetworkAdapter
  repo: Repo
  errors: NetworkError[]
}

let hub: MemoryNetworkHub | undefined
let members: Member[] = []

afterEach(async () => {
  for (const member of members) await member.repo.shutdown()
  members = []
  await hub?.stopAll()
  hub = undefined
})

/**
 * `count` Repos named a, b, c…, each with an adapter on its own node of one memory network, once
 * every adapter has greeted the peers its options let it (all others by default).
 */
async function realm(
  count: number,
  livenessTimeoutMs = 2_000,
  optionsFor: (nodes: MemoryNetwork[]) => AutomergeNetworkAdapterOptions[] = () => [],
): Promise<Member[]> {
  const created = await createMemoryCluster({ nodes: count, livenessTimeoutMs })
  hub = created.hub
  const options = optionsFor(created.nodes)
  // How many peers each adapter greets: those its shouldConnect accepts (all, by default).
  const expected = created.nodes.map(
    (node, index) =>
      created.nodes.filter(
        (other) => other !== node && (options[index]?.shouldConnect?.(other.peerId) ?? true),
      ).length,
  )
  members = created.nodes.map((node, index) => {
    const errors: NetworkError[] = []
    const adapter = new AutomergeNetworkAdapter(node, {
      ...options[index],
      onError: (err) => errors.push(err),
    })
    const peerId = String.fromCharCode(97 + index) as RepoPeerId
    return { node, adapter, repo: new Repo({ network: [adapter], peerId }), errors }
  })
  await waitFor(
    () =>
      members.every((member) => member.adapter.connectedPeers.length === expected[members.indexOf(member)]),
    'every Repo to greet its peers',
  )
  return members
}

async function waitFor(check: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** True when every handle has the same heads and the same document. */
function converged(handles: Array<DocHandle<Notebook>>): boolean {
  const [first, ...rest] = handles
  return rest.every(
    (handle) =>
      isDeepStrictEqual([...handle.heads()].sort(), [...first!.heads()].sort()) &&
      isDeepStrictEqual(handle.doc(), first!.doc()),
  )
}

function create(member: Member): DocHandle<Notebook> {
  return member.repo.create<Notebook>({ title: 'shared', items: [], notes: {} })
}

describe('Repos syncing through AutomergeNetworkAdapter', () => {
  it('syncs a document between two Repos and merges concurrent changes', async () => {
    const [a, b] = await realm(2)
    const atA = create(a!)
    const atB = await b!.repo.find<Notebook>(atA.url)
    expect(atB.doc().title).toBe('shared')
    // Both change before either hears of the other's change.
    atA.change((doc) => {
      doc.items.push('from a')
      doc.notes.a = 'written at a'
      doc.title = 'title by a'
    })
    atB.change((doc) => {
      doc.items.push('from b')
      doc.notes.b = 'written at b'
      doc.title = 'title by b'
    })
    await waitFor(() => converged([atA, atB]), 'the two Repos to converge')
    const merged = atA.doc()
    expect(merged.notes).toEqual({ a: 'written at a', b: 'written at b' })
    expect([...merged.items].sort()).toEqual(['from a', 'from b'])
    expect(['title by a', 'title by b']).toContain(merged.title)
    expect([...a!.errors, ...b!.errors]).toEqual([])
  })

  it('brings three Repos to the same state after concurrent changes on two of them', async () => {
    const [a, b, c] = await realm(3)
    const atA = create(a!)
    const atB = await b!.repo.find<Notebook>(atA.url)
    const atC = await c!.repo.find<Notebook>(atA.url)
    for (let round = 0; round < 5; round++) {
      atA.change((doc) => {
        doc.items.push(`a${round}`)
      })
      atB.change((doc) => {
        doc.items.push(`b${round}`)
        doc.notes[`b${round}`] = 'x'
      })
    }
    await waitFor(() => converged([atA, atB, atC]), 'the three Repos to converge')
    expect(atC.doc().items).toHaveLength(10)
    expect(Object.keys(atC.doc().notes)).toHaveLength(5)
  })

  it('relays through a hub when shouldConnect keeps two Repos apart, ephemeral messages included', async () => {
    const [a, b, c] = await realm(3, 2_000, (nodes) => {
      const toHub = { shouldConnect: (peer: string) => peer === nodes[1]!.peerId }
      return [toHub, {}, toHub]
    })
    expect(a!.adapter.connectedPeers).toEqual(['b'])
    expect(c!.adapter.connectedPeers).toEqual(['b'])
    const atA = create(a!)
    // a announces the new document to b, and b to c: no one has to ask.
    await waitFor(() => c!.repo.handles[atA.documentId]?.isReady() === true, 'the document to reach c')
    const atB = await b!.repo.find<Notebook>(atA.url)
    const atC = await c!.repo.find<Notebook>(atA.url)
    atA.change((doc) => {
      doc.notes.a = 'spoke a'
    })
    atC.change((doc) => {
      doc.notes.c = 'spoke c'
    })
    await waitFor(() => converged([atA, atB, atC]), 'the spokes to converge through the hub')
    expect(atA.doc().notes).toEqual({ a: 'spoke a', c: 'spoke c' })

    // b passes a's ephemeral message on with a as its sender, which c accepts from b.
    const heard = new Promise<{ senderId: string; message: unknown }>((resolve) =>
      atC.on('ephemeral-message', resolve),
    )
    atA.broadcast({ cursor: 3 })
    const message = await Promise.race([
      heard,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no ephemeral message')), WAIT_MS)),
    ])
    expect(message).toMatchObject({ senderId: 'a', message: { cursor: 3 } })
    expect(members.flatMap((member) => member.errors)).toEqual([])
  })

  it('keeps editing on both sides of a partition and converges after it heals', async () => {
    const [a, b, c] = await realm(3, 200)
    const atA = create(a!)
    const atB = await b!.repo.find<Notebook>(atA.url)
    const atC = await c!.repo.find<Notebook>(atA.url)
    await waitFor(() => converged([atA, atB, atC]), 'the document to reach everyone')

    hub!.partition([a!.node.peerId], [b!.node.peerId, c!.node.peerId])
    // Past the liveness timeout, both sides report the others gone.
    await waitFor(() => a!.adapter.connectedPeers.length === 0, 'a to lose its peers')
    await waitFor(() => b!.adapter.connectedPeers.length === 1, 'b to lose a')
    atA.change((doc) => {
      doc.notes.a = 'while cut off'
    })
    atB.change((doc) => {
      doc.notes.b = 'on the other side'
    })
    await waitFor(() => atC.doc().notes.b !== undefined, 'c to get b’s change across its side')
    expect(atA.doc().notes.b).toBeUndefined()
    expect(atC.doc().notes.a).toBeUndefined()

    hub!.heal()
    await waitFor(() => converged([atA, atB, atC]), 'the three Repos to converge after healing')
    expect(atA.doc().notes).toEqual({ a: 'while cut off', b: 'on the other side' })
    await waitFor(
      () => members.every((member) => member.adapter.connectedPeers.length === 2),
      'everyone to greet everyone again',
    )
  })

  it('rides out a partition shorter than the liveness timeout without dropping the peers', async () => {
    const [a, b] = await realm(2, 2_000)
    const disconnected: string[] = []
    for (const member of [a!, b!]) {
      member.adapter.on('peer-disconnected', ({ peerId }) => disconnected.push(peerId))
    }
    const atA = create(a!)
    const atB = await b!.repo.find<Notebook>(atA.url)
    hub!.partition([a!.node.peerId], [b!.node.peerId])
    atA.change((doc) => {
      doc.notes.a = 'held'
    })
    atB.change((doc) => {
      doc.notes.b = 'held too'
    })
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(atB.doc().notes.a).toBeUndefined()
    hub!.heal() // the held stream traffic flows again
    await waitFor(() => converged([atA, atB]), 'convergence after the short partition')
    expect(atB.doc().notes).toEqual({ a: 'held', b: 'held too' })
    expect(disconnected).toEqual([])
  })

  it('reports a peer that leaves with peer-disconnected, and the others keep syncing', async () => {
    const [a, b, c] = await realm(3)
    const gone = [a!, b!].map(
      (member) =>
        new Promise<string>((resolve) =>
          member.repo.networkSubsystem.on('peer-disconnected', ({ peerId }) => resolve(peerId)),
        ),
    )
    await c!.node.stop()
    expect(await Promise.all(gone)).toEqual(['c', 'c'])
    expect(a!.adapter.connectedPeers).toEqual(['b'])

    const atA = create(a!)
    const atB = await b!.repo.find<Notebook>(atA.url)
    atA.change((doc) => {
      doc.title = 'after c left'
    })
    await waitFor(() => atB.doc().title === 'after c left', 'b to get the change')
  })

  it('tells the other Repos when one shuts down', async () => {
    const [a, b] = await realm(2)
    const gone = new Promise<string>((resolve) =>
      b!.repo.networkSubsystem.on('peer-disconnected', ({ peerId }) => resolve(peerId)),
    )
    await a!.repo.shutdown()
    expect(await gone).toBe('a')
  })
})
