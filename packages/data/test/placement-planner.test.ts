import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  chosenHolders,
  isDataError,
  type PlacementAction,
  type PlacementMember,
  type PlacementNodeState,
  planPlacement,
  type ReplicationFactor,
  rankNodes,
  rendezvousScore,
} from '../src/index.js'

/** mulberry32: a small seeded PRNG, so every property run is reproducible from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Holdings = Map<string, Set<string>>
interface World {
  nodes: PlacementMember[]
  factors: Map<string, ReplicationFactor>
  holdings: Holdings
}

const FACTORS: ReplicationFactor[] = [1, 2, 3, 3, 5, 'all']
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!
}

function randomWorld(seed: number, keyCount = 150): World {
  const random = prng(seed)
  const nodeCount = 2 + Math.floor(random() * 9)
  const nodes: PlacementMember[] = []
  for (let i = 0; i < nodeCount; i++) {
    const r = random()
    const state: PlacementNodeState = r < 0.7 ? 'live' : r < 0.8 ? 'full' : r < 0.9 ? 'draining' : 'down'
    nodes.push({ id: `node-${seed}-${i}`, weight: 1 + Math.floor(random() * 4), state })
  }
  const factors = new Map<string, ReplicationFactor>()
  const holdings: Holdings = new Map()
  for (let k = 0; k < keyCount; k++) {
    const key = `key-${seed}-${k}`
    factors.set(key, pick(random, FACTORS))
    const holders = new Set<string>()
    const count = Math.floor(random() * 4)
    for (let h = 0; h < count; h++) holders.add(pick(random, nodes).id)
    if (random() < 0.05) holders.add('a-node-nobody-knows')
    holdings.set(key, holders)
  }
  return { nodes, factors, holdings }
}

function plan(world: World) {
  return planPlacement({
    nodes: world.nodes,
    items: [...world.holdings].map(([key, holders]) => ({
      key,
      factor: world.factors.get(key)!,
      holders,
    })),
  })
}

function targetsOf(world: World, key: string): string[] {
  return chosenHolders(world.nodes, {
    key,
    factor: world.factors.get(key)!,
    holders: world.holdings.get(key)!,
  })
}

/** Carries out a plan; a copy fails (nothing recorded) when `fails` says so. */
function apply(world: World, actions: readonly PlacementAction[], fails: () => boolean = () => false): void {
  for (const action of actions) {
    const holders = world.holdings.get(action.key)!
    if (action.kind === 'copy') {
      if (!fails()) holders.add(action.to)
    } else holders.delete(action.from)
  }
}

/** Plans and applies until nothing is left to do; returns the rounds it took. */
function converge(world: World): number {
  for (let round = 0; round < 10; round++) {
    const { actions } = plan(world)
    if (actions.length === 0) return round
    apply(world, actions)
  }
  throw new Error('did not converge in 10 rounds')
}

function clone(world: World): World {
  return {
    nodes: world.nodes.map((node) => ({ ...node })),
    factors: new Map(world.factors),
    holdings: new Map([...world.holdings].map(([key, holders]) => [key, new Set(holders)])),
  }
}

function reachableHolders(world: World, key: string): string[] {
  const alive = new Set(world.nodes.filter((n) => n.state !== 'down').map((n) => n.id))
  return [...world.holdings.get(key)!].filter((id) => alive.has(id))
}

function keysTouched(actions: readonly PlacementAction[]): Set<string> {
  return new Set(actions.map((action) => action.key))
}

describe('rendezvousScore', () => {
  it("scores from SHA-256 of node id, NUL and key, as metadata's placement does (UTF-8 ids and keys too)", () => {
    const reference = (key: string, nodeId: string, weight: number) => {
      const digest = createHash('sha256').update(nodeId).update('\0').update(key).digest()
      const unit = ((digest.readUInt32BE(0) >>> 12) * 2 ** 32 + digest.readUInt32BE(4) + 0.5) / 2 ** 52
      return -weight / Math.log(unit)
    }
    const random = prng(7)
    const text = (n: number) =>
      Array.from({ length: n }, () => String.fromCodePoint(32 + Math.floor(random() * 0x2ff))).join('')
    for (let i = 0; i < 500; i++) {
      const key = i % 3 === 0 ? `bafkrei${i}` : text(1 + (i % 40))
      const node = i % 2 === 0 ? `12D3KooW${i}` : text(1 + (i % 7))
      const weight = 1 + (i % 5)
      expect(rendezvousScore(key, node, weight)).toBe(reference(key, node, weight))
    }
  })
})

