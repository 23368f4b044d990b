/**
 * Compliance suites for @aruna/metadata's ports. Each registers vitest `describe`/`it` blocks that run
 * against any implementation, calling `setup()` before and `teardown()` after every test:
 *
 * ```ts
 * runMetadataStoreTests({ setup: async () => new MemoryMetadataStore(), teardown: async () => {} })
 * ```
 */
export { expectMetadataError } from './expect-error.js'
export { runMetadataStoreTests } from './metadata-store-suite.js'
export { runSearchIndexTests } from './search-index-suite.js'

export interface TestSetup<T> {
  setup(): Promise<T>
  teardown(impl: T): Promise<void>
}
