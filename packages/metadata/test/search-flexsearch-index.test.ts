import { FlexSearchIndex } from '../src/index.js'
import { runSearchIndexTests } from '../src/testing/index.js'

runSearchIndexTests({
  setup: async () => new FlexSearchIndex(),
  teardown: async () => {},
})
