/**
 * The group a bucket belongs to when CreateBucket names none: the caller's first group by name. The
 * S3 layer asks synchronously, so the answer is kept in memory and rebuilt whenever the organisation
 * changes (groups and memberships arrive by sync too).
 */
import type { OrgaStore } from '@aruna/orga'

export class DefaultGroups {
  #byUser = new Map<string, string>()
  #rebuilding: Promise<void> = Promise.resolve()
  readonly #unsubscribe: () => void

  constructor(
    private readonly store: OrgaStore,
    private readonly onError: (err: unknown) => void,
  ) {
    this.#unsubscribe = store.onChange((change) => {
      if (change.kind === 'group' || change.kind === 'user' || change.kind === 'realm') void this.refresh()
    })
  }

  refresh(): Promise<void> {
    this.#rebuilding = this.#rebuilding.then(async () => {
      try {
        const next = new Map<string, string>()
        for (const group of await this.store.listGroups()) {
          for (const member of group.members) if (!next.has(member)) next.set(member, group.id)
        }
        this.#byUser = next
      } catch (err) {
        this.onError(err)
      }
    })
    return this.#rebuilding
  }

  of(userId: string): string | undefined {
    return this.#byUser.get(userId)
  }

  close(): void {
    this.#unsubscribe()
  }
}
