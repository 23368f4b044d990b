/**
 * The realm's chunk store on the in-memory network (with its faults): placement on exactly the
 * factor's holders, the write quorum, stand-ins for holders out of reach, failover past a node that
 * sends bad bytes, and the grace period before a node counts as down.
 */
import {
  type ChunkRef,
  chunkCidOf,
  isDataError,
  MemoryBlobStore,
  type PutOptions,
  replicationProtocols,
} from '@aruna/data'
import { createMemoryNetwork, defineProtocol, type MemoryNetworkHub, messageCodec } from '@aruna/network'
import { afterEach, describe, expect, it } from 'vitest'
import { RealmBlobStore } from '../src/federation/realm-blob-store.js'
import { RealmNodes } from '../src/federation/realm-nodes.js'
import { createLogger } from '../src/logger.js'
import { waitFor } from './wait-for.js'

const logger = createLogger({ level: 'silent', format: 'json' })
const protocols = replicationProtocols({ defineProtocol, messageCodec })

interface Member {
  readonly id: string
  readonly local: MemoryBlobStore
  readonly nodes: RealmNodes
  readonly store: RealmBlobStore
}

async function realm(
  hub: MemoryNetworkHub,
  size: number,
  options: { downAfterMs?: number; now?: () => number } = {},
): Promise<Member[]> {
  const networks = Array.from({ length: size }, (_, i) => hub.createNode({ peerId: `node-${i}` }))
  const ids = networks.map((network) => network.peerId)
  const members: Member[] = []
  for (const network of networks) {
    const local = new MemoryBlobStore()
    const nodes = new RealmNodes({
      network,
      listNodes: async () => ids,
      dataFactor: async () => 3,
      downAfterMs: options.downAfterMs ?? 60_000,
      logger,
      ...(options.now === undefined ? {} : { now: options.now }),
    })
    const store = new RealmBlobStore({
      local,
      network,
      protocols,
      nodes,
      writeQuorum: 'majority',
      logger,
    })
    store.serve()
    members.push({ id: network.peerId, local, nodes, store })
  }
  await Promise.all(networks.map((network) => network.start()))
  await waitFor('every node sees every other', () =>
    networks.every((network) => network.peers().length === size - 1),
  )
  for (const member of members) await member.nodes.start()
  return members
}

async function holding(members: readonly Member[], cid: string): Promise<string[]> {
  const ids: string[] = []
  for (const member of members) if (await member.local.has(cid)) ids.push(member.id)
  return ids.sort()
}

