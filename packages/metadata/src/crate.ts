/**
 * RO-Crate documents as plain JSON-LD: making a new one, reading one from outside, finding its metadata
 * descriptor and root data entity. Only the structure the store relies on is checked here (an object with
 * a `@graph` of entities with unique string ids); RO-Crate validation proper is a later layer that
 * reports in the same `Problem` shape.
 */
import { MetadataError, type Problem } from './errors.js'
import { jsonProblem } from './json.js'
import type { Crate, Entity, JsonValue } from './port.js'

export const RO_CRATE_CONTEXT = 'https://w3id.org/ro/crate/1.1/context'
export const RO_CRATE_SPEC = 'https://w3id.org/ro/crate/1.1'
export const DESCRIPTOR_ID = 'ro-crate-metadata.json'
export const ROOT_ID = './'
/** Crates larger than this (as JSON text) are refused on import. */
export const MAX_CRATE_BYTES = 16 * 1024 * 1024

export interface NewCrateInit {
  name: string
  description?: string
  properties?: Record<string, JsonValue>
  /** Milliseconds since the epoch; becomes the root's `datePublished`. */
  now: number
}

/** A fresh crate: the metadata descriptor and the root data entity `./`. */
export function newCrate(init: NewCrateInit): Crate {
  const root: Entity = {
    '@id': ROOT_ID,
    '@type': 'Dataset',
    name: init.name,
    datePublished: new Date(init.now).toISOString(),
  }
  if (init.description !== undefined) root.description = init.description
  for (const [property, value] of Object.entries(init.properties ?? {})) {
    Object.defineProperty(root, property, { value, enumerable: true, writable: true, configurable: true })
  }
  return {
    '@context': RO_CRATE_CONTEXT,
    '@graph': [
      {
        '@id': DESCRIPTOR_ID,
        '@type': 'CreativeWork',
        conformsTo: { '@id': RO_CRATE_SPEC },
        about: { '@id': ROOT_ID },
      },
      root,
    ],
  }
}

/**
 * Reads a crate from a JSON string or a parsed value, or throws `InvalidCrate` listing every structural
 * problem found. The result is the caller's value checked, not a copy.
 */
export function readCrate(input: unknown): Crate {
  let json = input
  if (typeof input === 'string') {
    if (input.length > MAX_CRATE_BYTES) {
      throw invalid([problem('crate.size', `The crate is larger than ${MAX_CRATE_BYTES} characters`)])
    }
    try {
      json = JSON.parse(input)
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'unreadable'
      throw invalid([problem('crate.json', `The crate is not JSON: ${reason}`)])
    }
  }
  const problems = crateProblems(json)
  if (problems.length > 0) throw invalid(problems)
  return json as Crate
}

/** The structural problems of a would-be crate; empty when the store can hold it. */
export function crateProblems(json: unknown): Problem[] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return [problem('crate.object', 'A crate is a JSON object with "@context" and "@graph"')]
  }
  const record = json as Record<string, unknown>
  const problems: Problem[] = []
  const notJson = jsonProblem(record, 'crate')
  if (notJson) problems.push(problem('crate.json', `The crate is not plain JSON: ${notJson}`))
  if (!('@context' in record)) problems.push(problem('crate.context', 'The crate has no "@context"'))
  const graph = record['@graph']
  if (!Array.isArray(graph)) {
    problems.push(problem('graph.array', 'The crate\'s "@graph" must be an array of entities'))
    return problems
  }
  const seen = new Set<string>()
  graph.forEach((entity: unknown, index) => {
    if (typeof entity !== 'object' || entity === null || Array.isArray(entity)) {
      problems.push(problem('entity.object', `"@graph"[${index}] is not an object`))
      return
    }
    const id = (entity as Record<string, unknown>)['@id']
    if (typeof id !== 'string' || id === '') {
      problems.push(problem('entity.id', `"@graph"[${index}] has no "@id" (a non-empty string)`))
    } else if (seen.has(id)) {
      problems.push({ ...problem('entity.id-unique', `"@id" ${id} appears more than once`), entityId: id })
    } else {
      seen.add(id)
    }
  })
  return problems
}

export function findEntity(crate: Crate, entityId: string): Entity | undefined {
  return crate['@graph'].find((entity) => entity['@id'] === entityId)
}

/** The metadata descriptor: `ro-crate-metadata.json`, or (RO-Crate 1.2 detached crates) `…ro-crate-metadata.json`. */
export function findDescriptor(crate: Crate): Entity | undefined {
  return (
    findEntity(crate, DESCRIPTOR_ID) ??
    crate['@graph'].find(
      (entity) => entity['@id'].endsWith(DESCRIPTOR_ID) && referenceId(entity.about) !== undefined,
    )
  )
}

/** The root data entity: what the descriptor is `about`. */
export function findRoot(crate: Crate): Entity | undefined {
  const rootId = referenceId(findDescriptor(crate)?.about)
  return rootId === undefined ? undefined : findEntity(crate, rootId)
}

/** The root data entity's `name`, or `''`. */
export function crateName(crate: Crate): string {
  const name = findRoot(crate)?.name
  return typeof name === 'string' ? name : ''
}

/** The `@id` of a reference value `{"@id": …}`, or `undefined` when the value is not one. */
export function referenceId(value: JsonValue | undefined): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const id = value['@id']
  return typeof id === 'string' ? id : undefined
}

function problem(rule: string, message: string): Problem {
  return { severity: 'error', rule, message }
}

function invalid(problems: Problem[]): MetadataError {
  const first = problems[0]?.message ?? 'The crate is not usable'
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problems)` : ''
  return new MetadataError('InvalidCrate', `${first}${more}`, problems)
}
