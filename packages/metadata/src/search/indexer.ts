/**
 * Keeps a `SearchIndex` in step with a `MetadataStore`: every created, updated or deleted resource (made
 * here or synced from elsewhere) is read again and indexed, or removed. It gives each resource a
 * node-local u32 ordinal, kept while the resource lives and never handed out again in this process (a
 * bitmap cached anywhere can then never name another resource by mistake), and tells listeners which
 * ordinal stands for which resource path: the node feeds that to `@aruna/auth`'s `UniverseIndex`, which
 * builds the caller's universe bitmap.
 *
 * Work is queued per resource: a burst of changes to one resource is read and indexed once, in order
 * with its other changes, at most `concurrency` resources at a time. `idle()` waits for the queue.
 */
import { isMetadataError, MetadataError } from '../errors.js'
import type { ChangeEvent, MetadataStore, SearchIndex } from '../port.js'
import { searchDocumentOf } from './extract.js'
import { MAX_ORDINAL } from './search-document.js'

/** An ordinal given to or taken from a resource. */
export interface OrdinalEvent {
  type: 'added' | 'removed'
  ordinal: number
  resourceId: string
  group: string
  /** `/{realm}/g/{group}/meta/{resource}`: the path permissions are written for. */
  path: string
}

export interface SearchIndexerInit {
  index: SearchIndex
  /** The realm id, the first segment of resource paths. */
  realm: string
  /** Resources read and indexed at once; default 4. */
  concurrency?: number
  /**
   * Told when a resource could not be read or indexed (for `Unavailable`, once the retries are spent);
   * its previous document, if any, stays until its next change or the next `rebuild`.
   */
  onError?: (error: unknown, resourceId: string) => void
  /**
   * A resource the store reports `Unavailable` (listed, but its document not here yet, e.g. just created
   * on another node) is read again after `delayMs`, doubling each time, up to `attempts` times, unless it
   * changes meanwhile. Default: no retries (`onError` hears of it at once; a caller may retry itself);
   * `delayMs` 1 000 when `attempts` is given.
   */
  retry?: { delayMs?: number; attempts?: number }
}

interface Pending {
  store: MetadataStore
  group: string
  deleted: boolean
  /** Retries of this work so far (0 for a change). */
  attempt?: number
}

interface Entry {
  ordinal: number
  group: string
  path: string
}

export class SearchIndexer {
  private readonly index: SearchIndex
  private readonly realm: string
  private readonly concurrency: number
  private readonly onError: (error: unknown, resourceId: string) => void
  private readonly retryDelayMs: number
  private readonly retryAttempts: number
  /** Per resource, a number that changes with every change queued: a retry of older work is dropped. */
  private readonly generations = new Map<string, number>()
  private serial = 0
  private readonly retries = new Set<ReturnType<typeof setTimeout>>()
  private readonly entries = new Map<string, Entry>()
  private readonly resources = new Map<number, string>()
  private readonly listeners = new Set<(event: OrdinalEvent) => void>()
  private readonly pending = new Map<string, Pending>()
  private readonly running = new Set<string>()
  private waiters: (() => void)[] = []
  private nextOrdinal = 0

  constructor(init: SearchIndexerInit) {
    this.index = init.index
    this.realm = init.realm
    this.concurrency = init.concurrency ?? 4
    this.onError = init.onError ?? (() => {})
    this.retryDelayMs = init.retry?.delayMs ?? 1000
    this.retryAttempts = init.retry?.attempts ?? 0
  }

  /** Cancels the retries waiting to run (changes followed are still queued until unsubscribed). */
  stop(): void {
    for (const timer of this.retries) clearTimeout(timer)
    this.retries.clear()
  }

  /** Follows the store's changes from now on. Returns a function that stops following. */
  follow(store: MetadataStore): () => void {
    return store.onChange((event: ChangeEvent) => {
      this.enqueue(event.resourceId, { store, group: event.group, deleted: event.type === 'deleted' })
    })
  }

  /**
   * Indexes every resource of `groups` as the store has it now, and removes every other resource from
   * the index: what a node does on start (the index lives in memory), or to repair. Changes followed
   * meanwhile are not lost: each resource is read when its turn comes, so the newest state wins.
   */
  async rebuild(store: MetadataStore, groups: Iterable<string>): Promise<void> {
    const seen = new Set<string>()
    for (const group of groups) {
      let cursor: string | undefined
      do {
        const page = await store.listResources(
          group,
          cursor === undefined ? { limit: 1000 } : { limit: 1000, cursor },
        )
        for (const { resourceId } of page.items) {
          seen.add(resourceId)
          this.enqueue(resourceId, { store, group, deleted: false })
        }
        cursor = page.nextCursor
      } while (cursor !== undefined)
    }
    for (const [resourceId, entry] of this.entries) {
      if (!seen.has(resourceId)) this.enqueue(resourceId, { store, group: entry.group, deleted: true })
    }
    await this.idle()
  }