describe('rankNodes and chosenHolders on lists placement uses again', () => {
  it('ranks a node on its own first, and still refuses its bad weight', () => {
    expect(rankNodes('k', [{ id: 'only', weight: 3 }])).toEqual(['only'])
    for (const weight of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => rankNodes('k', [{ id: 'only', weight }])).toThrow(/weight/)
    }
  })

  it('checks a frozen member list once it is valid, and a bad one every time', () => {
    const live = (id: string): PlacementMember => Object.freeze({ id, weight: 1, state: 'live' })
    const members = Object.freeze([live('a'), live('b'), live('c')])
    const first = chosenHolders(members, { key: 'k', factor: 2, holders: [] })
    expect(chosenHolders(members, { key: 'k', factor: 2, holders: [] })).toEqual(first)
    expect(first).toEqual(rankNodes('k', members).slice(0, 2))
    const twice = Object.freeze([live('a'), live('a')])
    for (let i = 0; i < 2; i++) {
      expect(() => chosenHolders(twice, { key: 'k', factor: 1, holders: [] })).toThrow(/listed twice/)
    }
    // A list that is not frozen may change between calls: checked again.
    const open = [live('a'), live('b')]
    expect(chosenHolders(open, { key: 'k', factor: 1, holders: [] })).toHaveLength(1)
    open.push(live('a'))
    expect(() => chosenHolders(open, { key: 'k', factor: 1, holders: [] })).toThrow(/listed twice/)
  })
})

