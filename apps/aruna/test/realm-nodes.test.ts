import { Writable } from 'node:stream'
import type { Network, NetworkEventListener, NetworkEventName } from '@aruna/network'
import { describe, expect, it } from 'vitest'
import { RealmNodes } from '../src/federation/realm-nodes.js'
import { createLogger } from '../src/logger.js'

const logger = createLogger({
  level: 'silent',
  format: 'json',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
})

/** A network of which only the peer list and its events are used: `connect` and `drop` change both. */
function fakeNetwork() {
  let peers: string[] = []
  const listeners = new Map<string, Set<(event: { peer: string }) => void>>()
  const emit = (event: string, peer: string) => {
    for (const listener of listeners.get(event) ?? []) listener({ peer })
  }
  const network = {
    peerId: 'self',
    peers: () => peers,
    on: <E extends NetworkEventName>(event: E, listener: NetworkEventListener<E>) => {
      const set = listeners.get(event) ?? new Set()
      set.add(listener as never)
      listeners.set(event, set)
      return () => set.delete(listener as never)
    },
  } as unknown as Network
  return {
    network,
    connect(peer: string) {
      peers = [...peers, peer]
      emit('peer:join', peer)
    },
    drop(peer: string) {
      peers = peers.filter((id) => id !== peer)
      emit('peer:leave', peer)
    },
  }
}

describe('RealmNodes members', () => {
  it('turns a node out of reach down exactly after the grace period, kept list or not', async () => {
    const clock = { now: 10_000 }
    const net = fakeNetwork()
    const nodes = new RealmNodes({
      network: net.network,
      listNodes: async () => ['self', 'b', 'c'],
      dataFactor: async () => 2,
      downAfterMs: 1000,
      logger,
      now: () => clock.now,
    })
    await nodes.start()
    net.connect('c')
    const stateOf = (id: string) => nodes.members().find((member) => member.id === id)?.state
    expect(stateOf('b')).toBe('live')
    // The same list while nothing changed, frozen so no caller can change it for the others.
    expect(nodes.members()).toBe(nodes.members())
    expect(Object.isFrozen(nodes.members())).toBe(true)
    /** Live until `lastLive` (the list kept that long), down from the millisecond after. */
    const downAfter = (id: string, lastLive: number) => {
      clock.now = lastLive
      expect(stateOf(id)).toBe('live')
      clock.now = lastLive + 1
      expect(stateOf(id)).toBe('down')
    }
    downAfter('b', 11_000)
    // A node that leaves is live until its grace period has passed since it left.
    net.drop('c')
    expect(stateOf('c')).toBe('live')
    downAfter('c', 12_001)
    // And live again as soon as it is back.
    net.connect('c')
    expect(stateOf('c')).toBe('live')
    // A node never listed that connects is a member at once.
    net.connect('d')
    expect(nodes.members().map((member) => member.id)).toEqual(['b', 'c', 'd', 'self'])
    nodes.stop()
  })
})
