/**
 * The metadata descriptor (`ro-crate-metadata.json`: a CreativeWork that `conformsTo` an RO-Crate
 * version and is `about` the root data entity) and the root data entity (a Dataset with `name`,
 * `description`, `datePublished` and `license`).
 */
import { DESCRIPTOR_ID } from '../crate.js'
import type { Entity } from '../port.js'
import {
  hasText,
  hasType,
  isAbsoluteUri,
  literalText,
  referencesOf,
  referenceTarget,
  typesOf,
  valuesOf,
} from './graph.js'
import { iso8601Precision } from './iso8601.js'
import type { ProblemList } from './rules.js'

/** The version-less RO-Crate URI: what a Dataset standing for another RO-Crate `conformsTo`. */
export const GENERIC_RO_CRATE = /^https?:\/\/w3id\.org\/ro\/crate\/?$/
export const RO_CRATE_SPEC = /^https?:\/\/w3id\.org\/ro\/crate\/(\d+\.\d+(?:-DRAFT)?)\/?$/

/** The texts of a `conformsTo` (references and literals alike). */
function conformsToTargets(entity: Entity): string[] {
  return valuesOf(entity, 'conformsTo')
    .map((value) => referenceTarget(value) ?? literalText(value))
    .filter((target): target is string => target !== undefined)
}

/** The RO-Crate specification versions the descriptor `conformsTo` (e.g. `1.1`, `1.2-DRAFT`). */
export function declaredVersions(descriptor: Entity | undefined): string[] {
  if (descriptor === undefined) return []
  const versions = conformsToTargets(descriptor).map((target) => RO_CRATE_SPEC.exec(target)?.[1])
  return [...new Set(versions.filter((version): version is string => version !== undefined))]
}

/** Whether a version (`1.2`, `1.2-DRAFT`, `1.3`) is RO-Crate 1.2 or later. */
export function isAtLeast12(version: string | undefined): boolean {
  return version !== undefined && Number.parseFloat(version) >= 1.2
}

/**
 * The version whose rules apply: the one the descriptor `conformsTo` (the newest, when it names several),
 * else the context's. Says so when the crate mixes versions.
 */
export function chooseVersion(
  descriptor: Entity | undefined,
  contextVersion: string | undefined,
  problems: ProblemList,
): string | undefined {
  const declared = declaredVersions(descriptor).sort(
    (a, b) => Number.parseFloat(a) - Number.parseFloat(b) || a.localeCompare(b),
  )
  const chosen = declared.at(-1) ?? contextVersion
  const mixed = new Set(contextVersion === undefined ? declared : [...declared, contextVersion])
  if (mixed.size > 1 && descriptor !== undefined) {
    problems.add(
      'descriptor.version-mismatch',
      `The crate mixes RO-Crate versions (${[...mixed].join(', ')} in its "@context" and the descriptor's "conformsTo"); it is checked as RO-Crate ${chosen}, and should use that version's context and "conformsTo" only`,
      { entityId: descriptor['@id'], property: 'conformsTo' },
    )
  }
  return chosen
}

/** RO-Crate 1.0 named the metadata file (and its descriptor) `ro-crate-metadata.jsonld`. */
const LEGACY_DESCRIPTOR_ID = 'ro-crate-metadata.jsonld'

/**
 * The descriptor: the entity `ro-crate-metadata.json` (1.0: `ro-crate-metadata.jsonld`), or one whose id
 * ends with it (a detached crate's `prefix-ro-crate-metadata.json`, or an absolute URL under `@base`)
 * that is `about` something.
 */
export function findDescriptorEntity(byId: ReadonlyMap<string, Entity>): Entity | undefined {
  const exact = byId.get(DESCRIPTOR_ID) ?? byId.get(LEGACY_DESCRIPTOR_ID)
  if (exact !== undefined) return exact
  for (const [id, entity] of byId) {
    if (id.endsWith(DESCRIPTOR_ID) && valuesOf(entity, 'about').length > 0) return entity
  }
  return undefined
}

/** RO-Crate 1.0 (its context, or its descriptor name) made some rules recommendations only. */
export function isLegacyCrate(descriptor: Entity | undefined, version: string | undefined): boolean {
  return version === '1.0' || descriptor?.['@id'] === LEGACY_DESCRIPTOR_ID
}

