/**
 * Reading the catalog document (see `schema.ts`): a resource's entry, a group's resources in id order,
 * and what changed between two versions of it. Listings are cached per version of the document, so a
 * page costs a binary search, not a sort of every resource.
 *
 * The entries are spread over 256 shards (by a hash of the resource id), all created with the catalog:
 * Automerge copies the changed map of its materialised document on every change, so one map of every
 * resource would make each creation cost time in proportion to the catalog's size; a shard is 1/256 of
 * it. Created up front, no two nodes ever create the same shard concurrently (which would lose one).
 */
import { ImmutableString } from '@automerge/automerge'
import type { CatalogDoc, CatalogEntry } from './schema.js'
import { textOf } from './values.js'

export const CATALOG_SHARDS: readonly string[] = Array.from({ length: 256 }, (_, index) =>
  index.toString(16).padStart(2, '0'),
)

/** The shard of a resource id: the low byte of its 32-bit FNV-1a hash, in hex. */
export function catalogShard(resourceId: string): string {
  let hash = 0x811c9dc5
  for (let index = 0; index < resourceId.length; index += 1) {
    hash ^= resourceId.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193)
  }
  return CATALOG_SHARDS[hash & 0xff]!
}

/** Every shard, empty: the catalog's initial content. */
export function emptyShards(): Record<string, Record<string, CatalogEntry>> {
  return Object.fromEntries(CATALOG_SHARDS.map((shard) => [shard, {}]))
}

export interface CatalogRecord {
  resourceId: string
  group: string
  url: string
  name: string
}

export class CatalogView {
  readonly #doc: CatalogDoc
  #byGroup: Map<string, string[]> | undefined
  #byUrl: Map<string, string> | undefined

  constructor(doc: CatalogDoc) {
    this.#doc = doc
  }

  get doc(): CatalogDoc {
    return this.#doc
  }

  record(resourceId: string): CatalogRecord | undefined {
    if (typeof resourceId !== 'string') return undefined
    const shard = this.#doc.shards?.[catalogShard(resourceId)]
    if (shard === undefined || !Object.hasOwn(shard, resourceId)) return undefined
    return toRecord(resourceId, shard[resourceId]!)
  }

  /** Every entry, shard by shard. */
  *entries(): Generator<[string, CatalogEntry]> {
    for (const shard of Object.values(this.#doc.shards ?? {})) yield* Object.entries(shard)
  }

  /** The resource whose document has this URL. */
  resourceOfUrl(url: string): string | undefined {
    if (this.#byUrl === undefined) {
      this.#byUrl = new Map()
      for (const [resourceId, entry] of this.entries()) {
        const entryUrl = textOf(entry.url)
        if (entryUrl !== undefined) this.#byUrl.set(entryUrl, resourceId)
      }
    }
    return this.#byUrl.get(url)
  }

  /** Up to `limit` resource ids of the group after `after`, ascending; and whether more follow. */
  page(group: string, after: string, limit: number): { ids: string[]; more: boolean } {
    const ids = this.#groupIds(group)
    let low = 0
    let high = ids.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (ids[middle]! <= after) low = middle + 1
      else high = middle
    }
    return { ids: ids.slice(low, low + limit), more: low + limit < ids.length }
  }

  ids(): string[] {
    return [...this.entries()].map(([resourceId]) => resourceId)
  }

  #groupIds(group: string): string[] {
    if (this.#byGroup === undefined) {
      const byGroup = new Map<string, string[]>()
      for (const [resourceId, entry] of this.entries()) {
        const entryGroup = textOf(entry.group)
        if (entryGroup === undefined) continue
        const ids = byGroup.get(entryGroup)
        if (ids === undefined) byGroup.set(entryGroup, [resourceId])
        else ids.push(resourceId)
      }
      for (const ids of byGroup.values()) ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      this.#byGroup = byGroup
    }
    return this.#byGroup.get(group) ?? []
  }
}

function toRecord(resourceId: string, entry: CatalogEntry): CatalogRecord | undefined {
  const group = textOf(entry.group)
  const url = textOf(entry.url)
  if (group === undefined || url === undefined) return undefined
  return { resourceId, group, url, name: textOf(entry.name) ?? '' }
}

/** A new catalog entry, for inside a change. */
export function catalogEntry(group: string, url: string, name: string, created: number): CatalogEntry {
  return {
    group: new ImmutableString(group),
    url: new ImmutableString(url),
    name: new ImmutableString(name),
    created,
  }
}

/**
 * Resources listed in `after` but not `before` (created) and the other way round (deleted). Only shards
 * that changed are compared: Automerge's materialised documents share what did not change.
 */
export function catalogDiff(
  before: CatalogView,
  after: CatalogView,
): { created: CatalogRecord[]; deleted: CatalogRecord[] } {
  const created: CatalogRecord[] = []
  const deleted: CatalogRecord[] = []
  for (const shard of CATALOG_SHARDS) {
    const then = before.doc.shards?.[shard] ?? {}
    const now = after.doc.shards?.[shard] ?? {}
    if (then === now) continue
    for (const resourceId of Object.keys(now)) {
      const added = after.record(resourceId)
      const old = before.record(resourceId)
      if (added !== undefined && (old === undefined || old.url !== added.url)) created.push(added)
    }
    for (const resourceId of Object.keys(then)) {
      const old = before.record(resourceId)
      const kept = after.record(resourceId)
      if (old !== undefined && (kept === undefined || kept.url !== old.url)) deleted.push(old)
    }
  }
  return { created, deleted }
}