describe('planPlacement', () => {
  it('plans nothing for keys already on their chosen holders, and copies a key to the best nodes', () => {
    const nodes: PlacementMember[] = ['a', 'b', 'c', 'd'].map((id) => ({ id, weight: 1, state: 'live' }))
    const ranked = rankNodes('k', nodes)
    const settled = planPlacement({ nodes, items: [{ key: 'k', factor: 2, holders: ranked.slice(0, 2) }] })
    expect(settled).toEqual({ actions: [], unavailable: [] })
    const fresh = planPlacement({ nodes, items: [{ key: 'k', factor: 2, holders: [ranked[3]!] }] })
    expect(fresh.actions).toEqual([
      { kind: 'copy', key: 'k', from: ranked[3], to: ranked[0] },
      { kind: 'copy', key: 'k', from: ranked[3], to: ranked[1] },
    ])
  })

  it('drops an extra copy only in a plan after the chosen holders confirmed theirs', () => {
    const nodes: PlacementMember[] = ['a', 'b', 'c'].map((id) => ({ id, weight: 1, state: 'live' }))
    const [best, , worst] = rankNodes('k', nodes) as [string, string, string]
    const first = planPlacement({ nodes, items: [{ key: 'k', factor: 1, holders: [worst] }] })
    expect(first.actions).toEqual([{ kind: 'copy', key: 'k', from: worst, to: best }])
    const second = planPlacement({ nodes, items: [{ key: 'k', factor: 1, holders: [worst, best] }] })
    expect(second.actions).toEqual([{ kind: 'drop', key: 'k', from: worst }])
  })

  it('gives full and draining nodes nothing new; a full node keeps what it holds, a draining one hands it off', () => {
    const nodes: PlacementMember[] = [
      { id: 'a', weight: 1, state: 'full' },
      { id: 'b', weight: 1, state: 'draining' },
      { id: 'c', weight: 1, state: 'live' },
    ]
    const fullHolds = planPlacement({ nodes, items: [{ key: 'k', factor: 'all', holders: ['a'] }] })
    expect(fullHolds.actions).toEqual([{ kind: 'copy', key: 'k', from: 'a', to: 'c' }])
    const drainingHolds = planPlacement({ nodes, items: [{ key: 'k', factor: 3, holders: ['b', 'c'] }] })
    expect(drainingHolds.actions).toEqual([{ kind: 'drop', key: 'k', from: 'b' }])
  })

  it('keeps every copy when no node may hold the key, and reports keys with no reachable holder', () => {
    const nodes: PlacementMember[] = [
      { id: 'a', weight: 1, state: 'draining' },
      { id: 'b', weight: 1, state: 'down' },
      { id: 'c', weight: 1, state: 'live' },
    ]
    const onlyDraining = planPlacement({
      nodes: nodes.filter((n) => n.id !== 'c'),
      items: [{ key: 'k', factor: 1, holders: ['a'] }],
    })
    expect(onlyDraining).toEqual({ actions: [], unavailable: [] })
    const lost = planPlacement({ nodes, items: [{ key: 'k', factor: 1, holders: ['b', 'gone'] }] })
    expect(lost).toEqual({ actions: [], unavailable: ['k'] })
  })

  it('refuses duplicate node ids, unknown states, bad weights and bad factors', () => {
    const ok: PlacementMember = { id: 'a', weight: 1, state: 'live' }
    const refused = (f: () => unknown) => {
      try {
        f()
      } catch (err) {
        return isDataError(err) && err.code === 'InvalidArgument'
      }
      return false
    }
    expect(refused(() => planPlacement({ nodes: [ok, ok], items: [] }))).toBe(true)
    expect(
      refused(() => planPlacement({ nodes: [{ ...ok, state: 'asleep' as PlacementNodeState }], items: [] })),
    ).toBe(true)
    for (const weight of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(refused(() => planPlacement({ nodes: [{ ...ok, weight }], items: [] }))).toBe(true)
    for (const factor of [0, 1.5, 1001, 'some' as ReplicationFactor])
      expect(refused(() => planPlacement({ nodes: [ok], items: [{ key: 'k', factor, holders: [] }] }))).toBe(
        true,
      )
  })

  it('plans the same whatever the order of the nodes', () => {
    for (const seed of SEEDS) {
      const world = randomWorld(seed)
      const reversed = { ...world, nodes: [...world.nodes].reverse() }
      expect(plan(reversed)).toEqual(plan(world))
    }
  })
})

describe('placement properties (seeded)', () => {
  it('never copies to a holder, never plans an action twice, and converges in at most two rounds', () => {
    for (const seed of SEEDS) {
      const world = randomWorld(seed)
      const { actions } = plan(world)
      const seen = new Set<string>()
      for (const action of actions) {
        const id = `${action.kind} ${action.key} ${action.kind === 'copy' ? action.to : action.from}`
        expect(seen.has(id), id).toBe(false)
        seen.add(id)
        if (action.kind === 'copy') expect(world.holdings.get(action.key)!.has(action.to)).toBe(false)
      }
      expect(converge(world)).toBeLessThanOrEqual(2)
    }
  })

  it('ends every reachable key with min(factor, eligible nodes) distinct holders: its chosen ones', () => {
    for (const seed of SEEDS) {
      const world = randomWorld(seed)
      const unavailable = new Set(plan(world).unavailable)
      converge(world)
      const live = world.nodes.filter((n) => n.state === 'live').map((n) => n.id)
      const full = world.nodes.filter((n) => n.state === 'full').map((n) => n.id)
      for (const [key, holders] of world.holdings) {
        if (unavailable.has(key)) continue
        const factor = world.factors.get(key)!
        const eligible = live.length + full.filter((id) => holders.has(id)).length
        const kept = reachableHolders(world, key)
        expect(new Set(kept).size).toBe(kept.length)
        expect(kept.length, key).toBe(factor === 'all' ? eligible : Math.min(factor, eligible))
        expect(new Set(kept)).toEqual(new Set(targetsOf(world, key)))
      }
    }
  })

  it('drops a copy only when every chosen holder has confirmed, so failing copies never lose a key', () => {
    for (const seed of SEEDS) {
      const world = randomWorld(seed)
      const random = prng(seed * 7919)
      for (let round = 0; round < 12; round++) {
        const { actions } = plan(world)
        for (const action of actions) {
          if (action.kind !== 'drop') continue
          const holders = world.holdings.get(action.key)!
          expect(actions.some((a) => a.kind === 'copy' && a.key === action.key)).toBe(false)
          for (const target of targetsOf(world, action.key)) expect(holders.has(target)).toBe(true)
          expect(targetsOf(world, action.key)).not.toContain(action.from)
        }
        const before = new Map([...world.holdings.keys()].map((k) => [k, reachableHolders(world, k).length]))
        apply(world, actions, () => random() < 0.4)
        for (const [key, count] of before)
          if (count > 0) expect(reachableHolders(world, key).length, key).toBeGreaterThan(0)
      }
    }
  })

  // The exact stability property: from a settled state, changing one node N (joining, leaving, or
  // turning full or draining) plans actions only for keys that N holds or that have N among their new
  // chosen holders. Every other key keeps its holders untouched.
  it('moves nothing of a key that the changed node neither holds nor is chosen for', () => {
    for (const seed of SEEDS) {
      const settled = randomWorld(seed)
      converge(settled)
      const random = prng(seed * 104729)
      for (const change of ['join', 'leave', 'down', 'full', 'draining'] as const) {
        const world = clone(settled)
        let changed: string
        if (change === 'join') {
          changed = `joiner-${seed}`
          world.nodes.push({ id: changed, weight: 1 + Math.floor(random() * 4), state: 'live' })
        } else {
          const node = pick(random, world.nodes)
          changed = node.id
          if (change === 'leave') world.nodes = world.nodes.filter((n) => n.id !== changed)
          else world.nodes = world.nodes.map((n) => (n.id === changed ? { ...n, state: change } : n))
        }
        for (const action of plan(world).actions) {
          const holdsIt = settled.holdings.get(action.key)!.has(changed)
          const chosen = targetsOf(world, action.key).includes(changed)
          expect(holdsIt || chosen, `${change} ${changed}: ${JSON.stringify(action)}`).toBe(true)
        }
      }
    }
  })

  it('moves only the keys a joining node is chosen for: one copy to it, then one drop where it displaces a holder', () => {
    for (const seed of SEEDS) {
      const world = randomWorld(seed)
      converge(world)
      const joiner = `joiner-${seed}`
      const before = new Map([...world.holdings.keys()].map((key) => [key, targetsOf(world, key)]))
      world.nodes.push({ id: joiner, weight: 2, state: 'live' })
      const changed = [...before].filter(([key, old]) => {
        if (reachableHolders(world, key).length === 0) return false // nothing to copy from
        const now = targetsOf(world, key)
        return now.length !== old.length || now.some((id) => !old.includes(id))
      })
      const first = plan(world).actions
      expect(first.every((a) => a.kind === 'copy' && a.to === joiner)).toBe(true)
      expect(keysTouched(first)).toEqual(new Set(changed.map(([key]) => key)))
      expect(first.length).toBe(changed.length)
      apply(world, first)
      const second = plan(world).actions
      for (const [key, old] of changed) {
        const now = targetsOf(world, key)
        const displaced = old.filter((id) => !now.includes(id))
        expect(displaced.length).toBeLessThanOrEqual(1)
        expect(second.filter((a) => a.key === key)).toEqual(
          displaced.map((from) => ({ kind: 'drop', key, from })),
        )
      }
      expect(second.length).toBeLessThanOrEqual(changed.length)
      apply(world, second)
      expect(plan(world).actions).toEqual([])
    }
  })

  it('moves only the keys a leaving node held: one copy each to the next chosen node, no drops', () => {
    for (const seed of SEEDS) {
      const world = randomWorld(seed)
      converge(world)
      const leaver = world.nodes.find((n) => n.state === 'live')
      if (leaver === undefined) continue
      const before = new Map([...world.holdings.keys()].map((key) => [key, targetsOf(world, key)]))
      world.nodes = world.nodes.map((n) => (n.id === leaver.id ? { ...n, state: 'down' } : n))
      const expected = [...before].filter(([key, old]) => {
        if (reachableHolders(world, key).length === 0) return false // nothing to copy from
        const now = targetsOf(world, key)
        return old.includes(leaver.id) && now.some((id) => !old.includes(id))
      })
      const actions = plan(world).actions
      expect(actions.every((a) => a.kind === 'copy')).toBe(true)
      expect(keysTouched(actions)).toEqual(new Set(expected.map(([key]) => key)))
      expect(actions.length).toBe(expected.length)
      apply(world, actions)
      expect(plan(world).actions).toEqual([])
    }
  })

  it('gives each node a share of first holders proportional to its weight (within 10 %)', () => {
    const weights = [1, 1, 2, 3, 5, 8]
    const nodes: PlacementMember[] = weights.map((weight, i) => ({ id: `w${i}`, weight, state: 'live' }))
    const total = weights.reduce((a, b) => a + b, 0)
    const keys = 30_000
    const first = new Map<string, number>()
    const held = new Map<string, number>()
    for (let k = 0; k < keys; k++) {
      const ranked = rankNodes(`object-${k}`, nodes)
      first.set(ranked[0]!, (first.get(ranked[0]!) ?? 0) + 1)
      for (const id of ranked.slice(0, 2)) held.set(id, (held.get(id) ?? 0) + 1)
    }
    for (const [i, weight] of weights.entries()) {
      const share = (first.get(`w${i}`) ?? 0) / keys
      expect(Math.abs(share - weight / total) / (weight / total), `w${i}`).toBeLessThan(0.1)
    }
    // With two holders a key cannot sit twice on the heaviest node, so shares flatten but keep their order.
    const counts = weights.map((_, i) => held.get(`w${i}`) ?? 0)
    for (let i = 1; i < counts.length; i++)
      if (weights[i]! > weights[i - 1]!) expect(counts[i]!).toBeGreaterThan(counts[i - 1]!)
  })
})
