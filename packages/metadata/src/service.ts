/**
 * `MetadataService`: the permission-checked layer over a `MetadataStore`. The store checks input but not
 * callers; the service takes the caller (`Principal`) first, checks one access on the resource's path
 * `/{realm}/g/{group}/meta/{resource}` with the `Authorizer` (DENY wins, WRITE implies READ), and only
 * then calls the store.
 *
 * | operation                                                | access                         |
 * | -------------------------------------------------------- | ------------------------------ |
 * | `createResource`, `importCrate`                          | WRITE on the new resource      |
 * | `get`, `resolve`, `exportCrate`, `history`               | READ                           |
 * | `setProperty`, `removeProperty`, `addEntity`             | WRITE                          |
 * | `removeEntity`, `linkObject`, `deleteResource`           | WRITE                          |
 * | `listResources`                                          | READ, per listed resource      |
 * | `onChange`                                               | READ, per event                |
 *
 * Order of checks: input shape (`InvalidInput`: caller, ids, options) → permission → the store's own
 * checks. Ids are checked before they go into a path, so no id can reach into another group's subtree.
 *
 * No existence leak: a resource's group comes from the store, so for a caller who may not READ it the
 * service answers `NotFound`, with the same message as for an id that names nothing. Only a caller who
 * may READ a resource but not WRITE it hears `AccessDenied`. Resource ids are realm-wide, so a caller
 * allowed to create a resource with an id of their choice still learns that the id is taken
 * (`AlreadyExists`) wherever it is; generated ids (ULIDs) never collide.
 */
import { type Access, type Authorizer, isAuthError, type Principal } from '@aruna/auth'
import { ulidFactory } from '@aruna/platform'
import { checkLimit } from './cursor.js'
import { isMetadataError, MetadataError } from './errors.js'
import { checkId, isPathSegmentId } from './identifiers.js'
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
} from './port.js'

export type { Principal } from '@aruna/auth'

export interface MetadataServiceInit {
  readonly store: MetadataStore
  readonly authorizer: Authorizer
  /** The realm id (the realm's public key); the first segment of every resource path. */
  readonly realmId: string
}

/** The service's operations, as named in error messages. */
export type MetadataOperation =
  | 'createResource'
  | 'get'
  | 'resolve'
  | 'setProperty'
  | 'removeProperty'
  | 'addEntity'
  | 'removeEntity'
  | 'linkObject'
  | 'listResources'
  | 'deleteResource'
  | 'importCrate'
  | 'exportCrate'
  | 'history'
  | 'onChange'

/** Rows per `listResources` page when the caller names no limit (as the stores). */
const DEFAULT_LIST_LIMIT = 100

/** One path segment, with none of the characters or forms that would make a path mean two things. */
const REALM_ID = /^[A-Za-z0-9._~-]{1,256}$/

export class MetadataService {
  readonly realmId: string
  readonly #store: MetadataStore
  readonly #authorizer: Authorizer
  readonly #newResourceId = ulidFactory()

  /** @throws MetadataError('InvalidInput') when `realmId` cannot be a path segment. */
  constructor(init: MetadataServiceInit) {
    if (typeof init.realmId !== 'string' || !REALM_ID.test(init.realmId) || /^\.\.?$/.test(init.realmId)) {
      throw invalid('The realm id must be one path segment')
    }
    this.realmId = init.realmId
    this.#store = init.store
    this.#authorizer = init.authorizer
  }

  /**
   * Creates a resource (see `MetadataStore.createResource`) after checking WRITE on its path. Without a
   * `resourceId` the service generates the id (a ULID) *before* the check, so the check is on the exact
   * path the resource will have: a rule on `/{realm}/g/{group}/meta/*` (or `/**` above it) allows it,
   * a rule naming one resource id does not. The caller is recorded as `author` unless one is given.
   * @throws `AccessDenied` when the caller may not WRITE there; the store's errors otherwise.
   */
  async createResource(caller: Principal, init: CreateResourceInit): Promise<ResourceRef> {
    const userId = checkCaller(caller, 'createResource')
    if (typeof init !== 'object' || init === null) throw invalid('createResource: expected resource details')
    const group = checkId('group', init.group)
    const resourceId =
      init.resourceId === undefined ? this.#newResourceId() : checkId('resource', init.resourceId)
    const author = authorOf(init, userId, 'createResource')
    await this.#require(caller, 'createResource', group, resourceId)
    return this.#store.createResource({ ...init, group, resourceId, author })
  }

