/**
 * Small chunks of PutObjects that travel to the other nodes with their version record instead of on
 * their own (`RealmBlobStore.put` with `withVersion`, `RealmObjectIndex`): one message and one commit
 * per receiving node instead of two, and one round trip instead of two before the PUT is acknowledged.
 *
 * The blob store writes such a chunk here, durably, and leaves it as a rider; the index takes it when it
 * pushes the version that references it, sends it to the chunk's other holders with the record, and
 * waits for the chunk's write quorum as well as the record's. A rider nobody takes (the PUT failed
 * after its chunk was stored) is sent on its own after `ttlMs`, as a late copy.
 */

/** A chunk waiting for its version record's push. */
export interface Rider {
  readonly cid: string
  readonly bytes: Uint8Array
  /** The other nodes the chunk is written to (its holders in reach, or stand-ins), not this one. */
  readonly peers: readonly string[]
  /** How many of `peers` must have it durable before the write is acknowledged. */
  readonly needed: number
}

/** How long a rider waits for its record before it is sent on its own. */
export const RIDER_TTL_MS = 60_000

export class ChunkRiders {
  readonly #riders = new Map<string, { rider: Rider; refs: number; timer: ReturnType<typeof setTimeout> }>()
  readonly #unclaimed: (rider: Rider) => void
  readonly #ttlMs: number

  constructor(unclaimed: (rider: Rider) => void, ttlMs = RIDER_TTL_MS) {
    this.#unclaimed = unclaimed
    this.#ttlMs = ttlMs
  }

  /** Leaves `rider` for its record; the same chunk put twice (two PUTs of the same bytes) waits for two. */
  add(rider: Rider): void {
    const known = this.#riders.get(rider.cid)
    if (known !== undefined) clearTimeout(known.timer)
    const timer = setTimeout(() => this.#expire(rider.cid), this.#ttlMs)
    timer.unref()
    this.#riders.set(rider.cid, { rider, refs: (known?.refs ?? 0) + 1, timer })
  }

  /** The rider of `cid` for one record that references it, if one waits. */
  take(cid: string): Rider | undefined {
    const entry = this.#riders.get(cid)
    if (entry === undefined) return undefined
    entry.refs--
    if (entry.refs <= 0) {
      clearTimeout(entry.timer)
      this.#riders.delete(cid)
    }
    return entry.rider
  }

  /** Riders waiting now. */
  get size(): number {
    return this.#riders.size
  }

  /** Sends every waiting rider on its own (the node stops). */
  flush(): void {
    for (const cid of [...this.#riders.keys()]) this.#expire(cid)
  }

  #expire(cid: string): void {
    const entry = this.#riders.get(cid)
    if (entry === undefined) return
    clearTimeout(entry.timer)
    this.#riders.delete(cid)
    this.#unclaimed(entry.rider)
  }
}
