import { describe } from 'vitest'
import { MemoryObjectIndex } from '../src/index.js'
import { runObjectIndexTests } from '../src/testing/index.js'

describe('MemoryObjectIndex', () => {
  runObjectIndexTests({
    async setup() {
      return new MemoryObjectIndex()
    },
    async teardown() {},
  })
})
