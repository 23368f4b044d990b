/**
 * The ports of @aruna/metadata: `MetadataStore` (RO-Crate documents, one per resource) and `SearchIndex`
 * (one per node). Implementations: the in-memory mocks in `./mock/`, and later Automerge + automerge-repo
 * for the store and `FlexSearchIndex` (an inverted index of its own) for the index. Both kinds pass the compliance suites in `./testing/`.
 *
 * Authorization is not part of these ports: a service layer above checks the caller's permissions
 * before it calls the store, and hands the index the caller's universe of visible ordinals.
 */
import type { OrdinalSet } from '@aruna/auth'
import type { Query } from './query/types.js'

// ---------------------------------------------------------------------------------------------------------
// JSON-LD documents

export type JsonPrimitive = string | number | boolean | null
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject
export interface JsonObject {
  [key: string]: JsonValue
}

/** One node of a flattened JSON-LD graph: a data entity, a contextual entity or the metadata descriptor. */
export interface Entity {
  '@id': string
  [property: string]: JsonValue
}

/** An RO-Crate metadata document (`ro-crate-metadata.json`) in flattened, compacted JSON-LD. */
export interface Crate {
  '@context': JsonValue
  '@graph': Entity[]
}

// ---------------------------------------------------------------------------------------------------------
// MetadataStore

/** Which resource a document describes, and the group it belongs to. */
export interface ResourceRef {
  resourceId: string
  group: string
}

/** One row of `listResources`. */
export interface ResourceSummary extends ResourceRef {
  /** The root data entity's `name`, or `''` when it has no string name. */
  name: string
}

/** What every change may carry for the history. */
export interface ChangeOptions {
  /** A summary for people (who did it, why). Defaults to a summary of the operation. */
  message?: string
  /**
   * The user on whose behalf the change is made (e.g. the realm user id), recorded in the history.
   * Stores that keep no authors (the memory mock) ignore it.
   */
  author?: string
}

export interface CreateResourceInit extends ChangeOptions {
  group: string
  /** Chosen by the caller, or generated (a ULID). Must match `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`. */
  resourceId?: string
  /** The root data entity's `name`. */
  name: string
  /** The root data entity's `description`. */
  description?: string
  /** Further properties of the root data entity (e.g. `license`, `keywords`); `@id` is not allowed. */
  properties?: Record<string, JsonValue>
}

export interface ImportOptions extends ChangeOptions {
  /** As in `createResource`. */
  resourceId?: string
}

/** The S3 object version a data entity stands for. */
export interface ObjectLink {
  bucket: string
  key: string
  versionId: string
  /** The CIDv1 of the version's manifest. */
  cid: string
  /** Bytes. */
  size: number
  /** As the data layer reports it, e.g. `sha256:<hex>`. */
  checksum: string
}

export interface ListOptions {
  /** From a previous page's `nextCursor`. */
  cursor?: string
  /** Rows per page, 1..1000; default 100. */
  limit?: number
}

export interface Page<T> {
  items: T[]
  /** Present when there are more rows; pass it back as `cursor`. */
  nextCursor?: string
}

/** One change in a document's history, oldest first. */
export interface HistoryEntry {
  /** Who made the change: the store's actor (for Automerge, the actor id of the node's replica). */
  actor: string
  /** Milliseconds since the Unix epoch (stores with coarser clocks round down). */
  time: number
  /** The caller's `ChangeOptions.message`, or a summary of the operation. */
  message: string
  /** The caller's `ChangeOptions.author`, when the store records authors and one was given. */
  author?: string
  /** The store's id of the change (for Automerge, the change hash), when it has one. */
  change?: string
}

export interface ChangeEvent {
  type: 'created' | 'updated' | 'deleted'
  resourceId: string
  group: string
  /** `local` for changes made through this store, `remote` for changes that arrived by sync. */
  origin: 'local' | 'remote'
}

export type ChangeListener = (event: ChangeEvent) => void

