import type { DeadlineOptions, Network, PeerId, Protocol } from '../port.js'

/**
 * Makes a fresh fixture for one test and disposes of it afterwards, as js-libp2p's compliance
 * tests do. `setup` receives what the test needs (e.g. how many nodes).
 */
export interface TestSetup<T, Options = void> {
  setup(options: Options): Promise<T>
  teardown(fixture: T): Promise<void>
}

/** What a network test asks for. */
export interface ClusterOptions {
  /** How many nodes, at least 1. */
  nodes: number
}

/**
 * Started nodes of one realm that all see each other as live peers (every node's `peers()` holds
 * all the others), with every peer a member. The mock puts them on one hub; the libp2p
 * implementation starts real nodes on loopback.
 */
export interface NetworkCluster {
  readonly nodes: readonly Network[]
  /**
   * A new caller from outside the realm, with an identity no node has seen, for the open-protocol
   * tests (skipped when the fixture has none). Only the nodes that existed at setup are targets.
   */
  outsider?(): Promise<Outsider>
}

/** A process that is no realm member: it can call open protocols only (`requestOpen`). */
export interface Outsider {
  readonly peerId: PeerId
  /** One request to `target` without a realm session, as `requestOpen` sends it. */
  request<Req, Res>(
    target: Network,
    protocol: Protocol<Req, Res>,
    request: Req,
    options?: DeadlineOptions,
  ): Promise<Res>
}

export type NetworkTestSetup = TestSetup<NetworkCluster, ClusterOptions>
