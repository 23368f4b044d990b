import { createHash, randomBytes } from 'node:crypto'
import type { PeerId as Libp2pPeerId } from '@libp2p/interface'
import type { KadDHT, KadDHTComponents } from '@libp2p/kad-dht'
import type { PeerId } from '../port.js'
import type { RealmSessions } from './sessions.js'
import type { ContentKey, Libp2pNode } from './types.js'

/** Peers reached at the same time during one discovery round. */
const DIAL_CONCURRENCY = 4

/**
 * One round of discovery: asks the DHT for the peers closest to this node and to a random key
 * (a random walk), and connects to the realm members it learns of that are not live yet, and to
 * live peers that stopped answering. Bounded by `signal`; failures are left to the next round.
 */
export async function discoverPeers(
  node: Libp2pNode,
  sessions: RealmSessions,
  signal: AbortSignal,
): Promise<void> {
  const self = node.peerId.toString()
  const found = new Set<PeerId>(sessions.lostPeers())
  if (routingTableSize(node.services.dht) > 0) {
    for (const key of [node.peerId.toMultihash().bytes, randomBytes(32)]) {
      if (signal.aborted) break
      try {
        for await (const event of node.services.dht.getClosestPeers(key, { signal })) {
          if (event.name === 'PEER_RESPONSE') for (const peer of event.closer) found.add(peer.id.toString())
          else if (event.name === 'FINAL_PEER') found.add(event.peer.id.toString())
        }
      } catch {
        // A query cut short by the deadline still told us something.
      }
    }
  }
  const candidates = [...found].filter(
    (peer) => peer !== self && !sessions.isLive(peer) && !sessions.recentlyRefused(peer),
  )
  await inParallel(candidates, DIAL_CONCURRENCY, (peer) => sessions.connect(peer, signal).catch(() => {}))
}

function routingTableSize(dht: KadDHT): number {
  return (dht as KadDHT & { routingTable?: { size: number } }).routingTable?.size ?? 0
}

async function inParallel<T>(
  items: T[],
  concurrency: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items]
  const workers = Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await run(item)
  })
  await Promise.all(workers)
}

/**
 * The DHT key of a content id: the sha256 of its UTF-8 bytes as a CIDv1 (raw codec), so any string
 * works and every node maps it the same way. `cidClass` is the `multiformats` CID class (this
 * package reaches it through a peer id rather than depending on `multiformats` itself).
 */
export function contentKey(
  contentId: string,
  cidClass: { decode(bytes: Uint8Array): ContentKey },
): ContentKey {
  const digest = createHash('sha256').update(contentId, 'utf8').digest()
  // CIDv1 = version 1, codec raw (0x55), multihash sha2-256 (0x12) of 32 bytes (0x20), digest.
  return cidClass.decode(Uint8Array.from([0x01, 0x55, 0x12, 0x20, ...digest]))
}

/** The CID class, taken from a peer id's CID. */
export function cidClassOf(peerId: Libp2pPeerId): { decode(bytes: Uint8Array): ContentKey } {
  return peerId.toCID().constructor as unknown as { decode(bytes: Uint8Array): ContentKey }
}

type Registrar = KadDHTComponents['registrar']

/**
 * The DHT's view of the registrar, gated by the realm handshake: its protocol serves a peer only
 * once the peer is admitted (a peer with a valid libp2p key but no realm proof gets its DHT
 * streams aborted), and its routing table hears only of admitted peers. So the realm's DHT is an
 * Aruna protocol like the others, not a side door.
 */
export function gateRegistrar(registrar: Registrar, sessions: RealmSessions): Registrar {
  const gated: Pick<Registrar, 'handle' | 'register'> = {
    handle(protocol, handler, options) {
      return registrar.handle(
        protocol,
        async (stream, connection) => {
          if (await sessions.admits(connection.remotePeer.toString())) return handler(stream, connection)
          stream.abort(new Error('not a realm member'))
        },
        options,
      )
    },
    register(protocol, topology) {
      return registrar.register(protocol, {
        ...topology,
        onConnect: (peer, connection) => {
          void sessions.admits(peer.toString()).then((admitted) => {
            if (admitted) return topology.onConnect?.(peer, connection)
          })
        },
      })
    },
  }
  return new Proxy(registrar, {
    get(target, property, receiver) {
      if (property === 'handle' || property === 'register') return gated[property]
      const value = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
