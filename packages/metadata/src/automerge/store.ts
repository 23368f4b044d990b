/**
 * The real `MetadataStore`: one Automerge document per resource, a catalog document listing them (see
 * `schema.ts`), synced by the automerge-repo `Repo` the store is given — its storage adapter makes the
 * documents durable (use `FsyncStorageAdapter` from `@aruna/platform`), its network adapters carry them to
 * other nodes. The store does not build the Repo, so the node decides on storage, network and share
 * policy (which peers get which document).
 *
 * Each operation checks its input, makes its change in one synchronous step (so concurrent calls on one
 * store never lose each other's edits, and concurrent calls on different nodes merge), tells the
 * listeners, and resolves once the Repo has written the change to its storage. Changes that arrive by
 * sync are reported to listeners with `origin: 'remote'`.
 */
import { type UlidFactory, ulidFactory } from '@aruna/platform'
import type {
  AutomergeUrl,
  DocHandle,
  DocHandleEncodedChangePayload,
  DocumentId,
  Repo,
} from '@automerge/automerge-repo'
import { isValidAutomergeUrl, parseAutomergeUrl } from '@automerge/automerge-repo'
import { crateName, newCrate, readCrate } from '../crate.js'
import { checkEntity, checkPropertyName, checkValue } from '../crate-edits.js'
import { checkLimit, decodeCursor, encodeCursor } from '../cursor.js'
import { MetadataError } from '../errors.js'
import { checkId } from '../identifiers.js'
import { checkObjectLink } from '../object-link.js'
import type {
  ChangeEvent,
  ChangeListener,
  ChangeOptions,
  Crate,
  CreateResourceInit,
  Entity,
  HistoryEntry,
  ImportOptions,
  JsonValue,
  ListOptions,
  MetadataStore,
  ObjectLink,
  Page,
  ResourceRef,
  ResourceSummary,
} from '../port.js'
import { readValidCrate } from '../validation/validate.js'
import { CatalogView, catalogDiff, catalogEntry, catalogShard, emptyShards } from './catalog.js'
import {
  changeOptions,
  changeRecordOf,
  checkCreateInit,
  checkStorable,
  findDocument,
  imm,
  storeError,
} from './change-input.js'
import {
  addDocEntity,
  crateOf,
  fillResourceDoc,
  linkDocObject,
  removeDocEntity,
  removeDocProperty,
  rootNameOf,
  setDocProperty,
} from './crate-doc.js'
import { historyOf } from './history.js'
import { DocumentRemovals, ResidentDocuments } from './residents.js'
import { CATALOG_KIND, type CatalogDoc, type ResourceDoc, SCHEMA_VERSION } from './schema.js'
import { textOf } from './values.js'

export interface AutomergeMetadataStoreOptions {
  /** The Repo holding the documents (storage, network and share policy are its business). */
  readonly repo: Repo
  /** Recorded as the actor of every change this store makes (e.g. the node's peer id). Default: the Repo's peer id. */
  readonly actor?: string
  /** The clock. Default: `Date.now`. */
  readonly now?: () => number
  /** How long loading a document may take before an operation fails with `Unavailable`. Default: 10 s. */
  readonly loadTimeoutMs?: number
  /**
   * Resource documents unused this long are written to storage and dropped from memory (checked every
   * `idleMs / 2`, at least every second). Default: never; `evictIdle()` does it on demand. Has no effect
   * without a storage adapter.
   */
  readonly idleMs?: number
  /**
   * At most this many resource documents stay in memory: beyond it, the least recently used are written
   * to storage and dropped (in the background, right after the operation that went over). Bounds the
   * store's memory whatever the number of resources (about 90 KB per resident document). Default: no
   * bound. Has no effect without a storage adapter.
   */
  readonly maxResident?: number
  /** Called when a change listener throws. Default: the error is dropped. */
  readonly onListenerError?: (error: unknown, event: ChangeEvent) => void
  /**
   * What `importCrate` asks of a crate: `ro-crate` (default) refuses one that breaks an RO-Crate MUST rule
   * (`validateCrate`); `structure` only what the store cannot hold (not JSON, no `@graph` of entities with
   * unique ids), for importing legacy crates as they are.
   */
  readonly validation?: 'ro-crate' | 'structure'
}

