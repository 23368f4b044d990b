import { describe } from 'vitest'
import type { TransportName } from '../src/index.js'
import { type NetworkCluster, runNetworkTests } from '../src/testing/index.js'
import { createLibp2pCluster, type Libp2pCluster } from '../src/testing/libp2p-cluster.js'

const clusters = new WeakMap<NetworkCluster, Libp2pCluster>()

for (const transport of ['tcp', 'quic'] satisfies TransportName[]) {
  describe(`libp2p over ${transport}`, () => {
    runNetworkTests({
      async setup({ nodes }) {
        const cluster = await createLibp2pCluster({ nodes, transports: [transport] })
        const fixture: NetworkCluster = { nodes: cluster.nodes }
        clusters.set(fixture, cluster)
        return fixture
      },
      async teardown(fixture) {
        await clusters.get(fixture)?.stop()
      },
    })
  })
}
