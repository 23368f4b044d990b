import { createMemoryReplicas } from '../src/index.js'
import { runOrgaReplicaTests } from '../src/testing/index.js'

runOrgaReplicaTests({
  setup: async () => createMemoryReplicas(3, { realmId: 'bafzrealmkey' }),
  teardown: async () => {},
})
