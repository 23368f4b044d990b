/**
 * `@aruna/auth`'s access key record store over the organisation documents: the sealed records are
 * replicated to every node, so a key made on any node verifies on all of them (each node holds the
 * realm's access key encryption key, handed over when it joined), even while the node that made it is
 * down. A revoked key stays revoked on every replica.
 */
import type { AccessKeyRecord, AccessKeyRecordStore } from '@aruna/auth'
import { isOrgaError, type OrgaStore } from '@aruna/orga'

/** Records `OrgaAccessKeyRecords` keeps at most; all are forgotten when more would be kept. */
const KEPT_RECORDS = 10_000

export class OrgaAccessKeyRecords implements AccessKeyRecordStore {
  /**
   * Records read, frozen, kept until the store reports a change: `get` is on the path of every signed
   * S3 request, and the store answers each time with a fresh copy. `onChange` is called as soon as a
   * change is visible to reads, so a key revoked here or on another node fails from the next request.
   */
  readonly #known = new Map<string, AccessKeyRecord>()
  #generation = 0

  constructor(private readonly store: OrgaStore) {
    store.onChange(() => {
      this.#generation++
      this.#known.clear()
    })
  }

  get(accessKeyId: string): AccessKeyRecord | Promise<AccessKeyRecord | undefined> {
    const kept = this.#known.get(accessKeyId)
    if (kept !== undefined) return kept
    const asked = this.#generation
    return this.store.getAccessKey(accessKeyId).then((record) => {
      // Unknown ids are not kept: anyone can send them, as many as they like.
      if (record === undefined) return undefined
      const frozen = Object.freeze({ ...record, sealed: Object.freeze({ ...record.sealed }) })
      if (asked === this.#generation) {
        if (this.#known.size >= KEPT_RECORDS) this.#known.clear()
        this.#known.set(accessKeyId, frozen)
      }
      return frozen
    })
  }

  list(): Promise<readonly AccessKeyRecord[]> {
    return this.store.listAccessKeys()
  }

  async put(record: AccessKeyRecord): Promise<void> {
    await this.store.addAccessKey(record)
  }

  async delete(accessKeyId: string): Promise<boolean> {
    try {
      if ((await this.store.getAccessKey(accessKeyId)) === undefined) return false
      await this.store.revokeAccessKey(accessKeyId)
      return true
    } catch (err) {
      if (isOrgaError(err, 'NotFound')) return false
      throw err
    }
  }
}
