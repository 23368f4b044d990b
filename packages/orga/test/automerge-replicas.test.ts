import { type AutomergeReplicas, createAutomergeReplicas } from '../src/index.js'
import { runOrgaReplicaTests } from '../src/testing/index.js'

runOrgaReplicaTests({
  setup: async () => createAutomergeReplicas(3, { realmId: 'bafzrealmkey' }),
  teardown: async (set) => (set as AutomergeReplicas).close(),
})
