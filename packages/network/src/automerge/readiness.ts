import type { PeerId } from '../port.js'

/**
 * When a network adapter is ready in automerge-repo's sense (`Repo.find` waits for it before it asks
 * peers for a document): once the peers that were live at the first `connect()` have each greeted
 * or been given up on, or after a timeout, whichever comes first. Ready stays ready.
 */
export class Readiness {
  readonly #promise: Promise<void>
  #resolve: () => void = () => {}
  #ready = false
  #waitingFor: Set<PeerId> | undefined
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor() {
    this.#promise = new Promise((resolve) => {
      this.#resolve = resolve
    })
  }

  get ready(): boolean {
    return this.#ready
  }

  whenReady(): Promise<void> {
    return this.#promise
  }

  /** Waits for `peers` to settle, at most `timeoutMs`; ready at once when there are none. */
  waitFor(peers: PeerId[], timeoutMs: number): void {
    if (this.#ready) return
    if (peers.length === 0) {
      this.markReady()
      return
    }
    this.#waitingFor = new Set(peers)
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.markReady(), timeoutMs)
  }

  /** `peer` greeted, refused or failed: one fewer to wait for. */
  settle(peer: PeerId): void {
    if (this.#waitingFor?.delete(peer) === true && this.#waitingFor.size === 0) this.markReady()
  }

  markReady(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#waitingFor = undefined
    if (this.#ready) return
    this.#ready = true
    this.#resolve()
  }
}