  /**
   * Creates a resource from a whole crate (see `MetadataStore.importCrate`) after checking WRITE on the
   * new resource's path; the id is generated first when not given, as in `createResource`.
   */
  async importCrate(
    caller: Principal,
    group: string,
    json: unknown,
    options: ImportOptions = {},
  ): Promise<ResourceRef> {
    const userId = checkCaller(caller, 'importCrate')
    const checkedGroup = checkId('group', group)
    const author = authorOf(options, userId, 'importCrate')
    const resourceId =
      options.resourceId === undefined ? this.#newResourceId() : checkId('resource', options.resourceId)
    await this.#require(caller, 'importCrate', checkedGroup, resourceId)
    return this.#store.importCrate(checkedGroup, json, { ...options, resourceId, author })
  }

  /** The resource's crate. `NotFound` when it does not exist or the caller may not READ it. */
  async get(caller: Principal, resourceId: string): Promise<Crate> {
    const ref = await this.#readable(caller, 'get', resourceId)
    return this.#store.get(ref.resourceId)
  }

  /** Which group the resource belongs to. `NotFound` when it does not exist or the caller may not READ it. */
  async resolve(caller: Principal, resourceId: string): Promise<ResourceRef> {
    return this.#readable(caller, 'resolve', resourceId)
  }

  /** The crate as `ro-crate-metadata.json` text. `NotFound` as `get`. */
  async exportCrate(caller: Principal, resourceId: string): Promise<string> {
    const ref = await this.#readable(caller, 'exportCrate', resourceId)
    return this.#store.exportCrate(ref.resourceId)
  }

  /** The resource's changes, oldest first. `NotFound` as `get`. */
  async history(caller: Principal, resourceId: string): Promise<HistoryEntry[]> {
    const ref = await this.#readable(caller, 'history', resourceId)
    return this.#store.history(ref.resourceId)
  }

  /**
   * Sets one property of one entity (see `MetadataStore.setProperty`). This and the other edits check
   * WRITE on the resource: `AccessDenied` for a caller who may READ it but not WRITE it, `NotFound` for
   * one who may not even READ it (or when it does not exist). The caller is the `author` unless given.
   */
  async setProperty(
    caller: Principal,
    resourceId: string,
    entityId: string,
    property: string,
    value: JsonValue,
    options?: ChangeOptions,
  ): Promise<void> {
    const change = await this.#writable(caller, 'setProperty', resourceId, options)
    await this.#store.setProperty(resourceId, entityId, property, value, change)
  }

  /** Removes one property of one entity; WRITE, as `setProperty`. */
  async removeProperty(
    caller: Principal,
    resourceId: string,
    entityId: string,
    property: string,
    options?: ChangeOptions,
  ): Promise<void> {
    const change = await this.#writable(caller, 'removeProperty', resourceId, options)
    await this.#store.removeProperty(resourceId, entityId, property, change)
  }

  /** Adds an entity to the graph; WRITE, as `setProperty`. */
  async addEntity(
    caller: Principal,
    resourceId: string,
    entity: Entity,
    options?: ChangeOptions,
  ): Promise<void> {
    const change = await this.#writable(caller, 'addEntity', resourceId, options)
    await this.#store.addEntity(resourceId, entity, change)
  }

  /** Removes an entity and every reference to it; WRITE, as `setProperty`. */
  async removeEntity(
    caller: Principal,
    resourceId: string,
    entityId: string,
    options?: ChangeOptions,
  ): Promise<void> {
    const change = await this.#writable(caller, 'removeEntity', resourceId, options)
    await this.#store.removeEntity(resourceId, entityId, change)
  }

  /** Links a data entity to an S3 object version; WRITE, as `setProperty`. */
  async linkObject(
    caller: Principal,
    resourceId: string,
    entityId: string,
    link: ObjectLink,
    options?: ChangeOptions,
  ): Promise<void> {
    const change = await this.#writable(caller, 'linkObject', resourceId, options)
    await this.#store.linkObject(resourceId, entityId, link, change)
  }

