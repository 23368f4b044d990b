import { MemorySearchIndex } from '../src/index.js'
import { runSearchIndexTests } from '../src/testing/index.js'

runSearchIndexTests({
  setup: async () => new MemorySearchIndex(),
  teardown: async () => {},
})
