/**
 * The Automerge documents of the metadata store.
 *
 * **Resource document** (one per resource): its RO-Crate, with the graph as a map by `@id` so that
 * concurrent edits of different entities, and of different properties of one entity, touch different
 * keys and all survive the merge. `order` keeps the entity ids in the order the graph is exported in
 * (import order, then additions); an id missing from it (a concurrent re-addition) is exported after the
 * listed ones, by id.
 *
 * ```
 * { kind: "aruna.metadata.resource", schema: 1, resourceId, group,
 *   context: <@context>,
 *   entities: { "<@id>": { "@type": …, "<property>": <value>, … }, … },
 *   order: ["ro-crate-metadata.json", "./", …],
 *   extra?: { <other top-level keys of a crate imported without validation> } }
 * ```
 *
 * **Catalog document** (one per store, i.e. per realm): which resources exist, in which group, where
 * their document is, and the root's name for listings. A store-level catalog rather than one per group:
 * listing a group reads one document the node holds anyway, and resolving a resource id needs no search
 * across groups. Entries are keyed by resource id, so concurrent creations of different resources merge;
 * two nodes creating the *same* chosen id at once end with one entry (Automerge's last-writer-wins),
 * the other document orphaned.
 *
 * ```
 * { kind: "aruna.metadata.catalog", schema: 1,
 *   shards: { "00": { "<resourceId>": { group, url, name, created }, … }, …, "ff": { … } } }
 * ```
 *
 * The 256 shards (by a hash of the resource id, `catalogShard`) keep each change small: see `catalog.ts`.
 *
 * Strings that nobody edits concurrently (ids, URLs, names, property values) are `ImmutableString`s.
 */
import type { ImmutableString } from '@automerge/automerge'
import type { AutomergeObject, AutomergeValue } from './values.js'

export const RESOURCE_KIND = 'aruna.metadata.resource'
export const CATALOG_KIND = 'aruna.metadata.catalog'
export const SCHEMA_VERSION = 1

export interface ResourceDoc {
  kind: ImmutableString
  schema: number
  resourceId: ImmutableString
  group: ImmutableString
  context: AutomergeValue
  entities: Record<string, AutomergeObject>
  order: ImmutableString[]
  /** Top-level keys besides `@context` and `@graph`: only in crates imported without validation. */
  extra?: AutomergeObject
}

export interface CatalogEntry {
  group: ImmutableString
  /** The resource document's `automerge:` URL. */
  url: ImmutableString
  /** The root data entity's name, kept for listings without loading the document. */
  name: ImmutableString
  /** Milliseconds since the epoch. */
  created: number
}

export interface CatalogDoc {
  kind: ImmutableString
  schema: number
  /** Shard (two hex digits) → resource id → entry. */
  shards: Record<string, Record<string, CatalogEntry>>
}
