/**
 * An in-memory `MetadataStore` for tests of the layers above: each crate a plain object, edited in
 * place with the same crate edits the Automerge store applies inside its changes. Every operation
 * happens synchronously between awaits, so concurrent calls never lose each other's edits.
 */
import { type UlidFactory, ulidFactory } from '@aruna/platform'
import { crateName, newCrate, readCrate } from '../crate.js'
import {
  addGraphEntity,
  checkCreateInit,
  entityOrThrow,
  removeEntityProperty,
  removeGraphEntity,
  setEntityProperty,
} from '../crate-edits.js'
import { checkLimit, decodeCursor, encodeCursor } from '../cursor.js'
import { MetadataError } from '../errors.js'
import { checkId } from '../identifiers.js'
import { copyJson } from '../json.js'
import { checkObjectLink, objectLinkProperties, withArunaContext } from '../object-link.js'
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

export interface MemoryMetadataStoreInit {
  /** Recorded as the actor of every change; default `memory`. */
  actor?: string
  /** Milliseconds since the epoch; default `Date.now`. */
  now?: () => number
}

interface StoredResource {
  group: string
  crate: Crate
  history: HistoryEntry[]
}

const LIST_CURSOR = 'resources'

export class MemoryMetadataStore implements MetadataStore {
  private readonly resources = new Map<string, StoredResource>()
  private readonly listeners = new Set<ChangeListener>()
  private readonly actor: string
  private readonly now: () => number
  private readonly newResourceId: UlidFactory

  constructor(init: MemoryMetadataStoreInit = {}) {
    this.actor = init.actor ?? 'memory'
    this.now = init.now ?? Date.now
    this.newResourceId = ulidFactory({ now: this.now })
  }

  async createResource(init: CreateResourceInit): Promise<ResourceRef> {
    const { group, resourceId, name, description, properties } = checkCreateInit(init, (requested) =>
      this.freshId(requested),
    )
    const crate = newCrate({
      name,
      ...(description === undefined ? {} : { description }),
      properties,
      now: this.now(),
    })
    return this.store(group, resourceId, crate, checkMessage(init) ?? 'create resource')
  }

  async importCrate(group: string, json: unknown, options: ImportOptions = {}): Promise<ResourceRef> {
    checkId('group', group)
    const message = checkMessage(options)
    const resourceId = this.freshId(options.resourceId)
    const crate = copyJson(readCrate(json) as unknown as JsonValue) as unknown as Crate
    return this.store(group, resourceId, crate, message ?? 'import crate')
  }

  async get(resourceId: string): Promise<Crate> {
    return copyJson(this.resource(resourceId).crate as unknown as JsonValue) as unknown as Crate
  }

  async resolve(resourceId: string): Promise<ResourceRef> {
    return { resourceId, group: this.resource(resourceId).group }
  }

  async exportCrate(resourceId: string): Promise<string> {
    return `${JSON.stringify(this.resource(resourceId).crate, null, 2)}\n`
  }

  async setProperty(
    resourceId: string,
    entityId: string,
    property: string,
    value: JsonValue,
    options?: ChangeOptions,
  ): Promise<void> {
    this.change(resourceId, options, `set ${String(property)} of ${String(entityId)}`, (crate) =>
      setEntityProperty(crate, entityId, property, value),
    )
  }

  async removeProperty(
    resourceId: string,
    entityId: string,
    property: string,
    options?: ChangeOptions,
  ): Promise<void> {
    this.change(resourceId, options, `remove ${String(property)} of ${String(entityId)}`, (crate) =>
      removeEntityProperty(crate, entityId, property),
    )
  }

  async addEntity(resourceId: string, entity: Entity, options?: ChangeOptions): Promise<void> {
    this.change(resourceId, options, `add entity ${String(entity?.['@id'])}`, (crate) =>
      addGraphEntity(crate, entity),
    )
  }