/** Checks the descriptor; returns the root data entity's id when `about` names one. */
export function checkDescriptor(
  descriptor: Entity | undefined,
  byId: ReadonlyMap<string, Entity>,
  version: string | undefined,
  problems: ProblemList,
): string | undefined {
  if (descriptor === undefined) {
    problems.add(
      'descriptor.missing',
      `The graph has no metadata descriptor (an entity with "@id" "${DESCRIPTOR_ID}")`,
    )
    return undefined
  }
  const entityId = descriptor['@id']
  if (!hasType(descriptor, 'CreativeWork')) {
    problems.add(
      'descriptor.type',
      `The metadata descriptor must be a CreativeWork, not ${typesOf(descriptor).join(', ') || 'untyped'}`,
      {
        entityId,
        property: '@type',
      },
    )
  }
  for (const target of conformsToTargets(descriptor)) {
    if (!RO_CRATE_SPEC.test(target) || target.startsWith('https://')) continue
    problems.add(
      'descriptor.conformsTo-https',
      `The metadata descriptor "conformsTo" ${target}: write it ${target.replace(/^http:/, 'https:')}`,
      { entityId, property: 'conformsTo' },
    )
  }
  if (declaredVersions(descriptor).length === 0) {
    // RO-Crate 1.0 and 1.2 make it a SHOULD; 1.1 (and crs4/rocrate-validator for it) a MUST.
    const recommended = isLegacyCrate(descriptor, version) || isAtLeast12(version)
    problems.add(
      recommended ? 'descriptor.conformsTo-recommended' : 'descriptor.conformsTo',
      `The metadata descriptor ${recommended ? 'should' : 'must'} have "conformsTo" {"@id": "https://w3id.org/ro/crate/1.x"} naming the RO-Crate version it follows`,
      { entityId, property: 'conformsTo' },
    )
  }
  const about = valuesOf(descriptor, 'about')
  const rootId = about.length === 1 ? referenceTarget(about[0]!) : undefined
  if (rootId === undefined) {
    problems.add(
      'descriptor.about',
      'The metadata descriptor must be "about" exactly one entity, {"@id": …} of the root data entity',
      {
        entityId,
        property: 'about',
      },
    )
    return undefined
  }
  const root = byId.get(rootId)
  if (root === undefined) {
    problems.add(
      'root.missing',
      `The root data entity ${rootId} the descriptor is about is not in the graph`,
      {
        entityId: rootId,
      },
    )
    return undefined
  }
  if (!hasType(root, 'Dataset')) {
    problems.add('descriptor.about', `The metadata descriptor is about ${rootId}, which is not a Dataset`, {
      entityId,
      property: 'about',
    })
  }
  const container = [...byId.values()].find(
    (other) => other !== root && referencesOf(other, 'hasPart').includes(rootId),
  )
  if (container !== undefined) {
    problems.add(
      'descriptor.about',
      `The metadata descriptor is about ${rootId}, which is part of ${container['@id']}: it must be about the root data entity`,
      { entityId, property: 'about' },
    )
  }
  return rootId
}

export function checkRoot(
  root: Entity,
  byId: ReadonlyMap<string, Entity>,
  version: string | undefined,
  problems: ProblemList,
  descriptor?: Entity,
  packaging?: 'attached' | 'detached',
): void {
  const entityId = root['@id']
  const where = (property: string) => ({ entityId, property })
  if (!hasType(root, 'Dataset')) {
    problems.add(
      'root.type',
      `The root data entity must be a Dataset, not ${typesOf(root).join(', ') || 'untyped'}`,
      where('@type'),
    )
  }
  // Before 1.2 the root is a directory (a relative id ends with "/"); 1.2 asks "./" or a URI (SHOULD),
  // which an attached crate MUST follow.
  if (!isAbsoluteUri(entityId) && !entityId.endsWith('/') && !isAtLeast12(version)) {
    problems.add(
      'root.id',
      `The root data entity's "@id" ${entityId} must end with "/" (usually it is "./")`,
      where('@id'),
    )
  } else if (entityId !== './' && !isAtLeast12(version)) {
    problems.add(
      'root.id-recommended',
      `The root data entity's "@id" should be "./", not ${entityId}`,
      where('@id'),
    )
  } else if (entityId !== './' && !isAbsoluteUri(entityId) && packaging === 'attached') {
    problems.add(
      'root.id-attached',
      `In an attached crate the root data entity's "@id" must be "./" or an absolute URI, not ${entityId}`,
      where('@id'),
    )
  } else if (entityId !== './' && !isAbsoluteUri(entityId)) {
    problems.add(
      'root.id-recommended',
      `The root data entity's "@id" should be "./" or an absolute URI, not ${entityId}`,
      where('@id'),
    )
  }
  for (const property of ['name', 'description'] as const) {
    if (!hasText(root, property)) {
      problems.add(
        `root.${property}`,
        `The root data entity must have a "${property}" (text)`,
        where(property),
      )
    }
  }
  checkDatePublished(root, problems)
  checkLicense(root, byId, problems)
  checkRootConformsTo(root, descriptor, version, problems)
}

