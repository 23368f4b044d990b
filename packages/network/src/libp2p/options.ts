import type { PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { NetworkError } from '../errors.js'
import type { MembershipPredicate } from '../port.js'
import { assertRealmId, type RealmCredentials } from './credentials.js'

/** The transports a node can listen and dial on. */
export type TransportName = 'tcp' | 'quic'

/** One line of the node's log: refused peers, failed handshakes, lost peers. */
export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn'
  /** A stable name, e.g. `handshake-refused`, `peer-banned`, `no-handshake`. */
  readonly event: string
  readonly message: string
  readonly peer?: string
}

export type NetworkLogger = (entry: LogEntry) => void

export interface Libp2pNetworkInit {
  /** The realm's credentials: its id, this node's proof, and how to check the peers'. */
  credentials: RealmCredentials
  /** This node's key (see `loadOrCreatePeerKey`). Default: a fresh Ed25519 key, so a new identity. */
  privateKey?: PrivateKey
  /** Default: both. */
  transports?: TransportName[]
  /**
   * Multiaddrs to listen on. Default: loopback, port 0, for each transport
   * (`/ip4/127.0.0.1/tcp/0`, `/ip4/127.0.0.1/udp/0/quic-v1`). Ports chosen by the system are kept
   * across stop/start, so peers that knew the node find it again.
   */
  listen?: string[]
  /** Peers to dial at start: multiaddrs ending in `/p2p/<peer id>`. */
  bootstrap?: string[]
  /** The initial membership predicate (see `Network.setMembership`). Default: every realm member. */
  isMember?: MembershipPredicate
  /**
   * A live peer that has not answered a ping for this long is `peer:unreachable`; dials and the
   * connection attempts of `start` are bounded by it too. Default 10 000 ms.
   */
  livenessTimeoutMs?: number
  /** How often live peers are pinged. Default: a quarter of the liveness timeout. */
  pingIntervalMs?: number
  /** How long a new connection may take to pass the realm handshake before it is closed. Default 5 000 ms. */
  handshakeTimeoutMs?: number
  /** How often the node asks the DHT for realm members it is not connected to. Default 30 000 ms. */
  discoveryIntervalMs?: number
  /** Bytes a stream reader grants its writer before the writer waits. Default 1 MiB. */
  streamWindowBytes?: number
  /** How long a peer that failed the realm proof is refused at connection level. Default 60 000 ms. */
  banMs?: number
  /** How long `stop` waits for libp2p before it drops the remaining connections. Default 5 000 ms. */
  stopTimeoutMs?: number
  /** Where refusals and failures are logged. Default: nowhere. */
  log?: NetworkLogger
}

/** The node's settings, checked and with defaults filled in. */
export interface Libp2pSettings {
  readonly credentials: RealmCredentials
  readonly transports: readonly TransportName[]
  readonly listen: readonly string[]
  readonly bootstrap: readonly string[]
  readonly livenessTimeoutMs: number
  readonly pingIntervalMs: number
  readonly handshakeTimeoutMs: number
  readonly discoveryIntervalMs: number
  readonly streamWindowBytes: number
  readonly banMs: number
  readonly stopTimeoutMs: number
  readonly log: NetworkLogger
}

const LOOPBACK: Record<TransportName, string> = {
  tcp: '/ip4/127.0.0.1/tcp/0',
  quic: '/ip4/127.0.0.1/udp/0/quic-v1',
}

export function resolveSettings(init: Libp2pNetworkInit): Libp2pSettings {
  const { credentials } = init
  if (typeof credentials?.proof !== 'function' || typeof credentials.verify !== 'function') {
    throw new NetworkError('InvalidArgument', 'credentials need proof() and verify()')
  }
  assertRealmId(credentials.realmId)
  const transports = [...new Set(init.transports ?? (['tcp', 'quic'] as const))]
  if (transports.length === 0 || transports.some((t) => t !== 'tcp' && t !== 'quic')) {
    throw new NetworkError('InvalidArgument', 'transports must be a non-empty list of tcp and quic')
  }
  const listen = init.listen ?? transports.map((t) => LOOPBACK[t])
  const bootstrap = init.bootstrap ?? []
  for (const address of [...listen, ...bootstrap]) checkMultiaddr(address)
  for (const address of bootstrap) {
    if (!address.includes('/p2p/'))
      throw new NetworkError('InvalidArgument', `bootstrap address ${address} lacks /p2p/<peer id>`)
  }
  const livenessTimeoutMs = positive(init.livenessTimeoutMs ?? 10_000, 'livenessTimeoutMs')
  return {
    credentials,
    transports,
    listen,
    bootstrap,
    livenessTimeoutMs,
    pingIntervalMs: positive(init.pingIntervalMs ?? livenessTimeoutMs / 4, 'pingIntervalMs'),
    handshakeTimeoutMs: positive(init.handshakeTimeoutMs ?? 5_000, 'handshakeTimeoutMs'),
    discoveryIntervalMs: positive(init.discoveryIntervalMs ?? 30_000, 'discoveryIntervalMs'),
    streamWindowBytes: positive(init.streamWindowBytes ?? 1024 * 1024, 'streamWindowBytes'),
    banMs: positive(init.banMs ?? 60_000, 'banMs'),
    stopTimeoutMs: positive(init.stopTimeoutMs ?? 5_000, 'stopTimeoutMs'),
    log: init.log ?? (() => {}),
  }
}

function checkMultiaddr(address: unknown): void {
  try {
    multiaddr(address as string)
  } catch (err) {
    throw new NetworkError('InvalidArgument', `${String(address)} is not a multiaddr`, { cause: err })
  }
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !(value > 0 && Number.isFinite(value))) {
    throw new NetworkError('InvalidArgument', `${name} must be a positive number`)
  }
  return value
}