  /** Deletes the resource; WRITE, as `setProperty`. */
  async deleteResource(caller: Principal, resourceId: string): Promise<void> {
    await this.#writable(caller, 'deleteResource', resourceId, undefined)
    await this.#store.deleteResource(resourceId)
  }

  /**
   * One page of the group's resources that the caller may READ, ordered by resource id. Resources the
   * caller may not read are dropped, so a page may hold fewer than `limit` rows; the service reads store
   * pages until it has at least one visible row or the group is exhausted, so it never answers an empty
   * page with a cursor. `nextCursor` is present only when a visible row follows, and it always names the
   * last row of the page, never a hidden resource (the stores' cursors name the last resource they read).
   * The cost grows with the hidden resources skipped.
   */
  async listResources(
    caller: Principal,
    group: string,
    options: ListOptions = {},
  ): Promise<Page<ResourceSummary>> {
    checkCaller(caller, 'listResources')
    const checkedGroup = checkId('group', group)
    if (typeof options !== 'object' || options === null)
      throw invalid('listResources: options must be an object')
    const limit = checkLimit(options.limit, DEFAULT_LIST_LIMIT)
    let from = options.cursor
    for (;;) {
      const page = await this.#page(checkedGroup, from, limit)
      const visible = await Promise.all(page.items.map((item) => this.#listable(caller, checkedGroup, item)))
      const last = visible.lastIndexOf(true)
      if (last < 0) {
        if (page.nextCursor === undefined) return { items: [] }
        from = page.nextCursor
        continue
      }
      const items = page.items.filter((_, index) => visible[index])
      let after = page.nextCursor
      if (after !== undefined && last < page.items.length - 1) {
        // The store's cursor names a hidden resource: take the cursor of the page cut after the last
        // visible one instead. Should the listing have changed in between, read this stretch again.
        const cut = await this.#page(checkedGroup, from, last + 1)
        if (cut.items.at(-1)?.resourceId !== page.items[last]?.resourceId) continue
        after = cut.nextCursor
      }
      if (after === undefined || !(await this.#anyListable(caller, checkedGroup, after, limit)))
        return { items }
      return { items, nextCursor: after }
    }
  }

  /**
   * Calls `listener` for each change (see `MetadataStore.onChange`) to a resource the caller may READ at
   * the time the event is checked. The checks run asynchronously, one event after the other, so events
   * arrive in the store's order but after the call that made the change has resolved. An event that
   * cannot be decided (the authorizer fails, ids that are not path segments) is dropped: it fails closed.
   * Returns a function that unsubscribes; events still being checked are then dropped too.
   */
  onChange(caller: Principal, listener: ChangeListener): () => void {
    checkCaller(caller, 'onChange')
    if (typeof listener !== 'function') throw invalid('onChange: the listener must be a function')
    let active = true
    let queue: Promise<void> = Promise.resolve()
    const unsubscribe = this.#store.onChange((event) => {
      const copy: ChangeEvent = { ...event }
      queue = queue.then(async () => {
        const visible = active && (await this.#visible(caller, copy))
        // Also dropped when the caller unsubscribed while the check ran.
        if (!visible || !active) return
        try {
          listener(copy)
        } catch {
          // A listener's failure is its own; the next events are still delivered.
        }
      })
    })
    return () => {
      active = false
      unsubscribe()
    }
  }

  // -------------------------------------------------------------------------------------------------

  #path(group: string, resourceId: string): string {
    return `/${this.realmId}/g/${group}/meta/${resourceId}`
  }

  async #allowed(
    caller: Principal,
    operation: MetadataOperation,
    access: Access,
    group: string,
    resourceId: string,
  ): Promise<boolean> {
    try {
      return (await this.#authorizer.authorize(caller, access, this.#path(group, resourceId))).allowed
    } catch (err) {
      if (isAuthError(err, 'InvalidPath')) throw invalid(`${operation}: not a valid resource path`)
      throw err
    }
  }

  /** WRITE on a resource that does not exist yet (the caller names its group): `AccessDenied` if refused. */
  async #require(
    caller: Principal,
    operation: MetadataOperation,
    group: string,
    resourceId: string,
  ): Promise<void> {
    if (!(await this.#allowed(caller, operation, 'WRITE', group, resourceId))) {
      throw denied(operation, 'WRITE', this.#path(group, resourceId))
    }
  }

  /** The group of an existing resource; `NotFound` worded as for a refused READ. */
  async #locate(resourceId: string): Promise<ResourceRef> {
    let ref: ResourceRef
    try {
      ref = await this.#store.resolve(resourceId)
    } catch (err) {
      if (isMetadataError(err, 'NotFound')) throw notFound(resourceId)
      throw err
    }
    // A group that is not one segment (a hostile synced catalog) could name another group's path.
    if (!isPathSegmentId(ref.group)) throw notFound(resourceId)
    return ref
  }

  async #readable(caller: Principal, operation: MetadataOperation, resourceId: string): Promise<ResourceRef> {
    checkCaller(caller, operation)
    const ref = await this.#locate(checkId('resource', resourceId))
    if (!(await this.#allowed(caller, operation, 'READ', ref.group, ref.resourceId)))
      throw notFound(resourceId)
    return { resourceId: ref.resourceId, group: ref.group }
  }

  /** Checks the input, then WRITE on an existing resource; returns the change options with the author. */
  async #writable(
    caller: Principal,
    operation: MetadataOperation,
    resourceId: string,
    options: ChangeOptions | undefined,
  ): Promise<ChangeOptions> {
    const userId = checkCaller(caller, operation)
    const id = checkId('resource', resourceId)
    const change = { ...options, author: authorOf(options, userId, operation) }
    const { group } = await this.#locate(id)
    if (await this.#allowed(caller, operation, 'WRITE', group, id)) return change
    // Only a caller who may see the resource learns that it exists.
    if (await this.#allowed(caller, operation, 'READ', group, id)) {
      throw denied(operation, 'WRITE', this.#path(group, id))
    }
    throw notFound(id)
  }

  #page(group: string, cursor: string | undefined, limit: number): Promise<Page<ResourceSummary>> {
    return this.#store.listResources(group, cursor === undefined ? { limit } : { cursor, limit })
  }

  async #listable(caller: Principal, group: string, item: ResourceSummary): Promise<boolean> {
    if (item.group !== group || !isPathSegmentId(item.resourceId)) return false
    return this.#allowed(caller, 'listResources', 'READ', group, item.resourceId)
  }

  /** Whether a row the caller may READ follows `cursor`; stops at the first one. */
  async #anyListable(caller: Principal, group: string, cursor: string, limit: number): Promise<boolean> {
    let from: string | undefined = cursor
    while (from !== undefined) {
      const page = await this.#page(group, from, limit)
      for (const item of page.items) {
        if (await this.#listable(caller, group, item)) return true
      }
      from = page.nextCursor
    }
    return false
  }

  async #visible(caller: Principal, event: ChangeEvent): Promise<boolean> {
    if (!isPathSegmentId(event.group) || !isPathSegmentId(event.resourceId)) return false
    try {
      return await this.#allowed(caller, 'onChange', 'READ', event.group, event.resourceId)
    } catch {
      return false
    }
  }
}

function invalid(message: string): MetadataError {
  return new MetadataError('InvalidInput', message)
}

function notFound(resourceId: string): MetadataError {
  return new MetadataError('NotFound', `No resource ${resourceId}`)
}

function denied(operation: MetadataOperation, access: Access, path: string): MetadataError {
  return new MetadataError('AccessDenied', `${operation}: ${access} on ${path} refused`)
}

/** The caller's user id. */
function checkCaller(caller: Principal, operation: MetadataOperation): string {
  if (typeof caller !== 'object' || caller === null || typeof caller.userId !== 'string') {
    throw invalid(`${operation}: the caller must be a principal with a user id`)
  }
  return caller.userId
}

/** The author to record: the one given, or the caller. */
function authorOf(options: ChangeOptions | undefined, userId: string, operation: MetadataOperation): string {
  if (options === undefined) return userId
  if (typeof options !== 'object' || options === null)
    throw invalid(`${operation}: options must be an object`)
  if (options.author !== undefined && typeof options.author !== 'string') {
    throw invalid(`${operation}: the author must be text`)
  }
  return options.author ?? userId
}
