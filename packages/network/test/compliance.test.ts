import { createMemoryCluster, type MemoryNetworkHub } from '../src/index.js'
import { type NetworkCluster, runNetworkTests } from '../src/testing/index.js'

const hubs = new WeakMap<NetworkCluster, MemoryNetworkHub>()
let outsiders = 0

runNetworkTests({
  async setup({ nodes }) {
    const { hub, nodes: started } = await createMemoryCluster({ nodes, livenessTimeoutMs: 500 })
    const cluster: NetworkCluster = {
      nodes: started,
      outsider: async () => {
        const peerId = `outsider-${++outsiders}`
        return {
          peerId,
          request: (target, protocol, request, options) =>
            hub.requestOpen({ ...options, from: peerId, to: target.peerId, protocol, request }),
        }
      },
    }
    hubs.set(cluster, hub)
    return cluster
  },
  async teardown(cluster) {
    await hubs.get(cluster)?.stopAll()
  },
})
