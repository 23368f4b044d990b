/**
 * Waiting for replicas of one metadata store to agree: for tests, the cluster harness and operations.
 * Stores agree when their catalogs have the same heads and every listed resource's document has the
 * same heads on all of them; `settleMetadataStores` waits (bounded) until they agree twice in a row, so
 * that a change still in flight is not mistaken for agreement.
 */
import type { AutomergeMetadataStore } from './store.js'

/** A fingerprint of what a store holds: equal fingerprints, equal documents. */
export async function storeFingerprint(store: AutomergeMetadataStore, group?: string): Promise<string> {
  const parts = [store.catalogHeads().join(',')]
  for (const resourceId of store.resourceIds(group)) {
    try {
      parts.push(`${resourceId}=${(await store.heads(resourceId)).join(',')}`)
    } catch {
      parts.push(`${resourceId}=?`)
    }
  }
  return parts.join('\n')
}

/** Resolves once every store holds the same documents at the same heads; throws after the timeout. */
export async function settleMetadataStores(
  stores: readonly AutomergeMetadataStore[],
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let agreedBefore = false
  for (;;) {
    const prints = await Promise.all(stores.map((store) => storeFingerprint(store)))
    const agreed = prints.every((print) => print === prints[0] && !print.includes('=?'))
    if (agreed && agreedBefore) return
    agreedBefore = agreed
    if (Date.now() >= deadline) throw new Error(`the metadata stores did not settle within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, agreed ? 5 : 20))
  }
}
