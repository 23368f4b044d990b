/**
 * Data entities: the files (`File`, schema.org `MediaObject`) and directories (`Dataset`) the crate
 * describes, other than the root and the descriptor, and not local `#ids`. Every one must be reachable
 * from the root data entity through `hasPart`; directories should end with `/`; files should say their
 * `encodingFormat`; files on the web should say when they were retrieved and how big they are.
 */
import type { Entity } from '../port.js'
import { climbsOut } from './entity-ids.js'
import {
  hasText,
  hasType,
  isAbsoluteUri,
  isLocalId,
  isWebUri,
  literalText,
  payloadPath,
  referencesOf,
  referenceTarget,
  valuesOf,
} from './graph.js'
import { iso8601Precision } from './iso8601.js'
import { isAtLeast12, RO_CRATE_SPEC } from './root-entity.js'
import type { ProblemList } from './rules.js'

/** `type/subtype`, optional `+suffix` and `;parameter=value`s, as the RO-Crate validator accepts. */
const MEDIA_TYPE = /^\w*\/\w[\w.-]*(?:\+\w[\w.-]*)?(?:;\w+=[^;]+)*$/

export interface DataEntityContext {
  byId: ReadonlyMap<string, Entity>
  rootId: string | undefined
  descriptorId: string | undefined
  /** Paths present in the payload (percent-decoded, directories ending with `/`), when known. */
  payload: ((path: string) => boolean) | undefined
  /** The RO-Crate version whose rules apply. */
  version?: string | undefined
  /** How the crate is packaged, when known (`ValidateOptions.packaging`). */
  packaging?: 'attached' | 'detached' | undefined
}

export function isDataEntity(
  entity: Entity,
  context: Pick<DataEntityContext, 'rootId' | 'descriptorId'>,
): boolean {
  const id = entity['@id']
  if (id === context.rootId || id === context.descriptorId || isLocalId(id)) return false
  return hasType(entity, 'File') || hasType(entity, 'Dataset')
}

export function checkDataEntities(context: DataEntityContext, problems: ProblemList): void {
  const reachable = context.rootId === undefined ? undefined : reachableFrom(context.rootId, context.byId)
  for (const entity of context.byId.values()) {
    for (const part of referencesOf(entity, 'hasPart')) {
      if (!/^(?:\.\/)?ro-crate-preview(?:\.html|_files(?:\/.*)?)$/.test(part)) continue
      problems.add(
        'preview.hasPart',
        `${entity['@id']} lists the preview ${part} in "hasPart": the preview describes the crate and is not part of its payload`,
        { entityId: entity['@id'], property: 'hasPart' },
      )
    }
    checkThumbnails(entity, context, problems)
    if (hasType(entity, 'WebSite') && !hasText(entity, 'name')) {
      problems.add('website.name', `The WebSite ${entity['@id']} should have a "name"`, {
        entityId: entity['@id'],
        property: 'name',
      })
    }
    if (!isDataEntity(entity, context)) continue
    const id = entity['@id']
    if (reachable !== undefined && !reachable.has(idKey(id))) {
      problems.add(
        'data-entity.linked',
        `The data entity ${id} is not reachable from the root data entity by "hasPart"`,
        {
          entityId: id,
          property: 'hasPart',
        },
      )
    }
    checkIdentifier(entity, context, problems)
    checkLocalPath(entity, problems)
    checkReferencedCrate(entity, problems)
    // Workflows and scripts must have a name (workflow.name): reported there.
    const code = hasType(entity, 'SoftwareSourceCode') || hasType(entity, 'ComputationalWorkflow')
    if (isAtLeast12(context.version) && !code && !hasText(entity, 'name')) {
      problems.add('data-entity.name', `The data entity ${id} should have a "name" people can read`, {
        entityId: id,
        property: 'name',
      })
    }
    checkDataLicense(entity, context.byId, problems)
    if (hasType(entity, 'File')) {
      checkFile(entity, context.byId, problems)
      checkContentSize(entity, context.version, problems)
    }
  }
}