export interface OpenAutomergeMetadataStoreOptions extends AutomergeMetadataStoreOptions {
  /** The catalog document's URL (`automerge:…`), from `catalogUrl` of the store that created it. */
  readonly catalogUrl: string
}

const DEFAULT_LOAD_TIMEOUT_MS = 10_000
const LIST_CURSOR = 'resources'

export class AutomergeMetadataStore implements MetadataStore {
  readonly #repo: Repo
  readonly #actor: string
  readonly #now: () => number
  readonly #newResourceId: UlidFactory
  readonly #loadTimeoutMs: number
  readonly #onListenerError: (error: unknown, event: ChangeEvent) => void
  readonly #validation: 'ro-crate' | 'structure'
  readonly #catalogHandle: DocHandle<CatalogDoc>
  readonly #residents: ResidentDocuments
  /** The heads last seen of each resource document, to tell a change that arrived while it was evicted. */
  readonly #knownHeads = new Map<string, string>()
  readonly #listeners = new Set<ChangeListener>()
  readonly #removals: DocumentRemovals
  readonly #timer: ReturnType<typeof setInterval> | undefined
  #catalog: CatalogView
  /** Above 0 while this store changes a document: the change events it causes are its own. */
  #local = 0
  #closed = false
  readonly #maxResident: number | undefined
  /** The background eviction beyond `maxResident` under way, and whether another pass is wanted. */
  #trimming: Promise<void> | undefined
  #trimAgain = false

