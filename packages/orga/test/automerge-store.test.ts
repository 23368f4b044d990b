import { Repo } from '@automerge/automerge-repo'
import { AutomergeOrgaStore } from '../src/index.js'
import { runOrgaStoreTests } from '../src/testing/index.js'

runOrgaStoreTests({
  setup: async () =>
    AutomergeOrgaStore.create({
      repo: new Repo(),
      realmId: 'bafzrealmkey',
      realmName: 'Test realm',
      closeRepo: true,
    }),
  teardown: async (store) => (store as AutomergeOrgaStore).close(),
})
