import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { CODE_P2P, type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { PeerId } from '../port.js'
import { HANDSHAKE_PROTOCOL_ID } from '../protocol.js'
import { kadProtocolFor } from './credentials.js'
import { boundedQuic, quicDialTimeout, quicFirst } from './dial-order.js'
import { gateRegistrar } from './discovery.js'
import type { Libp2pSettings } from './options.js'
import type { RealmSessions } from './sessions.js'
import type { ArunaServices, Libp2pNode } from './types.js'

export interface NodeInit {
  privateKey: PrivateKey
  settings: Libp2pSettings
  sessions: RealmSessions
  listen: readonly string[]
  /** Registers the node's protocol handlers; runs before libp2p starts listening. */
  serve(node: Libp2pNode): void
}

/**
 * Creates and starts one run's libp2p node: the configured transports, Noise and Yamux, identify,
 * ping and the realm's DHT (server mode, private addresses kept), a gater that asks the realm
 * sessions, and the realm handshake served and started on every connection.
 */
export async function createLibp2pNode(init: NodeInit): Promise<Libp2pNode> {
  const { settings, sessions } = init
  const node = await createLibp2p<ArunaServices>({
    privateKey: init.privateKey,
    start: false,
    addresses: { listen: [...init.listen] },
    transports: settings.transports.map((name) =>
      name === 'tcp'
        ? tcp()
        : boundedQuic(
            // Half the budget leaves time for TCP; with QUIC alone there is nothing to fall back to.
            settings.transports.includes('tcp')
              ? quicDialTimeout(settings.livenessTimeoutMs)
              : Math.max(settings.livenessTimeoutMs, 1_000),
            {
              handshakeTimeout: Math.min(Math.max(settings.livenessTimeoutMs, 1_000), 5_000),
            },
          ),
    ),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: {
      denyDialPeer: (peer) => sessions.refuses(peer),
      denyInboundEncryptedConnection: (peer) => sessions.refusesInbound(peer),
      denyOutboundEncryptedConnection: (peer) => sessions.refuses(peer),
    },
    connectionManager: {
      // Realm nodes on one host (tests, a cluster harness) dial each other from one address.
      inboundConnectionThreshold: 1_000,
      maxIncomingPendingConnections: 256,
      // QUIC before TCP when a peer offers both; TCP is tried next if QUIC fails.
      addressSorter: quicFirst,
    },
    // Liveness is the realm sessions' own ping; libp2p's monitor would only duplicate it.
    connectionMonitor: { enabled: false },
    services: {
      identify: identify(),
      ping: ping(),
      dht: (components) =>
        kadDHT({
          protocol: kadProtocolFor(settings.credentials.realmId),
          clientMode: false,
          peerInfoMapper: passthroughMapper,
          allowQueryWithZeroPeers: true,
        })(withRegistrar(components, gateRegistrar(components.registrar, sessions))),
    },
  })
  node.addEventListener('connection:open', (event) => sessions.onConnectionOpen(event.detail))
  node.addEventListener('connection:close', (event) => sessions.onConnectionClose(event.detail))
  await node.handle(
    HANDSHAKE_PROTOCOL_ID,
    (stream, connection) => sessions.onHelloStream(stream, connection),
    {
      maxInboundStreams: 64,
      maxOutboundStreams: 64,
    },
  )
  init.serve(node)
  try {
    await node.start()
  } catch (err) {
    await Promise.resolve(node.stop()).catch(() => {})
    throw err
  }
  return node
}

function withRegistrar<T extends { registrar: unknown }>(components: T, registrar: T['registrar']): T {
  return new Proxy(components, {
    get: (target, property, receiver) =>
      property === 'registrar' ? registrar : Reflect.get(target, property, receiver),
  })
}

/** Stops libp2p, giving up after `timeoutMs` (a stop can hang on a stuck connection): then drops the connections. */
export async function stopNode(
  node: Pick<Libp2p, 'stop' | 'getConnections'>,
  timeoutMs: number,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs)
  })
  const outcome = await Promise.race([
    Promise.resolve(node.stop()).then(
      () => 'stopped' as const,
      () => 'failed' as const,
    ),
    timedOut,
  ])
  clearTimeout(timer)
  if (outcome !== 'stopped') {
    for (const connection of node.getConnections()) connection.abort(new Error('node stopped'))
  }
}

/**
 * The listen addresses with each port 0 replaced by the port the system chose (read from `actual`),
 * so a restart listens where peers last saw the node.
 */
export function pinListenPorts(listen: readonly string[], actual: readonly string[]): string[] {
  return listen.map((address) => {
    const parts = address.split('/')
    const portIndex = parts.findIndex((part, i) => (part === 'tcp' || part === 'udp') && parts[i + 1] === '0')
    if (portIndex < 0) return address
    const kind = transportOf(address)
    const [family, host] = [parts[1], parts[2]]
    const unspecified = host === '0.0.0.0' || host === '::'
    const match = actual.find((candidate) => {
      const other = candidate.split('/')
      return transportOf(candidate) === kind && other[1] === family && (unspecified || other[2] === host)
    })
    const port = match?.split('/')[portIndex + 1]
    if (port === undefined) return address
    parts[portIndex + 1] = port
    return parts.join('/')
  })
}

function transportOf(address: string): 'quic' | 'tcp' {
  return address.includes('/quic-v1') ? 'quic' : 'tcp'
}

/** Splits `/…/p2p/<peer>` into the peer id and the address without it; `undefined` without a peer id. */
export function peerAddress(address: string): { peer: PeerId; address: Multiaddr } | undefined {
  try {
    const parsed = multiaddr(address)
    const peer = parsed.getComponents().findLast((component) => component.code === CODE_P2P)?.value
    if (peer === undefined) return undefined
    return { peer, address: parsed.decapsulateCode(CODE_P2P) }
  } catch {
    return undefined
  }
}