  private constructor(options: AutomergeMetadataStoreOptions, catalogHandle: DocHandle<CatalogDoc>) {
    this.#repo = options.repo
    this.#actor = options.actor ?? String(options.repo.peerId)
    this.#now = options.now ?? Date.now
    this.#newResourceId = ulidFactory({ now: this.#now })
    this.#loadTimeoutMs = options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS
    this.#onListenerError = options.onListenerError ?? (() => {})
    this.#validation = options.validation ?? 'ro-crate'
    const max = options.maxResident
    if (max !== undefined && !(Number.isSafeInteger(max) && max >= 1)) {
      throw new MetadataError('InvalidInput', 'maxResident must be a positive integer')
    }
    this.#maxResident = max
    this.#catalogHandle = catalogHandle
    this.#catalog = new CatalogView(catalogHandle.doc())
    this.#residents = new ResidentDocuments(options.repo, this.#now, this.#loadTimeoutMs, {
      held: (resourceId, handle) => this.#held(resourceId, handle),
      changed: (resourceId, payload) => this.#resourceChanged(resourceId, payload),
    })
    this.#removals = new DocumentRemovals(options.repo)
    catalogHandle.on('heads-changed', this.#catalogChanged)
    options.repo.on('doc-metrics', this.#documentSynced)
    const idleMs = options.idleMs
    if (idleMs !== undefined) {
      this.#timer = setInterval(() => void this.evictIdle(idleMs).catch(() => {}), Math.max(1000, idleMs / 2))
      this.#timer.unref()
    }
  }

  /** Creates a new, empty catalog (once per realm, on its first node). */
  static async create(options: AutomergeMetadataStoreOptions): Promise<AutomergeMetadataStore> {
    const handle = options.repo.create<CatalogDoc>()
    const now = (options.now ?? Date.now)()
    handle.change(
      (doc) => {
        doc.kind = imm(CATALOG_KIND)
        doc.schema = SCHEMA_VERSION
        doc.shards = emptyShards()
      },
      changeOptions({
        message: 'create catalog',
        actor: options.actor ?? String(options.repo.peerId),
        time: now,
      }),
    )
    await options.repo.flush([handle.documentId])
    return new AutomergeMetadataStore(options, handle)
  }

  /**
   * Opens the catalog at `catalogUrl`, from the Repo's storage or from its peers.
   * @throws `NotFound` when the catalog cannot be found within `loadTimeoutMs`; `InvalidInput` for a URL
   *   that is malformed or names a document that is not a catalog.
   */
  static async open(options: OpenAutomergeMetadataStoreOptions): Promise<AutomergeMetadataStore> {
    if (!isValidAutomergeUrl(options.catalogUrl)) {
      throw new MetadataError('InvalidInput', 'The catalog URL is not an automerge: URL')
    }
    const handle = await findDocument<CatalogDoc>(
      options.repo,
      options.catalogUrl,
      options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS,
    )
    if (handle === undefined) throw new MetadataError('NotFound', 'The catalog document could not be found')
    if (textOf(handle.doc().kind) !== CATALOG_KIND) {
      throw new MetadataError('InvalidInput', 'The document is not a metadata catalog')
    }
    return new AutomergeMetadataStore(options, handle)
  }

  /** The catalog document's URL: what another node needs to open the same store. */
  get catalogUrl(): AutomergeUrl {
    return this.#catalogHandle.url
  }

  /** How many resource documents this store holds in memory now. */
  get residentCount(): number {
    return this.#residents.size
  }

  async createResource(init: CreateResourceInit): Promise<ResourceRef> {
    const { group, resourceId, name, description, properties } = checkCreateInit(init, (requested) =>
      this.#freshId(requested),
    )
    const record = changeRecordOf(init, 'create resource')
    const crate = newCrate({
      name,
      ...(description === undefined ? {} : { description }),
      properties,
      now: this.#now(),
    })
    return this.#store(group, resourceId, crate, record)
  }

  async importCrate(group: string, json: unknown, options: ImportOptions = {}): Promise<ResourceRef> {
    checkId('group', group)
    const record = changeRecordOf(options, 'import crate')
    const resourceId = this.#freshId(options?.resourceId)
    const crate = this.#validation === 'structure' ? readCrate(json) : readValidCrate(json)
    checkStorable(crate as unknown as JsonValue, 'InvalidCrate')
    return this.#store(group, resourceId, crate, record)
  }

  async get(resourceId: string): Promise<Crate> {
    return crateOf((await this.#open(resourceId)).doc())
  }

  async resolve(resourceId: string): Promise<ResourceRef> {
    return { resourceId, group: this.#record(resourceId).group }
  }

  async exportCrate(resourceId: string): Promise<string> {
    return `${JSON.stringify(await this.get(resourceId), null, 2)}\n`
  }

  async setProperty(
    resourceId: string,
    entityId: string,
    property: string,
    value: JsonValue,
    options?: ChangeOptions,
  ): Promise<void> {
    await this.#edit(resourceId, options, `set ${String(property)} of ${String(entityId)}`, (doc) => {
      const name = checkPropertyName(property)
      const copy = checkValue(value, name)
      checkStorable(copy, 'InvalidInput')
      setDocProperty(doc, entityId, name, copy)
    })
  }

  async removeProperty(
    resourceId: string,
    entityId: string,
    property: string,
    options?: ChangeOptions,
  ): Promise<void> {
    await this.#edit(resourceId, options, `remove ${String(property)} of ${String(entityId)}`, (doc) =>
      removeDocProperty(doc, entityId, checkPropertyName(property)),
    )
  }

  async addEntity(resourceId: string, entity: Entity, options?: ChangeOptions): Promise<void> {
    await this.#edit(resourceId, options, `add entity ${String(entity?.['@id'])}`, (doc) => {
      const copy = checkEntity(entity)
      checkStorable(copy, 'InvalidInput')
      addDocEntity(doc, copy)
    })
  }

  async removeEntity(resourceId: string, entityId: string, options?: ChangeOptions): Promise<void> {
    await this.#edit(resourceId, options, `remove entity ${String(entityId)}`, (doc) =>
      removeDocEntity(doc, entityId),
    )
  }

  async linkObject(
    resourceId: string,
    entityId: string,
    link: ObjectLink,
    options?: ChangeOptions,
  ): Promise<void> {
    await this.#edit(resourceId, options, `link ${String(entityId)} to an object version`, (doc) =>
      linkDocObject(doc, entityId, checkObjectLink(link)),
    )
  }

  async listResources(group: string, options: ListOptions = {}): Promise<Page<ResourceSummary>> {
    checkId('group', group)
    const limit = checkLimit(options.limit, 100)
    let after = ''
    if (options.cursor !== undefined) {
      const cursor = decodeCursor(options.cursor, LIST_CURSOR, { group: 'string', after: 'string' })
      if (cursor.group !== group)
        throw new MetadataError('InvalidCursor', 'The cursor belongs to another group')
      after = cursor.after as string
    }
    const page = this.#catalog.page(group, after, limit)
    const items = page.ids.map((resourceId) => ({ resourceId, group, name: this.#nameOf(resourceId) }))
    const last = items.at(-1)
    return page.more && last
      ? { items, nextCursor: encodeCursor({ kind: LIST_CURSOR, group, after: last.resourceId }) }
      : { items }
  }

  async deleteResource(resourceId: string): Promise<void> {
    const record = this.#record(resourceId)
    this.#changeCatalog(`delete resource ${resourceId}`, undefined, (doc) => {
      delete doc.shards[catalogShard(resourceId)]?.[resourceId]
    })
    this.#residents.release(resourceId)
    this.#knownHeads.delete(resourceId)
    this.#emit({ type: 'deleted', resourceId, group: record.group, origin: 'local' })
    await this.#repo.flush([this.#catalogHandle.documentId])
    this.#removals.schedule(record.url)
  }

  async history(resourceId: string): Promise<HistoryEntry[]> {
    return historyOf((await this.#open(resourceId)).doc())
  }

  /** The heads of the resource's document (for sync checks): the same on two nodes means the same document. */
  async heads(resourceId: string): Promise<string[]> {
    return [...(await this.#open(resourceId)).heads()]
  }

  /**
   * The automerge document id of a resource's document, from the catalog (nothing is loaded), or
   * undefined for a resource the catalog does not list. For placement: who holds the resource.
   */
  documentIdOf(resourceId: string): DocumentId | undefined {
    const url = this.#catalog.record(resourceId)?.url
    return url === undefined || !isValidAutomergeUrl(url) ? undefined : parseAutomergeUrl(url).documentId
  }

  /**
   * The resource whose document is `documentId`, with its group, or undefined (the catalog itself, or a
   * document the catalog does not list). For placement: the factor of a document goes by its group.
   */
  resourceOfDocument(documentId: string): { resourceId: string; group: string } | undefined {
    const resourceId = this.#catalog.resourceOfUrl(`automerge:${documentId}`)
    const group = resourceId === undefined ? undefined : this.#catalog.record(resourceId)?.group
    return resourceId === undefined || group === undefined ? undefined : { resourceId, group }
  }

  /** Every resource id in the catalog (of one group, when given), ascending. */
  resourceIds(group?: string): string[] {
    if (group !== undefined) return this.#catalog.page(group, '', Number.MAX_SAFE_INTEGER).ids
    return this.#catalog.ids().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  }

  /** The heads of the catalog document. */
  catalogHeads(): string[] {
    return [...this.#catalogHandle.heads()]
  }

  onChange(listener: ChangeListener): () => void {
    const subscription: ChangeListener = (event) => listener(event)
    this.#listeners.add(subscription)
    return () => {
      this.#listeners.delete(subscription)
    }
  }

  /**
   * Writes the resource documents unused for `idleMs` (default: all) to storage and drops them from
   * memory; they load again when used. Returns how many were dropped (none without a storage adapter).
   */
  evictIdle(idleMs = 0): Promise<number> {
    return this.#residents.evictIdle(idleMs)
  }

  /** Writes every document this store holds to storage. */
  async flush(): Promise<void> {
    const ids = [this.#catalogHandle.documentId]
    for (const resourceId of this.#catalog.ids()) {
      const handle = this.#residents.handle(resourceId)
      if (handle?.isReady()) ids.push(handle.documentId)
    }
    await this.#repo.flush(ids)
  }

  /** Writes everything to storage and stops listening; the Repo stays open (it is the caller's). */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    await this.#trimming
    await this.#removals.finish()
    await this.flush()
    this.#catalogHandle.off('heads-changed', this.#catalogChanged)
    this.#repo.off('doc-metrics', this.#documentSynced)
    this.#residents.releaseAll()
    this.#listeners.clear()
  }

  // -------------------------------------------------------------------------------------------------
  // Changes

  #freshId(requested: unknown): string {
    if (requested === undefined) return this.#newResourceId()
    const resourceId = checkId('resource', requested)
    if (this.#catalog.record(resourceId) !== undefined) {
      throw new MetadataError('AlreadyExists', `A resource ${resourceId} already exists`)
    }
    return resourceId
  }

  async #store(
    group: string,
    resourceId: string,
    crate: Crate,
    record: { message: string; author?: string },
  ): Promise<ResourceRef> {
    const handle = this.#repo.create<ResourceDoc>()
    try {
      this.#local += 1
      handle.change((doc) => fillResourceDoc(doc, resourceId, group, crate), this.#changeOptions(record))
    } catch (error) {
      this.#repo.delete(handle.documentId)
      throw storeError(error, 'InvalidInput')
    } finally {
      this.#local -= 1
    }
    this.#changeCatalog(record.message, record.author, (doc) => {
      const shard = doc.shards[catalogShard(resourceId)]
      if (shard !== undefined)
        shard[resourceId] = catalogEntry(group, handle.url, crateName(crate), this.#now())
    })
    this.#residents.hold(resourceId, handle.url, handle)
    this.#emit({ type: 'created', resourceId, group, origin: 'local' })
    await this.#repo.flush([handle.documentId, this.#catalogHandle.documentId])
    return { resourceId, group }
  }

  /**
   * Applies one intention to the resource's document. The edit checks its arguments before changing
   * anything, so a refused call leaves the document, the history and the listeners untouched; an edit
   * that changes nothing (removing an absent property) makes no change either.
   */
  async #edit(
    resourceId: string,
    options: ChangeOptions | undefined,
    summary: string,
    edit: (doc: ResourceDoc) => unknown,
  ): Promise<void> {
    let handle = await this.#open(resourceId)
    const record = changeRecordOf(options, summary)
    // The document may have been evicted while this call waited; then it is loaded again.
    if (!handle.isReady()) handle = await this.#open(resourceId)
    const before = handle.heads().join(',')
    try {
      this.#local += 1
      handle.change((doc) => void edit(doc), this.#changeOptions(record))
    } catch (error) {
      throw storeError(error, 'InvalidInput')
    } finally {
      this.#local -= 1
    }
    const after = handle.heads().join(',')
    if (after === before) return
    this.#knownHeads.set(resourceId, after)
    const { group } = this.#record(resourceId)
    this.#syncName(resourceId, handle.doc(), record.author)
    this.#emit({ type: 'updated', resourceId, group, origin: 'local' })
    await this.#repo.flush([handle.documentId, this.#catalogHandle.documentId])
  }

  #changeCatalog(message: string, author: string | undefined, change: (doc: CatalogDoc) => void): void {
    try {
      this.#local += 1
      this.#catalogHandle.change(
        change,
        this.#changeOptions(author === undefined ? { message } : { message, author }),
      )
    } finally {
      this.#local -= 1
    }
  }

  /** Keeps the catalog's copy of the root's name equal to the document's. */
  #syncName(resourceId: string, doc: ResourceDoc, author?: string): void {
    const record = this.#catalog.record(resourceId)
    const name = rootNameOf(doc)
    if (record === undefined || record.name === name) return
    this.#changeCatalog(`name of ${resourceId}`, author, (catalog) => {
      const entry = catalog.shards[catalogShard(resourceId)]?.[resourceId]
      if (entry !== undefined) entry.name = imm(name)
    })
  }

  #changeOptions(record: { message: string; author?: string }): { message: string; time: number } {
    return changeOptions({ ...record, actor: this.#actor, time: this.#now() })
  }

  // -------------------------------------------------------------------------------------------------
  // Documents

  #record(resourceId: string): { group: string; url: string; name: string } {
    const record = this.#catalog.record(resourceId)
    if (record === undefined) throw new MetadataError('NotFound', `No resource ${String(resourceId)}`)
    return record
  }

  #nameOf(resourceId: string): string {
    const handle = this.#residents.handle(resourceId)
    return handle?.isReady() ? rootNameOf(handle.doc()) : (this.#catalog.record(resourceId)?.name ?? '')
  }

  /** The resource's document, ready: held, loaded from storage, or fetched from peers. */
  #open(resourceId: string): Promise<DocHandle<ResourceDoc>> {
    const { url } = this.#record(resourceId)
    return this.#residents.open(resourceId, url, () => this.#catalog.record(resourceId)?.url === url)
  }

  /** Changes that arrived while the document was not held are reported when it is held again. */
  #held(resourceId: string, handle: DocHandle<ResourceDoc>): void {
    const heads = handle.heads().join(',')
    const known = this.#knownHeads.get(resourceId)
    this.#knownHeads.set(resourceId, heads)
    if (known !== undefined && known !== heads && this.#local === 0)
      this.#remoteUpdate(resourceId, handle.doc())
    this.#trim()
  }

  /** Starts (or asks for one more) background pass evicting the least used documents beyond `maxResident`. */
  #trim(): void {
    const max = this.#maxResident
    if (max === undefined || this.#residents.size <= max || this.#closed) return
    if (this.#trimming !== undefined) {
      this.#trimAgain = true
      return
    }
    this.#trimming = (async () => {
      do {
        this.#trimAgain = false
        // Let the operation that went over finish with its document first.
        await new Promise((resolve) => setImmediate(resolve))
        if (this.#closed) return
        await this.#residents.evictBeyond(max).catch(() => {})
      } while (this.#trimAgain && !this.#closed)
    })().finally(() => {
      this.#trimming = undefined
    })
  }

  // -------------------------------------------------------------------------------------------------
  // Changes from elsewhere

  readonly #catalogChanged = (payload: DocHandleEncodedChangePayload<CatalogDoc>): void => {
    const before = this.#catalog
    this.#catalog = new CatalogView(payload.doc)
    if (this.#local > 0 || this.#closed) return
    const { created, deleted } = catalogDiff(before, this.#catalog)
    for (const record of deleted) {
      this.#residents.release(record.resourceId)
      this.#knownHeads.delete(record.resourceId)
      this.#removals.schedule(record.url)
      this.#emit({ type: 'deleted', resourceId: record.resourceId, group: record.group, origin: 'remote' })
    }
    for (const record of created) {
      this.#emit({ type: 'created', resourceId: record.resourceId, group: record.group, origin: 'remote' })
    }
  }

  #resourceChanged(resourceId: string, payload: DocHandleEncodedChangePayload<ResourceDoc>): void {
    this.#knownHeads.set(resourceId, payload.handle.heads().join(','))
    if (this.#local > 0 || this.#closed) return
    this.#remoteUpdate(resourceId, payload.doc)
  }

  #remoteUpdate(resourceId: string, doc: ResourceDoc): void {
    const record = this.#catalog.record(resourceId)
    if (record === undefined) return
    this.#syncName(resourceId, doc)
    this.#emit({ type: 'updated', resourceId, group: record.group, origin: 'remote' })
  }

  /** A peer sent a change to a resource document this store does not hold: hold it, to hear of the next. */
  readonly #documentSynced = (metric: { type: string; documentId?: DocumentId }): void => {
    if (metric.type !== 'receive-sync-message' || metric.documentId === undefined || this.#closed) return
    const url = `automerge:${metric.documentId}`
    const resourceId = this.#catalog.resourceOfUrl(url)
    if (resourceId === undefined || this.#residents.has(resourceId)) return
    const handle = this.#repo.handles[metric.documentId] as DocHandle<ResourceDoc> | undefined
    if (handle?.isReady()) this.#residents.hold(resourceId, url, handle)
  }

  #emit(event: ChangeEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener({ ...event })
      } catch (error) {
        this.#onListenerError(error, { ...event })
      }
    }
  }
}
