import { describe } from 'vitest'
import { createPeerKey, type PeerId, peerIdOf, requestOpen, type TransportName } from '../src/index.js'
import { type NetworkCluster, runNetworkTests } from '../src/testing/index.js'
import { createLibp2pCluster, type Libp2pCluster } from '../src/testing/libp2p-cluster.js'

const clusters = new WeakMap<NetworkCluster, Libp2pCluster>()

for (const transport of ['tcp', 'quic'] satisfies TransportName[]) {
  describe(`libp2p over ${transport}`, () => {
    runNetworkTests({
      async setup({ nodes }) {
        const cluster = await createLibp2pCluster({ nodes, transports: [transport] })
        // Addresses as of setup: a node that stops in a test is still dialled where it was.
        const addresses = new Map<PeerId, string>(
          cluster.nodes.map((node) => [node.peerId, node.multiaddrs[0] ?? '']),
        )
        const fixture: NetworkCluster = {
          nodes: cluster.nodes,
          outsider: async () => {
            const privateKey = await createPeerKey()
            return {
              peerId: peerIdOf(privateKey),
              request: (target, protocol, request, options) =>
                requestOpen({
                  ...options,
                  privateKey,
                  address: addresses.get(target.peerId) ?? '',
                  protocol,
                  request,
                }),
            }
          },
        }
        clusters.set(fixture, cluster)
        return fixture
      },
      async teardown(fixture) {
        await clusters.get(fixture)?.stop()
      },
    })
  })
}
