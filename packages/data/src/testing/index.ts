/**
 * Compliance suites for the ports of @aruna/data. Each takes a `TestSetup` and registers vitest
 * `describe`/`it` blocks that run the same behavioural tests against any implementation, calling
 * `setup()` before and `teardown()` after every test.
 */
export interface TestSetup<T> {
  setup(): Promise<T>
  teardown(impl: T): Promise<void>
}

export { type BlobStoreFixture, runBlobStoreTests } from './blob-store-suite.js'
export { FakeSigV4Authenticator, type FakeSigV4AuthenticatorInit } from './fake-sigv4-authenticator.js'
export {
  type MultipartStoreFixture,
  type MultipartStoreSuiteOptions,
  runMultipartStoreTests,
} from './multipart-store-suite.js'
export { runObjectIndexTests } from './object-index-suite.js'
