/**
 * `@aruna/auth`'s access key record store over the organisation documents: the sealed records are
 * replicated to every node, so a key made on any node verifies on all of them (each node holds the
 * realm's access key encryption key, handed over when it joined), even while the node that made it is
 * down. A revoked key stays revoked on every replica.
 */
import type { AccessKeyRecord, AccessKeyRecordStore } from '@aruna/auth'
import { isOrgaError, keptUntilChange, type OrgaStore } from '@aruna/orga'

export class OrgaAccessKeyRecords implements AccessKeyRecordStore {
  /**
   * `get` is on the path of every signed S3 request: the records it reads are kept, frozen, until the
   * store reports a change (`keptUntilChange`), so a key revoked here or on another node fails from
   * the next request. Unknown ids are not kept.
   */
  readonly get: (accessKeyId: string) => AccessKeyRecord | undefined | Promise<AccessKeyRecord | undefined>

  constructor(private readonly store: OrgaStore) {
    this.get = keptUntilChange(store, (accessKeyId) => store.getAccessKey(accessKeyId))
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
