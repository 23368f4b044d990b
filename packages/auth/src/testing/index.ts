/**
 * `@aruna/auth/testing`: the compliance suites every implementation of the ports runs (as the
 * js-libp2p interface compliance tests): `runTokenVerifierTests` and `runAuthorizerTests`, each taking a
 * `TestSetup` that makes a fresh fixture per test. Registers vitest `describe`/`it` blocks.
 */
export type { AccessKeyRecordStoreFixture } from './access-keys.js'
export { runAccessKeyRecordStoreTests } from './access-keys.js'
export type { AuthorizerFixture } from './authorizer.js'
export { runAuthorizerTests } from './authorizer.js'
export type { TestSetup } from './setup.js'
export type { TokenVerifierFixture } from './token-verifier.js'
export { expectCode, runTokenVerifierTests } from './token-verifier.js'