/**
 * Profiles: the root data entity's `conformsTo` names them by URI (never the version-less RO-Crate URI,
 * which marks referenced crates); from 1.2 on, the descriptor's names the RO-Crate version only.
 */
function checkRootConformsTo(
  root: Entity,
  descriptor: Entity | undefined,
  version: string | undefined,
  problems: ProblemList,
): void {
  const entityId = root['@id']
  for (const value of valuesOf(root, 'conformsTo')) {
    const target = referenceTarget(value)
    if (target === undefined || !isAbsoluteUri(target)) {
      problems.add(
        'root.conformsTo-uri',
        `The root data entity's "conformsTo" ${JSON.stringify(value)} should be a reference {"@id": "https://…"} to the profile's URI`,
        { entityId, property: 'conformsTo' },
      )
    }
    if (target !== undefined && GENERIC_RO_CRATE.test(target)) {
      problems.add(
        'root.conformsTo-generic',
        `The root data entity "conformsTo" ${target}, which marks a crate referenced from another one: name the RO-Crate version in the metadata descriptor instead`,
        { entityId, property: 'conformsTo' },
      )
    }
  }
  if (descriptor === undefined || !isAtLeast12(version)) return
  const declared = conformsToTargets(descriptor)
  if (declared.length > 1) {
    const others = declared.filter((target) => !RO_CRATE_SPEC.test(target))
    problems.add(
      'descriptor.conformsTo-single',
      `In RO-Crate ${version} the metadata descriptor's "conformsTo" should name only the RO-Crate version${others.length > 0 ? `: move ${others.join(', ')} to the root data entity's "conformsTo"` : ''}`,
      { entityId: descriptor['@id'], property: 'conformsTo' },
    )
  }
}

function checkDatePublished(root: Entity, problems: ProblemList): void {
  const where = { entityId: root['@id'], property: 'datePublished' }
  const values = valuesOf(root, 'datePublished')
  const text = values.length === 1 ? literalText(values[0]!) : undefined
  const precision = text === undefined ? undefined : iso8601Precision(text)
  if (precision === undefined) {
    const shown =
      text === undefined ? (values.length === 0 ? 'none' : 'not one text value') : JSON.stringify(text)
    problems.add(
      'root.datePublished',
      `The root data entity must have one "datePublished" in ISO 8601 (found ${shown})`,
      where,
    )
  } else if (precision !== 'day') {
    problems.add(
      'root.datePublished-precision',
      `The "datePublished" ${JSON.stringify(text)} should name a day, e.g. 2024-05-17`,
      where,
    )
  }
}

function checkLicense(root: Entity, byId: ReadonlyMap<string, Entity>, problems: ProblemList): void {
  const entityId = root['@id']
  const licenses = valuesOf(root, 'license').filter(
    (value) => referenceTarget(value) !== undefined || (literalText(value)?.trim() ?? '') !== '',
  )
  if (licenses.length === 0) {
    problems.add(
      'root.license',
      'The root data entity must have a "license" (a reference, a URL or a text)',
      {
        entityId,
        property: 'license',
      },
    )
    return
  }
  for (const license of licenses) {
    const target = referenceTarget(license)
    const entity = target === undefined ? undefined : byId.get(target)
    if (entity === undefined || !hasType(entity, 'CreativeWork')) {
      problems.add(
        'root.license-entity',
        `The "license" should reference a CreativeWork entity in the graph describing it (${target ?? literalText(license)})`,
        { entityId, property: 'license' },
      )
    }
    if (entity === undefined) continue
    if (entity['@id'].startsWith('#')) {
      problems.add(
        'license.id',
        `The license ${entity['@id']} should have its URL as "@id" (e.g. https://spdx.org/licenses/CC-BY-4.0)`,
        { entityId: entity['@id'], property: '@id' },
      )
    }
    for (const property of ['name', 'description'] as const) {
      if (!hasText(entity, property)) {
        problems.add(`license.${property}`, `The license ${entity['@id']} should have a "${property}"`, {
          entityId: entity['@id'],
          property,
        })
      }
    }
  }
}
