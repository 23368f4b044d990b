/**
 * The resource documents a store holds in memory ("resident"), with their change listeners. A Repo
 * keeps every document it has touched in memory until told otherwise (automerge-repo#358); this keeps
 * track of when each was last used, so that `evictIdle` can write idle ones to storage and drop them
 * from the Repo (`repo.removeFromCache`). An evicted document is loaded again from storage on its next
 * use, or by the Repo itself when a peer sends a change to it.
 */
import type { DocHandle, DocHandleEncodedChangePayload, DocumentId, Repo } from '@automerge/automerge-repo'
import { MetadataError } from '../errors.js'
import { findDocument } from './change-input.js'
import type { ResourceDoc } from './schema.js'

export interface ResidentEvents {
  /** The store now holds the resource's document (loaded, created here, or brought by a peer). */
  held(resourceId: string, handle: DocHandle<ResourceDoc>): void
  /** A held document changed. */
  changed(resourceId: string, payload: DocHandleEncodedChangePayload<ResourceDoc>): void
}

export interface Resident {
  readonly resourceId: string
  readonly url: string
  readonly handle: DocHandle<ResourceDoc>
  lastUsed: number
  /** `performance.now()` when the document last changed (or was held): see `#evict`. */
  lastChanged: number
  readonly listener: (payload: DocHandleEncodedChangePayload<ResourceDoc>) => void
}

export class ResidentDocuments {
  readonly #repo: Repo
  readonly #now: () => number
  readonly #loadTimeoutMs: number
  readonly #events: ResidentEvents
  readonly #byResource = new Map<string, Resident>()
  readonly #loading = new Map<string, Promise<DocHandle<ResourceDoc>>>()
  /** Evictions under way, by resource: a load waits for them, then reads the document from storage. */
  readonly #evicting = new Map<string, Promise<void>>()

  constructor(repo: Repo, now: () => number, loadTimeoutMs: number, events: ResidentEvents) {
    this.#repo = repo
    this.#now = now
    this.#loadTimeoutMs = loadTimeoutMs
    this.#events = events
  }

  /**
   * The resource's document, ready: held already, loaded from storage, or fetched from peers (one load
   * per document however many calls wait for it). `listed` says whether the catalog still lists the
   * resource at this URL once the load is done.
   * @throws `Unavailable` when the document cannot be loaded within the load timeout; `NotFound` when the
   *   resource was deleted meanwhile.
   */
  async open(resourceId: string, url: string, listed: () => boolean): Promise<DocHandle<ResourceDoc>> {
    const held = this.use(resourceId, url)
    if (held !== undefined) return held
    const evicting = this.#evicting.get(resourceId)
    if (evicting !== undefined) {
      await evicting
      return this.open(resourceId, url, listed)
    }
    let loading = this.#loading.get(url)
    if (loading === undefined) {
      loading = this.#load(resourceId, url, listed).finally(() => this.#loading.delete(url))
      this.#loading.set(url, loading)
    }
    return loading
  }

  async #load(resourceId: string, url: string, listed: () => boolean): Promise<DocHandle<ResourceDoc>> {
    const handle = await findDocument<ResourceDoc>(this.#repo, url, this.#loadTimeoutMs)
    if (handle === undefined) {
      throw new MetadataError(
        'Unavailable',
        `The document of ${resourceId} could not be loaded on this node in time`,
      )
    }
    if (!listed()) throw new MetadataError('NotFound', `No resource ${resourceId}`)
    this.hold(resourceId, url, handle)
    return handle
  }

  get size(): number {
    return this.#byResource.size
  }

  /** The resident document of the resource at this URL, marked as used; undefined when not held. */
  use(resourceId: string, url: string): DocHandle<ResourceDoc> | undefined {
    const resident = this.#byResource.get(resourceId)
    if (resident === undefined) return undefined
    if (resident.url !== url || !resident.handle.isReady()) {
      this.release(resourceId)
      return undefined
    }
    resident.lastUsed = this.#now()
    return resident.handle
  }

  has(resourceId: string): boolean {
    return this.#byResource.has(resourceId)
  }

  handle(resourceId: string): DocHandle<ResourceDoc> | undefined {
    return this.#byResource.get(resourceId)?.handle
  }

  /** Holds the handle, reporting every change to it until it is released. */
  hold(resourceId: string, url: string, handle: DocHandle<ResourceDoc>): void {
    this.release(resourceId)
    const listener = (payload: DocHandleEncodedChangePayload<ResourceDoc>) => {
      resident.lastChanged = performance.now()
      this.#events.changed(resourceId, payload)
    }
    const resident: Resident = {
      resourceId,
      url,
      handle,
      lastUsed: this.#now(),
      lastChanged: performance.now(),
      listener,
    }
    handle.on('heads-changed', resident.listener)
    this.#byResource.set(resourceId, resident)
    this.#events.held(resourceId, handle)
  }

  /** Stops listening to the resource's document (it stays in the Repo). */
  release(resourceId: string): Resident | undefined {
    const resident = this.#byResource.get(resourceId)
    if (resident === undefined) return undefined
    resident.handle.off('heads-changed', resident.listener)
    this.#byResource.delete(resourceId)
    return resident
  }