/**
 * RO-Crate metadata documents, one per resource (dataset or collection), each in a group.
 *
 * The API takes *intentions* (set this property, add that entity), never whole-document overwrites, so
 * concurrent edits of different properties or entities by different people all survive the merge.
 *
 * Every method rejects with a `MetadataError`: `NotFound` for an unknown resource or entity,
 * `InvalidInput` for malformed arguments (ids, property names, values that are not JSON), and the codes
 * named below. No method crashes on bad input.
 */
export interface MetadataStore {
  /**
   * Creates a resource with a fresh crate: the metadata descriptor (`ro-crate-metadata.json`) and a root
   * data entity `./` of type `Dataset` carrying `name`, `description`, `datePublished` (now) and `properties`.
   * Rejects with `AlreadyExists` when `resourceId` is taken, `InvalidInput` for a malformed group or id.
   */
  createResource(init: CreateResourceInit): Promise<ResourceRef>

  /** The resource's crate, as a plain JSON-LD object the caller owns (changing it changes nothing here). */
  get(resourceId: string): Promise<Crate>

  /** Which group the resource belongs to. */
  resolve(resourceId: string): Promise<ResourceRef>

  /**
   * Sets one property of one entity, replacing its value. `@id` cannot be set (`InvalidInput`); `@type` can.
   * The value is copied. Rejects with `NotFound` when the resource or the entity does not exist.
   */
  setProperty(
    resourceId: string,
    entityId: string,
    property: string,
    value: JsonValue,
    options?: ChangeOptions,
  ): Promise<void>

  /** Removes one property of one entity. Removing an absent property is a no-op; `@id` cannot be removed. */
  removeProperty(
    resourceId: string,
    entityId: string,
    property: string,
    options?: ChangeOptions,
  ): Promise<void>

  /**
   * Adds an entity to the graph. It needs a non-empty string `@id` and JSON values (`InvalidInput`), and
   * its `@id` must be new in this crate (`AlreadyExists`).
   */
  addEntity(resourceId: string, entity: Entity, options?: ChangeOptions): Promise<void>

  /**
   * Removes an entity and every reference to it (`{"@id": …}` values, alone or in arrays, in other
   * entities), so no link dangles. The metadata descriptor and the root data entity cannot be removed
   * (`InvalidInput`). Rejects with `NotFound` when the entity does not exist.
   */
  removeEntity(resourceId: string, entityId: string, options?: ChangeOptions): Promise<void>

  /**
   * Links a data entity to an S3 object version: sets `contentSize`, `contentUrl` and the link's other
   * fields as described by `objectLinkProperties`; `readObjectLink` reads them back. Rejects with
   * `NotFound` for an unknown entity and `InvalidInput` for an incomplete link.
   */
  linkObject(resourceId: string, entityId: string, link: ObjectLink, options?: ChangeOptions): Promise<void>

  /**
   * One page of a group's resources, ordered by resource id (ascending). Paging is by key, so a resource
   * created or deleted between pages never makes another one repeat or go missing. An unknown group is
   * an empty page. Rejects with `InvalidCursor` for a cursor not made by this listing for this group, and
   * `InvalidInput` for a limit outside 1..1000.
   */
  listResources(group: string, options?: ListOptions): Promise<Page<ResourceSummary>>

  /** Deletes the resource and its document. Rejects with `NotFound` when it does not exist. */
  deleteResource(resourceId: string): Promise<void>

  /**
   * Creates a resource from a whole crate: a JSON string (the content of `ro-crate-metadata.json`) or a
   * parsed object. Rejects with `InvalidCrate` and a list of `problems` when it is not JSON, not an object
   * with a `@graph` array, or has entities without a non-empty string `@id` or with duplicate ids. A
   * validating store (the Automerge store) also refuses a crate that breaks a MUST rule of RO-Crate
   * (`validateCrate`: the errors are the `problems`; warnings never refuse a crate).
   */
  importCrate(group: string, json: unknown, options?: ImportOptions): Promise<ResourceRef>

  /** The crate as the text of `ro-crate-metadata.json` (2-space indented JSON). */
  exportCrate(resourceId: string): Promise<string>

  /** The resource's changes, oldest first; the first is its creation or import. */
  history(resourceId: string): Promise<HistoryEntry[]>