describe('RealmBlobStore', () => {
  let hub: MemoryNetworkHub | undefined
  let members: Member[] = []

  afterEach(async () => {
    for (const member of members) member.nodes.stop()
    await hub?.stopAll()
    hub = undefined
    members = []
  })

  it('stores a chunk on exactly its three holders, whichever node it enters through', async () => {
    hub = createMemoryNetwork({ livenessTimeoutMs: 500, pingIntervalMs: 100 })
    members = await realm(hub, 5)
    for (let i = 0; i < 10; i++) {
      const entry = members[i % 5] as Member
      const bytes = new TextEncoder().encode(`chunk number ${i}`)
      const ref = await entry.store.put(bytes)
      expect(ref).toEqual({ cid: chunkCidOf(bytes), size: bytes.length })
      await entry.store.drain(5000)
      const holders = entry.store.holders(ref.cid)
      expect(holders).toHaveLength(3)
      expect(await holding(members, ref.cid)).toEqual([...holders].sort())
      // Every node agrees on the holders and reads the bytes.
      for (const member of members) {
        expect(member.store.holders(ref.cid)).toEqual(holders)
        expect(new TextDecoder().decode(await member.store.get(ref.cid))).toBe(`chunk number ${i}`)
        expect(await member.store.has(ref.cid)).toBe(true)
      }
    }
  })

  it('stores a chunk named by its writer (putHashed) on its holders too, and refuses a wrong size', async () => {
    hub = createMemoryNetwork({ livenessTimeoutMs: 500, pingIntervalMs: 100 })
    members = await realm(hub, 4)
    const entry = members[0] as Member
    const bytes = new TextEncoder().encode('a chunk the ingest has just named')
    const cid = chunkCidOf(bytes)
    expect(await entry.store.putHashed({ cid, size: bytes.length }, bytes)).toEqual({
      cid,
      size: bytes.length,
    })
    await entry.store.drain(5000)
    const holders = entry.store.holders(cid)
    expect(holders).toHaveLength(3)
    expect(await holding(members, cid)).toEqual([...holders].sort())
    await expect(entry.store.putHashed({ cid, size: bytes.length + 1 }, bytes)).rejects.toMatchObject({
      code: 'InvalidArgument',
    })
    await expect(
      entry.store.putHashed({ cid: 'not-a-cid', size: bytes.length }, bytes),
    ).rejects.toMatchObject({
      code: 'InvalidCid',
    })
  })

  it('gives bytes back to a putHashed caller only once every copy settled and the local store gave them back', async () => {
    hub = createMemoryNetwork({ livenessTimeoutMs: 5000, pingIntervalMs: 100 })
    members = await realm(hub, 3)
    const [entry, , slow] = members as [Member, Member, Member]
    let released = 0
    const release = () => {
      released++
    }
    // A local store that keeps the bytes (the memory store) never gives them back: neither does the realm.
    const kept = new TextEncoder().encode('a chunk the local store keeps as it is')
    await entry.store.putHashed({ cid: chunkCidOf(kept), size: kept.length }, kept, { release })
    await entry.store.drain(5000)
    await new Promise((resolve) => setImmediate(resolve))
    expect(released).toBe(0)

    // A local store that copies what it keeps and says when it is done.
    let localReleases = 0
    Object.assign(entry.local, {
      putHashed: async (ref: ChunkRef, bytes: Uint8Array, options?: PutOptions) => {
        const stored = await entry.local.putVerified(ref.cid, bytes.slice())
        localReleases++
        options?.release?.()
        return stored
      },
    })
    // The third holder is slow: the write is acknowledged by two (the quorum) before its copy arrives.
    hub.delay(entry.id, slow.id, 300)
    const bytes = new TextEncoder().encode('a chunk written while one holder is slow')
    const copy = bytes.slice()
    const cid = chunkCidOf(bytes)
    await entry.store.putHashed({ cid, size: bytes.length }, bytes, { release })
    expect(localReleases).toBe(1)
    expect(released).toBe(0) // the copy to the slow holder is still reading them
    await waitFor('the bytes given back', () => released === 1)
    expect(await slow.local.has(cid)).toBe(true)
    bytes.fill(0)
    for (const member of members)
      expect(Buffer.from(await member.local.get(cid)).equals(Buffer.from(copy))).toBe(true)
  })

  it('waits out a moment without the other nodes in reach before failing a read', async () => {
    hub = createMemoryNetwork({ livenessTimeoutMs: 5000, pingIntervalMs: 100 })
    members = await realm(hub, 3)
    const [entry, , reader] = members as [Member, Member, Member]
    const ref = await entry.store.put(new TextEncoder().encode('read through a short partition'))
    await entry.store.drain(5000)
    // The reader lost its copy and the others are gone for a moment (their calls fail at once), as
    // right after the reader starts; one comes back while the read waits.
    await reader.local.delete(ref.cid)
    hub.kill(members[0]?.id as string)
    hub.kill(members[1]?.id as string)
    const read = reader.store.get(ref.cid)
    setTimeout(() => void hub?.restart(members[1]?.id as string), 100)
    expect(new TextDecoder().decode(await read)).toBe('read through a short partition')
    // A chunk no node has still fails, after the waits.
    const missing = chunkCidOf(new TextEncoder().encode('nowhere'))
    await expect(reader.store.get(missing)).rejects.toMatchObject({ code: 'ServiceUnavailable' })
  })

  it('refuses a write with ServiceUnavailable when fewer nodes than the quorum are in reach', async () => {
    hub = createMemoryNetwork({ livenessTimeoutMs: 300, pingIntervalMs: 100 })
    members = await realm(hub, 3)
    const [entry] = members as [Member, Member, Member]
    hub.kill('node-1')
    hub.kill('node-2')
    await waitFor('node 0 sees the others gone', () => entry.nodes.connected().length === 0)
    // Within the grace period both still count as holders: one of the two copies a write needs is possible.
    const failed = await entry.store.put(new TextEncoder().encode('lonely')).catch((err: unknown) => err)
    expect(isDataError(failed, 'ServiceUnavailable')).toBe(true)
    expect(String((failed as Error).message)).toMatch(
      /only 1 of the 2 nodes a write of chunk \S+ needs are in reach/,
    )
  })

  it('writes to stand-ins for holders out of reach, and reads past a node that sends bad bytes', async () => {
    hub = createMemoryNetwork({ livenessTimeoutMs: 300, pingIntervalMs: 100 })
    members = await realm(hub, 5)
    const bytes = new TextEncoder().encode('partitioned write')
    const cid = chunkCidOf(bytes)
    const entry = members.find((member) => !member.store.holders(cid).includes(member.id)) as Member
    const [first, second] = entry.store.holders(cid)
    const others = members.map((member) => member.id).filter((id) => id !== first && id !== second)
    hub.partition([first as string, second as string], others)
    await waitFor('the entry node lost two holders', () => entry.nodes.connected().length === 2)
    await entry.store.put(bytes)
    await entry.store.drain(5000)
    // Three copies, none on the two holders out of reach: the third holder and stand-ins have them.
    const copies = await holding(members, cid)
    expect(copies).toHaveLength(3)
    expect(copies).not.toContain(first)
    expect(copies).not.toContain(second)

    // A node that answers fetches with the wrong bytes is passed over, and its bytes never served.
    hub.heal()
    await waitFor('the realm is whole again', () =>
      members.every((member) => member.nodes.connected().length === 4),
    )
    const reader = members.find((member) => !copies.includes(member.id)) as Member
    for (const id of copies) {
      const liar = hub.node(id)
      liar.unhandle(protocols.fetchChunk.id)
      liar.handle(protocols.fetchChunk, (request) => ({
        kind: 'chunk' as const,
        cid: request.cid,
        bytes: new TextEncoder().encode('not what you asked for'),
      }))
    }
    // All copies lie now: the read fails without ever returning their bytes.
    const refused = await reader.store.get(cid).catch((err: unknown) => err)
    expect(isDataError(refused, 'ServiceUnavailable')).toBe(true)
    expect(String((refused as Error).message)).toContain('do not match')
    // One honest copy is enough.
    const honest = members.find((member) => member.id === copies[0]) as Member
    hub.node(honest.id).unhandle(protocols.fetchChunk.id)
    hub.node(honest.id).handle(protocols.fetchChunk, async (request) => ({
      kind: 'chunk' as const,
      cid: request.cid,
      bytes: await honest.local.get(request.cid),
    }))
    expect(new TextDecoder().decode(await reader.store.get(cid))).toBe('partitioned write')
  })

  it('counts a node out of reach as down only after the grace period', async () => {
    hub = createMemoryNetwork({ livenessTimeoutMs: 300, pingIntervalMs: 100 })
    let now = Date.now()
    members = await realm(hub, 3, { downAfterMs: 10_000, now: () => now })
    const [observer] = members as [Member]
    const changes: string[] = []
    observer.nodes.onChange(() => changes.push('changed'))
    hub.kill('node-2')
    await waitFor('node 0 sees node 2 gone', () => observer.nodes.connected().length === 1)
    expect(observer.nodes.members().find((member) => member.id === 'node-2')?.state).toBe('live')
    now += 10_001
    expect(observer.nodes.members().find((member) => member.id === 'node-2')?.state).toBe('down')
    await observer.nodes.refresh()
    expect(changes.length).toBeGreaterThan(0)
  })
})