  /**
   * Writes the documents unused for `idleMs` to storage and drops them from memory. Does nothing
   * without a storage adapter: the Repo's memory is then the only copy. A call that needs a document
   * while it is being dropped waits, then loads it again. Returns how many were dropped.
   */
  async evictIdle(idleMs: number): Promise<number> {
    const cutoff = this.#now() - idleMs
    const idle = [...this.#byResource.values()].filter((resident) => resident.lastUsed <= cutoff)
    return this.#evictEach(idle, (resident) => resident.lastUsed <= cutoff)
  }

  /**
   * Drops the least recently used documents (written to storage first) until at most `keep` stay.
   * Does nothing without a storage adapter. Returns how many were dropped.
   */
  async evictBeyond(keep: number): Promise<number> {
    const excess = this.#byResource.size - keep
    if (excess <= 0) return 0
    const oldest = [...this.#byResource.values()].sort((x, y) => x.lastUsed - y.lastUsed).slice(0, excess)
    const marks = new Map(oldest.map((resident) => [resident, resident.lastUsed]))
    return this.#evictEach(oldest, (resident) => resident.lastUsed === marks.get(resident))
  }

  /** Evicts each of `candidates` that is still held as listed and `stillEligible` (not used since). */
  async #evictEach(candidates: Resident[], stillEligible: (resident: Resident) => boolean): Promise<number> {
    if (this.#repo.storageSubsystem === undefined) return 0
    let evicted = 0
    for (const resident of candidates) {
      // Used, released or held anew since the list was made: not a candidate any more.
      if (this.#byResource.get(resident.resourceId) !== resident || !stillEligible(resident)) continue
      this.release(resident.resourceId)
      const eviction = this.#evict(resident.handle.documentId as DocumentId, resident.lastChanged)
      this.#evicting.set(resident.resourceId, eviction)
      try {
        await eviction
        evicted += 1
      } finally {
        this.#evicting.delete(resident.resourceId)
      }
    }
    return evicted
  }

  /**
   * Writes the document and drops it from the Repo. Two automerge-repo 2.5 hazards are kept away:
   *
   * - automerge-repo#435: unloading a handle swaps its document for an empty one and announces that as a
   *   change, which the Repo's save listener then writes to storage, compacting the real document away.
   *   So the handle's listeners go first (the handle is discarded; nothing else must hear from it).
   * - The Repo saves a changed document through a throttle (`saveDebounceRate`, 100 ms) that holds the
   *   document as it was at the change. Should that save run after the document was dropped and loaded
   *   again with newer changes saved, its snapshot of the older document would delete the newer chunks
   *   from storage (compaction removes every chunk it knows). So the eviction waits until a save the
   *   last change scheduled has started: a timer due after that save's timer fires after it.
   *
   * Then the document is written until no change arrived while it was being written; between the last
   * write and the unload only microtasks run.
   */
  async #evict(documentId: DocumentId, lastChanged: number): Promise<void> {
    const handle = this.#repo.handles[documentId]
    handle?.removeAllListeners('heads-changed')
    handle?.removeAllListeners('change')
    const wait = Math.max(1, lastChanged + SAVE_THROTTLE_MS + 20 - performance.now())
    await new Promise((resolve) => setTimeout(resolve, wait))
    for (let written = ''; ; ) {
      const heads = handle?.isReady() ? handle.heads().join(',') : ''
      if (heads === written) break
      await this.#repo.flush([documentId])
      written = heads
    }
    await this.#repo.removeFromCache(documentId)
  }

  releaseAll(): Resident[] {
    const all = [...this.#byResource.values()]
    for (const resident of all) this.release(resident.resourceId)
    return all
  }
}

/** automerge-repo's save throttle (`saveDebounceRate`, default 100 ms; the store's Repos keep the default). */
const SAVE_THROTTLE_MS = 100

/** Longer than automerge-repo's sync and save debounce (100 ms). */
const REMOVAL_DELAY_MS = 500

/**
 * Removes deleted resources' documents from the Repo and its storage, after a delay: automerge-repo
 * sends a change to peers (and saves it) up to 100 ms after it is made, and a document deleted before
 * that has its last change lost on the way (and the Repo complains in the log).
 */
export class DocumentRemovals {
  readonly #repo: Repo
  readonly #pending = new Map<string, ReturnType<typeof setTimeout>>()

  constructor(repo: Repo) {
    this.#repo = repo
  }

  schedule(url: string): void {
    if (this.#pending.has(url)) return
    const timer = setTimeout(() => void this.#remove(url), REMOVAL_DELAY_MS)
    timer.unref()
    this.#pending.set(url, timer)
  }

  /** Waits out the delay once, then removes every scheduled document. */
  async finish(): Promise<void> {
    if (this.#pending.size === 0) return
    await new Promise((resolve) => setTimeout(resolve, REMOVAL_DELAY_MS))
    for (const url of [...this.#pending.keys()]) await this.#remove(url)
  }

  async #remove(url: string): Promise<void> {
    const timer = this.#pending.get(url)
    if (timer === undefined) return
    clearTimeout(timer)
    this.#pending.delete(url)
    const documentId = url.slice('automerge:'.length) as DocumentId
    await this.#repo.flush([documentId]).catch(() => {})
    this.#repo.delete(documentId)
  }
}
