/** One message on its way over a link: `deliver` hands it to the receiving node. */
export interface Delivery {
  /** Reliable messages (stream traffic) are held while the link is down; the others are lost. */
  readonly reliable: boolean
  deliver(): void
}

/**
 * One direction between two mock nodes, with the faults a real link has: loss (`dropProbability`),
 * latency (`delayMs`) and being cut (`isDown`, e.g. by a partition). Messages arrive in the order
 * they were sent, whatever the delay does in between, as on one TCP or QUIC connection. Delivery is
 * always asynchronous, never inside `send`.
 */
export class Link {
  dropProbability = 0
  delayMs = 0
  readonly #queue: Array<{ at: number; delivery: Delivery }> = []
  readonly #isCut: () => boolean
  readonly #random: () => number
  #timer: ReturnType<typeof setTimeout> | undefined
  #scheduled = false

  constructor(isCut: () => boolean, random: () => number) {
    this.#isCut = isCut
    this.#random = random
  }

  /** True while nothing gets through: cut by a partition, or dropping everything. */
  get isDown(): boolean {
    return this.#isCut() || this.dropProbability >= 1
  }

  send(delivery: Delivery): void {
    if (!delivery.reliable && (this.#isCut() || this.#lost())) return
    this.#queue.push({ at: performance.now() + this.delayMs, delivery })
    this.resume()
  }

  // Draws only on lossy links, so a seeded generator's sequence maps to the messages that can be lost.
  #lost(): boolean {
    return this.dropProbability > 0 && this.#random() < this.dropProbability
  }

  /** Delivers what is due; called after sends and when a fault on this link is lifted. */
  resume(): void {
    if (this.#scheduled || this.#timer !== undefined) return
    this.#scheduled = true
    queueMicrotask(() => {
      this.#scheduled = false
      this.#flush()
    })
  }

  #flush(): void {
    for (let head = this.#queue[0]; head !== undefined; head = this.#queue[0]) {
      if (this.isDown) {
        // Unreliable messages in flight are lost; reliable ones wait for the link to come back.
        if (head.delivery.reliable) return
        this.#queue.shift()
        continue
      }
      const wait = head.at - performance.now()
      if (wait > 0) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined
          this.#flush()
        }, wait)
        return
      }
      this.#queue.shift()
      try {
        head.delivery.deliver()
      } catch {
        // A receiver's failure must not stall the link for the messages behind it.
      }
    }
  }
}
