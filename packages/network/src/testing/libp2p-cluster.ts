import { createLibp2pNetwork, type Libp2pNetwork } from '../libp2p/node.js'
import type { Libp2pNetworkInit, TransportName } from '../libp2p/options.js'
import { createPeerKey, peerIdOf } from '../libp2p/peer-key.js'
import { createTestRealm, type TestRealm } from './realm.js'

/** Settings that keep tests fast: short liveness, handshake and discovery periods. */
export const TEST_NODE_SETTINGS = {
  livenessTimeoutMs: 2_000,
  pingIntervalMs: 250,
  handshakeTimeoutMs: 2_000,
  discoveryIntervalMs: 500,
  stopTimeoutMs: 2_000,
} satisfies Partial<Libp2pNetworkInit>

export interface Libp2pClusterOptions {
  nodes: number
  /** Default: `['tcp']`. */
  transports?: TransportName[]
  /** Default: a fresh test realm. */
  realm?: TestRealm
  /** `all` (default): each node bootstraps from every earlier one; `first`: from the first only. */
  bootstrap?: 'all' | 'first'
  /** Overrides of `TEST_NODE_SETTINGS` and the rest of the node settings. */
  settings?: Partial<Omit<Libp2pNetworkInit, 'credentials' | 'bootstrap'>>
  /** How long to wait for every node to see every other as a live peer. Default 10 000 ms. */
  waitMs?: number
}

export interface Libp2pCluster {
  readonly realm: TestRealm
  readonly nodes: Libp2pNetwork[]
  /** Stops every node, each bounded by its stop timeout. */
  stop(): Promise<void>
}

/** A test realm member on loopback, not yet started. */
export async function createTestNode(
  realm: TestRealm,
  init: Partial<Libp2pNetworkInit> = {},
): Promise<Libp2pNetwork> {
  const privateKey = init.privateKey ?? (await createPeerKey())
  return createLibp2pNetwork({
    ...TEST_NODE_SETTINGS,
    ...init,
    privateKey,
    credentials: init.credentials ?? realm.credentialsFor(peerIdOf(privateKey)),
  })
}

/**
 * Starts `nodes` libp2p nodes of one test realm on loopback, one after the other, each bootstrapped
 * from earlier nodes, and waits (bounded) until every node has every other as a live peer.
 */
export async function createLibp2pCluster(options: Libp2pClusterOptions): Promise<Libp2pCluster> {
  const realm = options.realm ?? createTestRealm()
  const nodes: Libp2pNetwork[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()))
  }
  try {
    for (let i = 0; i < options.nodes; i++) {
      const earlier = options.bootstrap === 'first' ? nodes.slice(0, 1) : nodes
      const node = await createTestNode(realm, {
        transports: options.transports ?? ['tcp'],
        ...options.settings,
        bootstrap: earlier.flatMap((other) => other.multiaddrs),
      })
      nodes.push(node)
      await node.start()
    }
    await waitFor(
      () => nodes.every((node) => node.peers().length === nodes.length - 1),
      options.waitMs ?? 10_000,
      () => `cluster not connected: ${nodes.map((node) => node.peers().length).join(', ')} peers`,
    )
  } catch (err) {
    await stop()
    throw err
  }
  return { realm, nodes, stop }
}

/** Polls `condition` every 20 ms until it holds; fails with `describe()` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(describe())
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
