/**
 * `@aruna/network/testing`: the compliance suite every `Network` implementation runs (as the
 * js-libp2p interface compliance tests): `runNetworkTests` takes a `TestSetup` that makes a fresh
 * cluster of connected nodes per test, and registers vitest `describe`/`it` blocks. The mock runs it
 * in this package; the libp2p node runs it with real nodes on loopback.
 */
import { describe } from 'vitest'
import { runMembershipTests } from './membership.js'
import { runOpenProtocolTests } from './open-protocols.js'
import { runRequestResponseTests } from './request-response.js'
import type { NetworkTestSetup } from './setup.js'
import { runStreamTests } from './streams.js'

export type { EchoRequest, EchoResponse } from './fixtures.js'
export {
  ECHO,
  echoHandler,
  expectNetworkError,
  expectNetworkErrorSync,
  nextEvent,
  WAIT_MS,
} from './fixtures.js'
export type { Libp2pCluster, Libp2pClusterOptions } from './libp2p-cluster.js'
export { createLibp2pCluster, createTestNode, TEST_NODE_SETTINGS, waitFor } from './libp2p-cluster.js'
export type { TestRealm } from './realm.js'
export { createTestRealm } from './realm.js'
export type { ClusterOptions, NetworkCluster, NetworkTestSetup, Outsider, TestSetup } from './setup.js'
export { MAX_BUFFERED_BYTES } from './streams.js'

/** Registers the whole `Network` compliance suite against `common`. */
export function runNetworkTests(common: NetworkTestSetup): void {
  describe('Network compliance', () => {
    runRequestResponseTests(common)
    runStreamTests(common)
    runMembershipTests(common)
    runOpenProtocolTests(common)
  })
}