  /**
   * Takes over the ordinals of documents already in the index (`FlexSearchIndex.load`'s `entries()`),
   * telling the ordinal listeners, so a node can search at once and `rebuild` afterwards: known resources
   * keep their ordinals, new ordinals start after the highest. Rejects with `InvalidInput` (and takes
   * nothing) when an entry's path is not this realm's path of its resource, or an ordinal or resource
   * repeats or is already known.
   */
  restore(entries: Iterable<{ ordinal: number; resourceId: string; group: string; path: string }>): void {
    const taken: Entry[] = []
    const ids: string[] = []
    const seen = new Set<string>()
    const ordinals = new Set<number>()
    for (const { ordinal, resourceId, group, path } of entries) {
      const expected = `/${this.realm}/g/${group}/meta/${resourceId}`
      if (path !== expected || ordinals.has(ordinal) || seen.has(resourceId)) {
        throw new MetadataError('InvalidInput', `Cannot restore ${resourceId}: path or ordinal does not fit`)
      }
      if (this.entries.has(resourceId) || this.resources.has(ordinal)) {
        throw new MetadataError('InvalidInput', `Cannot restore ${resourceId}: already indexed`)
      }
      ordinals.add(ordinal)
      seen.add(resourceId)
      ids.push(resourceId)
      taken.push({ ordinal, group, path })
    }
    for (const [position, entry] of taken.entries()) {
      const resourceId = ids[position]!
      this.entries.set(resourceId, entry)
      this.resources.set(entry.ordinal, resourceId)
      this.nextOrdinal = Math.max(this.nextOrdinal, entry.ordinal + 1)
      this.tell({ type: 'added', resourceId, ...entry })
    }
  }

  /** Resolves once every change queued so far is in the index. */
  idle(): Promise<void> {
    if (this.pending.size === 0 && this.running.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** Calls `listener` for every ordinal given or taken from now on; returns a function that unsubscribes. */
  onOrdinal(listener: (event: OrdinalEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  ordinalOf(resourceId: string): number | undefined {
    return this.entries.get(resourceId)?.ordinal
  }

  resourceOf(ordinal: number): string | undefined {
    return this.resources.get(ordinal)
  }

  /** Every indexed resource with its ordinal and path: what a `UniverseIndex` starts from. */
  *ordinals(): IterableIterator<OrdinalEvent> {
    for (const [resourceId, { ordinal, group, path }] of this.entries) {
      yield { type: 'added', ordinal, resourceId, group, path }
    }
  }

  /** How many resources are indexed. */
  get size(): number {
    return this.entries.size
  }

  private enqueue(resourceId: string, work: Pending): void {
    this.serial += 1
    this.generations.set(resourceId, this.serial)
    this.pending.set(resourceId, work)
    this.pump()
  }

  private scheduleRetry(resourceId: string, work: Pending, error: unknown): void {
    const attempt = (work.attempt ?? 0) + 1
    if (attempt > this.retryAttempts) {
      this.onError(error, resourceId)
      return
    }
    const generation = this.generations.get(resourceId)
    const timer = setTimeout(
      () => {
        this.retries.delete(timer)
        if (this.generations.get(resourceId) === generation) this.enqueue(resourceId, { ...work, attempt })
      },
      this.retryDelayMs * 2 ** (attempt - 1),
    )
    timer.unref?.()
    this.retries.add(timer)
  }

  private pump(): void {
    for (const [resourceId, work] of this.pending) {
      if (this.running.size >= this.concurrency) return
      if (this.running.has(resourceId)) continue
      this.pending.delete(resourceId)
      this.running.add(resourceId)
      void this.process(resourceId, work).finally(() => {
        this.running.delete(resourceId)
        this.pump()
        if (this.pending.size === 0 && this.running.size === 0) {
          const waiters = this.waiters
          this.waiters = []
          for (const resolve of waiters) resolve()
        }
      })
    }
  }

  private async process(resourceId: string, work: Pending): Promise<void> {
    try {
      if (work.deleted) {
        await this.release(resourceId)
        return
      }
      let crate: unknown
      try {
        crate = await work.store.get(resourceId)
      } catch (error) {
        if (isMetadataError(error, 'Unavailable')) {
          this.scheduleRetry(resourceId, work, error)
          return
        }
        if (!isMetadataError(error, 'NotFound')) throw error
        await this.release(resourceId)
        return
      }
      let entry = this.entries.get(resourceId)
      if (entry !== undefined && entry.group !== work.group) {
        await this.release(resourceId)
        entry = undefined
      }
      const added = entry === undefined
      entry ??= this.assign(work.group, resourceId)
      const ref = { resourceId, group: work.group }
      await this.index.index(searchDocumentOf(crate, ref, entry.ordinal, entry.path))
      if (added) {
        this.entries.set(resourceId, entry)
        this.resources.set(entry.ordinal, resourceId)
        this.tell({ type: 'added', resourceId, ...entry })
      }
    } catch (error) {
      this.onError(error, resourceId)
    }
  }

  private assign(group: string, resourceId: string): Entry {
    if (this.nextOrdinal > MAX_ORDINAL) throw new RangeError('No u32 ordinals left: rebuild the index')
    const ordinal = this.nextOrdinal
    this.nextOrdinal += 1
    return { ordinal, group, path: `/${this.realm}/g/${group}/meta/${resourceId}` }
  }

  private async release(resourceId: string): Promise<void> {
    const entry = this.entries.get(resourceId)
    if (entry === undefined) return
    this.entries.delete(resourceId)
    this.resources.delete(entry.ordinal)
    this.generations.delete(resourceId)
    this.tell({ type: 'removed', resourceId, ...entry })
    await this.index.remove(resourceId)
  }

  private tell(event: OrdinalEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // A listener's failure is its own; the index and the other listeners go on.
      }
    }
  }
}
