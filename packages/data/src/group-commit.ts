/**
 * Group commit: work that many callers need done (an fsync each, a directory sync after their renames)
 * is run for all of them in one batch, and each caller is answered with its own outcome once its
 * batch has run. No timer: a member that finds no batch running starts one at once, so a lone caller
 * waits for nothing; members that arrive while a batch runs gather and go together in the next one.
 */

export interface GroupCommitInit<M, R> {
  /**
   * Runs one batch. Answers one outcome per member, in the members' order (a member's failure is its
   * own); a throw fails every member of the batch.
   */
  readonly commit: (members: readonly M[]) => Promise<readonly PromiseSettledResult<R>[]>
  /** Most members in one batch; the rest wait for the next. Default 256. */
  readonly maxBatch?: number
}

interface Waiting<M, R> {
  readonly member: M
  readonly resolve: (value: R) => void
  readonly reject: (reason: unknown) => void
}

export class GroupCommit<M, R> {
  readonly #commit: GroupCommitInit<M, R>['commit']
  readonly #maxBatch: number
  #waiting: Waiting<M, R>[] = []
  #running = false
  /** Batches run so far. */
  batches = 0

  constructor(init: GroupCommitInit<M, R>) {
    this.#commit = init.commit
    this.#maxBatch = init.maxBatch ?? 256
  }

  /** Resolves (or rejects) with the member's outcome once the batch it went in has run. */
  submit(member: M): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ member, resolve, reject })
      if (!this.#running) void this.#drain()
    })
  }

  async #drain(): Promise<void> {
    this.#running = true
    try {
      while (this.#waiting.length > 0) {
        const batch = this.#waiting.splice(0, this.#maxBatch)
        this.batches++
        let outcomes: readonly PromiseSettledResult<R>[]
        try {
          outcomes = await this.#commit(batch.map((w) => w.member))
          if (outcomes.length !== batch.length)
            throw new Error(`a batch of ${batch.length} got ${outcomes.length} outcomes`)
        } catch (err) {
          for (const w of batch) w.reject(err)
          continue
        }
        batch.forEach((w, i) => {
          const outcome = outcomes[i] as PromiseSettledResult<R>
          if (outcome.status === 'fulfilled') w.resolve(outcome.value)
          else w.reject(outcome.reason)
        })
      }
    } finally {
      this.#running = false
    }
  }
}
