/**
 * Crate → search document: what the index knows of a resource. It reads any JSON without throwing
 * (a crate synced from another node, imported without validation, or half edited): values may be text,
 * numbers, numbers written as text, `{"@value"}` objects, `{"@id"}` references (resolved through the
 * graph), or arrays of these; anything else is skipped.
 *
 * Fields (searchable with `field:value`, ranges on the numeric and date ones):
 *
 * | field | from |
 * | --- | --- |
 * | `type` | the root data entity's `@type`s |
 * | `name`, `description` | the root's |
 * | `keywords` | the root's, a text split at commas |
 * | `license` | the root's license ids or texts (one per license: the facet key); `licenseName` their names |
 * | `datePublished`, `dateCreated`, `dateModified` | the root's (the first date-like value) |
 * | `year` | the year of `datePublished` |
 * | `size` | the sum of every data entity's `contentSize` (bytes, numbers or digits) |
 * | `files` | how many data entities (`File`, and `Dataset`s other than the root) the crate describes |
 * | `encodingFormat` | the data entities' formats |
 * | `conformsTo` | the profiles the root and the metadata descriptor name |
 * | `author`, `creator`, `publisher`, `funder` | names of the people and organisations, resolved |
 * | `organization` | the affiliations of the authors and creators, and the publishers and funders that are organisations |
 * | `identifier` | the root's identifiers (texts, ids, `PropertyValue` values) |
 * | `file` | the data entities' names and ids |
 * | `group` | the resource's group |
 *
 * The free text holds the name, description, keywords, people's and organisations' names, identifiers
 * and file names, up to `MAX_TEXT` characters.
 */
import type { SearchDocument } from '../port.js'
import { looksLikeDate, numberInText } from '../query/bound.js'

/** Longer text is cut: a crate listing 100 000 files is still one document, not a library. */
export const MAX_TEXT = 64 * 1024
/** At most this many values per field. */
export const MAX_VALUES = 1000

type Node = Record<string, unknown>

const DESCRIPTOR_ID = 'ro-crate-metadata.json'

/** The search document of one resource's crate. Never throws, whatever `crate` holds. */
export function searchDocumentOf(
  crate: unknown,
  ref: { resourceId: string; group: string },
  ordinal: number,
  path: string,
): SearchDocument {
  const graph = new Graph(crate)
  const root = graph.root()
  const fields: SearchDocument['fields'] = {}
  const text: string[] = []
  const set = (name: string, values: string[], searchable = false): void => {
    const kept = unique(values).slice(0, MAX_VALUES)
    if (kept.length === 0) return
    fields[name] = kept.length === 1 ? kept[0]! : kept
    if (searchable) text.push(...kept)
  }

  set('group', [ref.group])
  if (root !== undefined) {
    set('type', graph.texts(root['@type']))
    set('name', graph.texts(root.name), true)
    set('description', graph.texts(root.description), true)
    set(
      'keywords',
      graph
        .texts(root.keywords)
        .flatMap((keywords) => keywords.split(','))
        .map((k) => k.trim()),
      true,
    )
    set('license', graph.ids(root.license))
    set('licenseName', graph.names(root.license))
    for (const property of ['datePublished', 'dateCreated', 'dateModified']) {
      const date = graph.texts(root[property]).find(looksLikeDate)
      if (date !== undefined) fields[property] = date
    }
    if (typeof fields.datePublished === 'string') fields.year = fields.datePublished.slice(0, 4)
    const people = ['author', 'creator', 'publisher', 'funder'] as const
    for (const property of people) set(property, graph.names(root[property]), true)
    const organizations = [
      ...graph.nodes(root.author).flatMap((person) => graph.names(person.affiliation)),
      ...graph.nodes(root.creator).flatMap((person) => graph.names(person.affiliation)),
      ...[...graph.nodes(root.publisher), ...graph.nodes(root.funder)]
        .filter((node) => graph.texts(node['@type']).includes('Organization'))
        .flatMap((node) => graph.texts(node.name)),
    ]
    set('organization', organizations, true)
    set('identifier', graph.identifiers(root.identifier), true)
    set('conformsTo', [...graph.ids(root.conformsTo), ...graph.ids(graph.descriptor()?.conformsTo)])
  }

  const dataEntities = graph.dataEntities(root)
  let size: number | undefined
  for (const entity of dataEntities) {
    for (const value of graph.values(entity.contentSize)) {
      const bytes =
        typeof value === 'number' ? value : typeof value === 'string' ? numberInText(value) : undefined
      if (bytes !== undefined && Number.isFinite(bytes) && bytes >= 0) size = (size ?? 0) + bytes
    }
  }
  if (size !== undefined && Number.isFinite(size)) fields.size = size
  if (dataEntities.length > 0) fields.files = dataEntities.length
  set(
    'encodingFormat',
    dataEntities.flatMap((entity) => graph.ids(entity.encodingFormat)),
  )
  set(
    'file',
    dataEntities.flatMap((entity) => [...graph.texts(entity.name), entity['@id'] as string]),
    true,
  )

  let joined = ''
  for (const part of text) {
    if (joined.length + part.length + 1 > MAX_TEXT) break
    joined = joined === '' ? part : `${joined}\n${part}`
  }
  return { ordinal, resourceId: ref.resourceId, group: ref.group, path, fields, text: joined }
}