  async removeEntity(resourceId: string, entityId: string, options?: ChangeOptions): Promise<void> {
    this.change(resourceId, options, `remove entity ${String(entityId)}`, (crate) =>
      removeGraphEntity(crate, entityId),
    )
  }

  async linkObject(
    resourceId: string,
    entityId: string,
    link: ObjectLink,
    options?: ChangeOptions,
  ): Promise<void> {
    this.change(resourceId, options, `link ${String(entityId)} to an object version`, (crate) => {
      const checked = checkObjectLink(link)
      entityOrThrow(crate, entityId)
      for (const [property, value] of Object.entries(objectLinkProperties(checked))) {
        setEntityProperty(crate, entityId, property, value)
      }
      const context = withArunaContext(crate['@context'])
      if (context !== undefined) crate['@context'] = context
    })
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
    const ids = [...this.resources]
      .filter(([id, resource]) => resource.group === group && id > after)
      .map(([id]) => id)
      .sort()
    const items = ids.slice(0, limit).map((resourceId) => {
      const { crate } = this.resources.get(resourceId)!
      return { resourceId, group, name: crateName(crate) }
    })
    const last = items.at(-1)
    return ids.length > limit && last
      ? { items, nextCursor: encodeCursor({ kind: LIST_CURSOR, group, after: last.resourceId }) }
      : { items }
  }

  async deleteResource(resourceId: string): Promise<void> {
    const { group } = this.resource(resourceId)
    this.resources.delete(resourceId)
    this.emit({ type: 'deleted', resourceId, group, origin: 'local' })
  }

  async history(resourceId: string): Promise<HistoryEntry[]> {
    return this.resource(resourceId).history.map((entry) => ({ ...entry }))
  }

  onChange(listener: ChangeListener): () => void {
    // Wrapped, so one function subscribed twice is two subscriptions, each ended by its own function.
    const subscription: ChangeListener = (event) => listener(event)
    this.listeners.add(subscription)
    return () => {
      this.listeners.delete(subscription)
    }
  }

  private freshId(requested: unknown): string {
    if (requested === undefined) return this.newResourceId()
    const resourceId = checkId('resource', requested)
    if (this.resources.has(resourceId)) {
      throw new MetadataError('AlreadyExists', `A resource ${resourceId} already exists`)
    }
    return resourceId
  }

  private store(group: string, resourceId: string, crate: Crate, message: string): ResourceRef {
    const history = [this.entry(message)]
    this.resources.set(resourceId, { group, crate, history })
    this.emit({ type: 'created', resourceId, group, origin: 'local' })
    return { resourceId, group }
  }

  private resource(resourceId: string): StoredResource {
    const resource = typeof resourceId === 'string' ? this.resources.get(resourceId) : undefined
    if (resource === undefined) throw new MetadataError('NotFound', `No resource ${String(resourceId)}`)
    return resource
  }

  /**
   * Applies one intention in place and records it. The crate edits check everything before they change
   * anything, so a rejected call leaves the crate as it was, with no history entry and no event.
   */
  private change(
    resourceId: string,
    options: ChangeOptions | undefined,
    summary: string,
    edit: (crate: Crate) => unknown,
  ): void {
    const resource = this.resource(resourceId)
    const message = checkMessage(options)
    // An edit that changed nothing (removing an absent property) returns false: no history, no event.
    if (edit(resource.crate) === false) return
    resource.history.push(this.entry(message ?? summary))
    this.emit({ type: 'updated', resourceId, group: resource.group, origin: 'local' })
  }

  private entry(message: string): HistoryEntry {
    return { actor: this.actor, time: this.now(), message }
  }

  private emit(event: ChangeEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener({ ...event })
      } catch {
        // A listener's failure is its own; the change is applied and the others still hear of it.
      }
    }
  }
}

function checkMessage(options: ChangeOptions | undefined): string | undefined {
  const message = options?.message
  if (message !== undefined && typeof message !== 'string') {
    throw new MetadataError('InvalidInput', 'A change message must be text')
  }
  return message
}