  /**
   * Calls `listener` after each change is applied, local or synced; for a local change, before the call
   * that made it resolves. A listener that throws affects neither the change nor the other listeners.
   * Returns a function that unsubscribes.
   */
  onChange(listener: ChangeListener): () => void
}

// ---------------------------------------------------------------------------------------------------------
// SearchIndex

/** What the indexer extracts from one resource's crate. */
export interface SearchDocument {
  /** Node-local u32 number of the resource; the key of the authorization bitmaps. */
  ordinal: number
  resourceId: string
  group: string
  /** The resource path (`/{realm}/g/{group}/meta/{resource}`). */
  path: string
  /** Searchable with `field:value` and ranges; field names match case-insensitively. */
  fields: Record<string, string | number | string[]>
  /** Free text (names, descriptions, keywords), matched by plain words and phrases. */
  text: string
}

/**
 * The ordinals a caller may see: `@aruna/auth`'s universe (`OrdinalSet`, a roaring bitmap from
 * `SearchUniverses`) as the index reads it — membership, so a caller may also narrow a universe with a
 * predicate of its own (a node keeps the resources it answers for).
 *
 * A universe may also list its ordinals (`toUint32Array`, the ones `has` holds, into the index's buffer
 * of `size` when given one) and say how many it holds at most (`size`), as `OrdinalSet` does: an index
 * may then read the list once instead of asking about each of many candidates. Both or neither; the
 * result is the same either way.
 */
export type SearchUniverse = Pick<OrdinalSet, 'has'> & Partial<Pick<OrdinalSet, 'size' | 'toUint32Array'>>

export interface SearchOptions {
  universe: SearchUniverse
  /** Hits per page, 1..1000; default 20. */
  limit?: number
  /** From a previous page's `nextCursor` for the same query (and the same `sort`). */
  cursor?: string
  /**
   * `relevance` (the default): score descending, then resource id. `date`: the newest `datePublished`
   * first (compared as ISO-8601 text), documents without one last, then resource id.
   */
  sort?: SearchSort
  /** Count the visible matches per type, license and year (`SearchPage.facets`); default false. */
  facets?: boolean
}

export type SearchSort = 'relevance' | 'date'

/** One value of a facet and how many visible matches have it. */
export interface FacetCount {
  value: string
  count: number
}

/**
 * Counts over every visible match of the query (not only the page): from the fields `type`, `license`
 * and the year of `datePublished`. A document counts once per distinct value it has; the values are
 * ordered by count (descending), then value. Documents outside the universe never count.
 */
export interface SearchFacets {
  type: FacetCount[]
  license: FacetCount[]
  year: FacetCount[]
}

export interface SearchHit {
  resourceId: string
  score: number
}

export interface SearchPage {
  /** Ordered by score (descending), then resource id (ascending); or as `SearchOptions.sort` asks. */
  hits: SearchHit[]
  /** Present when more visible hits follow. */
  nextCursor?: string
  /** With `SearchOptions.facets`: the same on every page of a query. */
  facets?: SearchFacets
}

/**
 * A node's full-text and field index over the documents it holds.
 *
 * Unauthorized resources are invisible: documents outside the universe are dropped before scoring and
 * paging, so they never appear, never fill or extend a page, and never change another hit's score.
 */
export interface SearchIndex {
  /**
   * Adds or replaces the document of `doc.resourceId`. Rejects with `InvalidInput` for a malformed
   * document (ordinal not a u32, field values not strings, finite numbers or string arrays) and with
   * `AlreadyExists` when the ordinal belongs to another resource.
   */
  index(doc: SearchDocument): Promise<void>

  /** Removes the resource's document; removing an absent one is a no-op. */
  remove(resourceId: string): Promise<void>

  /**
   * Runs a query (text in the query language, or a parsed `Query`) over the documents in the universe.
   * Rejects with `InvalidQuery` (position included for text), `InvalidCursor` for a cursor not made for
   * this query and sort, and `InvalidInput` for a limit outside 1..1000, a missing universe, an unknown
   * `sort` or a `facets` that is not a boolean.
   */
  search(query: string | Query, options: SearchOptions): Promise<SearchPage>
}