/** The crate's entities by `@id`, and readings of values that resolve references through them. */
class Graph {
  private readonly byId = new Map<string, Node>()
  private readonly entities: Node[] = []

  constructor(crate: unknown) {
    const graph = isNode(crate) ? crate['@graph'] : undefined
    if (!Array.isArray(graph)) return
    for (const entity of graph) {
      if (!isNode(entity) || typeof entity['@id'] !== 'string') continue
      this.entities.push(entity)
      if (!this.byId.has(entity['@id'])) this.byId.set(entity['@id'], entity)
    }
  }

  descriptor(): Node | undefined {
    return (
      this.byId.get(DESCRIPTOR_ID) ??
      this.entities.find((entity) => (entity['@id'] as string).endsWith(`/${DESCRIPTOR_ID}`))
    )
  }

  /** What the descriptor is `about`, or `./`. */
  root(): Node | undefined {
    const about = this.ids(this.descriptor()?.about)[0]
    return (about === undefined ? undefined : this.byId.get(about)) ?? this.byId.get('./')
  }

  /** Every `File`, and every `Dataset` but the root: what the crate's data is. */
  dataEntities(root: Node | undefined): Node[] {
    return this.entities.filter((entity) => {
      if (entity === root) return false
      const types = this.texts(entity['@type'])
      return types.includes('File') || types.includes('Dataset')
    })
  }

  /** The items of a value: an array's items (one level deep), or the value itself. */
  values(value: unknown): unknown[] {
    if (value === undefined || value === null) return []
    const items = Array.isArray(value) ? value : [value]
    return items.map((item) => (isNode(item) && '@value' in item ? item['@value'] : item))
  }

  /** Referenced entities (`{"@id"}` found in the graph) and inline objects. */
  nodes(value: unknown): Node[] {
    const found: Node[] = []
    for (const item of this.values(value)) {
      if (!isNode(item)) continue
      const id = item['@id']
      found.push(typeof id === 'string' ? (this.byId.get(id) ?? item) : item)
    }
    return found
  }

  /** Plain texts and numbers of a value, as text; references are left out. */
  texts(value: unknown): string[] {
    const found: string[] = []
    for (const item of this.values(value)) {
      if (typeof item === 'string' && item.trim() !== '') found.push(item.trim())
      else if (typeof item === 'number' && Number.isFinite(item)) found.push(String(item))
    }
    return found
  }

  /** Texts, and the `@id` of every reference: for licenses, formats, profiles. */
  ids(value: unknown): string[] {
    const found = this.texts(value)
    for (const item of this.values(value)) {
      if (isNode(item) && typeof item['@id'] === 'string' && item['@id'] !== '') found.push(item['@id'])
    }
    return found
  }

  /** Names: texts as they are, a referenced entity's `name` (its `@id` when it has none). */
  names(value: unknown): string[] {
    const found = this.texts(value)
    for (const node of this.nodes(value)) {
      const names = this.texts(node.name)
      if (names.length > 0) found.push(...names)
      else if (typeof node['@id'] === 'string' && node['@id'] !== '') found.push(node['@id'])
    }
    return found
  }

  /** Identifiers: texts, ids, and the `value` (or `name`) of a `PropertyValue`. */
  identifiers(value: unknown): string[] {
    const found = this.texts(value)
    for (const node of this.nodes(value)) {
      const values = [...this.texts(node.value), ...this.texts(node.name)]
      if (values.length > 0) found.push(...values)
      else if (typeof node['@id'] === 'string' && node['@id'] !== '') found.push(node['@id'])
    }
    return found
  }
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function unique(values: string[]): string[] {
  return [...new Set(values.filter((value) => value !== ''))]
}
