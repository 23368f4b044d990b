/**
 * How a compliance suite gets a fresh implementation for each test (as in
 * `@libp2p/interface-compliance-tests`): `setup` before, `teardown` after, whatever happens.
 */
export interface TestSetup<T> {
  setup(): Promise<T>
  teardown(impl: T): Promise<void>
}