function checkIdentifier(entity: Entity, context: DataEntityContext, problems: ProblemList): void {
  const id = entity['@id']
  if (/^file:/i.test(id)) {
    problems.add(
      'data-entity.local-uri',
      `The data entity ${id} is a file: URI, which only its own machine can resolve`,
      {
        entityId: id,
      },
    )
    return
  }
  if (isAbsoluteUri(id)) return
  if (context.packaging === 'detached') {
    problems.add(
      'data-entity.detached-relative',
      `The data entity ${id} has a relative "@id", but a detached crate has no payload: use the file's web URL as "@id"`,
      { entityId: id, property: '@id' },
    )
    return
  }
  if (hasType(entity, 'Dataset') && !id.endsWith('/')) {
    problems.add('data-entity.directory-id', `The directory ${id} should have an "@id" ending with "/"`, {
      entityId: id,
    })
  }
  const inPayload = (path: string): boolean => context.payload?.(path) ?? true
  if (!inPayload(payloadPath(id)) && !inPayload(id.replace(/^\.\//, ''))) {
    if (isAtLeast12(context.version)) {
      // RO-Crate 1.2 lets a crate describe files it does not carry (too large, private, elsewhere).
      problems.add(
        'data-entity.payload-absent',
        `The data entity ${id} is not in the crate's payload: if it lives on the web, use its URL as "@id"; if it is left out on purpose, give it a local "@id" such as "#${id}" with "localPath": "${id}"`,
        { entityId: id },
      )
    } else {
      problems.add('data-entity.payload', `The data entity ${id} is not in the crate's payload`, {
        entityId: id,
      })
    }
  }
}

/** A data entity's own `license` (one differing from the root's) is a CreativeWork entity, as the root's is. */
function checkDataLicense(entity: Entity, byId: ReadonlyMap<string, Entity>, problems: ProblemList): void {
  for (const value of valuesOf(entity, 'license')) {
    const target = referenceTarget(value)
    const license = target === undefined ? undefined : byId.get(target)
    if (license !== undefined && hasType(license, 'CreativeWork')) continue
    problems.add(
      'data-entity.license-entity',
      `The "license" of ${entity['@id']} should reference a CreativeWork entity describing the license (its URL as "@id", a "name" and a "description")`,
      { entityId: entity['@id'], property: 'license' },
    )
  }
}

/** Thumbnails must be in the crate: checked against the payload when it is known. */
function checkThumbnails(entity: Entity, context: DataEntityContext, problems: ProblemList): void {
  if (context.payload === undefined) return
  for (const target of referencesOf(entity, 'thumbnail')) {
    if (isAbsoluteUri(target) || isLocalId(target)) continue
    if (context.payload(payloadPath(target)) || context.payload(target.replace(/^\.\//, ''))) continue
    problems.add(
      'thumbnail.payload',
      `The thumbnail ${target} of ${entity['@id']} must be included in the crate, but the payload does not have it`,
      { entityId: entity['@id'], property: 'thumbnail' },
    )
  }
}

/** A Dataset standing for another RO-Crate `conformsTo` the version-less RO-Crate URI (any version may be inside). */
function checkReferencedCrate(entity: Entity, problems: ProblemList): void {
  if (!hasType(entity, 'Dataset')) return
  for (const target of referencesOf(entity, 'conformsTo')) {
    const version = RO_CRATE_SPEC.exec(target)?.[1]
    if (version === undefined) continue
    problems.add(
      'referenced-crate.conformsTo',
      `The Dataset ${entity['@id']} stands for another RO-Crate: its "conformsTo" must be {"@id": "https://w3id.org/ro/crate"} without the version ${version}`,
      { entityId: entity['@id'], property: 'conformsTo' },
    )
  }
}

/** `contentSize`: the size in bytes; every File should say it from 1.2 on (web files: web-data-entity.contentSize). */
function checkContentSize(file: Entity, version: string | undefined, problems: ProblemList): void {
  const entityId = file['@id']
  const sizes = valuesOf(file, 'contentSize')
  for (const size of sizes) {
    const text = typeof size === 'number' ? String(size) : literalText(size)
    if (text !== undefined && /^\d+$/.test(text.trim())) continue
    problems.add(
      'file.contentSize',
      `The "contentSize" ${JSON.stringify(size)} of ${entityId} should be the size in bytes, digits only (e.g. "383766")`,
      { entityId, property: 'contentSize' },
    )
  }
  if (sizes.length === 0 && isAtLeast12(version) && !isWebUri(entityId)) {
    problems.add('file.contentSize', `The file ${entityId} should have a "contentSize" (its size in bytes)`, {
      entityId,
      property: 'contentSize',
    })
  }
}

/** `localPath` (RO-Crate 1.2): where a web-based data entity goes when the crate is materialised. */
function checkLocalPath(entity: Entity, problems: ProblemList): void {
  for (const value of valuesOf(entity, 'localPath')) {
    const path = literalText(value)
    if (
      path !== undefined &&
      path !== '' &&
      !path.startsWith('/') &&
      !isAbsoluteUri(path) &&
      !climbsOut(path)
    ) {
      continue
    }
    problems.add(
      'data-entity.localPath',
      `The "localPath" ${JSON.stringify(value)} of ${entity['@id']} should be a relative path inside the crate, e.g. "data/input.csv"`,
      { entityId: entity['@id'], property: 'localPath' },
    )
  }
}

function checkFile(file: Entity, byId: ReadonlyMap<string, Entity>, problems: ProblemList): void {
  const entityId = file['@id']
  const formats = valuesOf(file, 'encodingFormat')
  const usable = formats.some((format) => {
    const text = literalText(format)
    if (text !== undefined) return MEDIA_TYPE.test(text)
    const target = referenceTarget(format)
    const site = target === undefined ? undefined : byId.get(target)
    return site !== undefined && hasType(site, 'WebSite')
  })
  if (!usable) {
    problems.add(
      'file.encodingFormat',
      `The file ${entityId} should have an "encodingFormat": a media type (e.g. text/csv) or a reference to a WebSite entity (e.g. a PRONOM format)`,
      { entityId, property: 'encodingFormat' },
    )
  }
  if (!isWebUri(entityId)) return
  const retrieved = valuesOf(file, 'sdDatePublished').map(literalText)
  if (!retrieved.some((text) => text !== undefined && iso8601Precision(text) !== undefined)) {
    problems.add(
      'web-data-entity.sdDatePublished',
      `The web file ${entityId} should have an "sdDatePublished" in ISO 8601`,
      {
        entityId,
        property: 'sdDatePublished',
      },
    )
  }
  if (valuesOf(file, 'contentSize').length === 0) {
    problems.add('web-data-entity.contentSize', `The web file ${entityId} should have a "contentSize"`, {
      entityId,
      property: 'contentSize',
    })
  }
}

/**
 * The ids reachable from `rootId` through `hasPart` (of any entity on the way), cycles included once,
 * as `idKey`s: a relative id written percent-encoded in one place and plain in another (`a%20b.txt`,
 * `a b.txt`) names one file, as RDF tools that normalise IRIs see it.
 */
function reachableFrom(rootId: string, byId: ReadonlyMap<string, Entity>): Set<string> {
  const byKey = new Map<string, Entity>()
  for (const [id, entity] of byId) if (!byKey.has(idKey(id))) byKey.set(idKey(id), entity)
  const seen = new Set<string>([idKey(rootId)])
  const queue = [idKey(rootId)]
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    const entity = byKey.get(next)
    if (entity === undefined) continue
    for (const part of referencesOf(entity, 'hasPart').map(idKey)) {
      if (seen.has(part)) continue
      seen.add(part)
      queue.push(part)
    }
  }
  return seen
}

function idKey(id: string): string {
  return isAbsoluteUri(id) || isLocalId(id) ? id : payloadPath(id)
}
