import { MemoryOrgaStore } from '../src/index.js'
import { runOrgaStoreTests } from '../src/testing/index.js'

runOrgaStoreTests({
  setup: async () => new MemoryOrgaStore({ realmId: 'bafzrealmkey', realmName: 'Test realm' }),
  teardown: async () => {},
})
