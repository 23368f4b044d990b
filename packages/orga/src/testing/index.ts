/**
 * The compliance suites of `@aruna/orga`: behaviour every `OrgaStore` must show, run by the memory
 * mock and by the Automerge store alike. `runOrgaStoreTests` needs one store per test;
 * `runOrgaReplicaTests` needs two or more replicas of one realm and a `settle()` that syncs them.
 *
 * ```ts
 * runOrgaStoreTests({
 *   setup: async () => new MemoryOrgaStore({ realmId: 'realm1' }),
 *   teardown: async () => {},
 * })
 * ```
 */

import { describe } from 'vitest'
import type { OrgaStore } from '../port.js'
import { accessKeyTests } from './access-key-suite.js'
import { changeTests } from './change-suite.js'
import { configTests } from './config-suite.js'
import { groupTests, userTests } from './directory-suite.js'
import type { TestSetup } from './helpers.js'
import { nodeTests } from './node-suite.js'
import { quotaTests } from './quota-suite.js'
import { realmTests } from './realm-suite.js'
import { roleTests } from './role-suite.js'

export { accessKey, accessKeyId, expectOrgaError, holdingFirstAnswer, type TestSetup } from './helpers.js'
export { type OrgaReplicas, runOrgaReplicaTests } from './replica-suite.js'

/** Registers the single-replica suite: every `OrgaStore` method's behaviour, errors and ordering. */
export function runOrgaStoreTests(common: TestSetup<OrgaStore>): void {
  describe('OrgaStore', () => {
    realmTests(common)
    nodeTests(common)
    groupTests(common)
    userTests(common)
    roleTests(common)
    configTests(common)
    quotaTests(common)
    accessKeyTests(common)
    changeTests(common)
  })
}
