/**
 * RO-Crate validation (1.0 to 1.2) of an `ro-crate-metadata.json`: its JSON-LD form, the metadata
 * descriptor, the root data entity and the data entities, without any network access. It reports
 * every problem it finds as a `Problem` (MUST rules as errors, SHOULD rules as warnings, each with a
 * stable `rule` code from `RO_CRATE_RULES`) and never throws on bad input.
 */
import { crateProblems, MAX_CRATE_BYTES } from '../crate.js'
import { MetadataError, type Problem } from '../errors.js'
import type { Crate, Entity, JsonValue } from '../port.js'
import { checkContextualEntities } from './contextual-entities.js'
import { checkDataEntities } from './data-entities.js'
import { checkEntityId } from './entity-ids.js'
import { checkContext, checkEntityForm } from './jsonld-form.js'
import { mainWorkflowId } from './profile-workflow.js'
import { type CrateProfile, checkProfiles, claimedProfiles } from './profiles.js'
import { checkProvenance } from './provenance.js'
import { checkDescriptor, checkRoot, chooseVersion, findDescriptorEntity } from './root-entity.js'
import { ProblemList, type RoCrateRule } from './rules.js'
import { checkWorkflows } from './workflows.js'

export interface ValidateOptions {
  /**
   * What the crate's payload holds, when the caller knows it (a zip being imported, a directory): the
   * relative paths of its files and directories, percent-decoded, directories ending with `/`. Given,
   * every data entity with a relative `@id` must be in it (`data-entity.payload`). Default: unknown,
   * not checked (Aruna's data lives in S3 objects linked by `linkObject`, not beside the metadata).
   */
  payload?: Iterable<string> | ((path: string) => boolean)
  /**
   * How the crate is packaged, when the caller knows it: `attached` (a directory or zip with its payload;
   * the root data entity's `@id` must be `./` or an absolute URI) or `detached` (a metadata document on
   * its own; every data entity must be on the web). Default: unknown, neither checked. A known `payload`
   * implies `attached`.
   */
  packaging?: 'attached' | 'detached'
  /** At most this many problems are listed (default 1000); a closing warning says when more were found. */
  maxProblems?: number
  /**
   * The largest metadata text accepted (`crate.size`), in bytes (or characters of a string). Default
   * `MAX_CRATE_BYTES` (16 MiB), what the store holds; a validator with no store behind it (a local
   * `aruna validate`) may allow more.
   */
  maxBytes?: number
}

export interface CrateValidation {
  /** True when no problem is an error (warnings allowed). */
  valid: boolean
  /**
   * The RO-Crate version whose rules were applied (`1.1`, `1.2`, …): the one the metadata descriptor
   * `conformsTo`, else the one of the crate's context.
   */
  version?: string
  /**
   * The profiles the crate claims by `conformsTo` (root data entity or metadata descriptor) whose rules were
   * applied, with the ones they extend; absent when it claims none Aruna knows.
   */
  profiles?: CrateProfile[]
  problems: Problem[]
}

const TOP_LEVEL_KEYS = new Set(['@context', '@graph'])

/**
 * Validates a crate given as the bytes of `ro-crate-metadata.json` (which must be UTF-8: `crate.encoding`),
 * its text, or parsed JSON.
 */
export function validateCrate(input: unknown, options: ValidateOptions = {}): CrateValidation {
  return run(input, options).validation
}

/**
 * The crate, when it has no errors; otherwise throws `MetadataError('InvalidCrate')` whose `problems` are
 * the errors (warnings do not refuse a crate; `validateCrate` lists them).
 */
export function readValidCrate(input: unknown, options: ValidateOptions = {}): Crate {
  const { validation, json } = run(input, options)
  const errors = validation.problems.filter((problem) => problem.severity === 'error')
  if (errors.length > 0) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more problems)` : ''
    throw new MetadataError('InvalidCrate', `${errors[0]!.message}${more}`, errors)
  }
  return json as Crate
}

function run(input: unknown, options: ValidateOptions): { validation: CrateValidation; json: unknown } {
  const problems = new ProblemList(options.maxProblems ?? 1000)
  const parsed = parseInput(input, problems, options.maxBytes ?? MAX_CRATE_BYTES)
  return {
    validation: parsed.ok ? check(parsed.json, problems, options) : finish(problems),
    json: parsed.json,
  }
}

function check(json: unknown, problems: ProblemList, options: ValidateOptions): CrateValidation {
  for (const problem of crateProblems(json)) {
    const where = problem.entityId === undefined ? {} : { entityId: problem.entityId }
    problems.add(problem.rule as RoCrateRule, problem.message, where)
  }
  // Values that are not plain JSON (or nest too deeply), or no graph at all: nothing more can be read.
  const structural = problems.problems.map((problem) => problem.rule)
  if (
    structural.includes('crate.json') ||
    structural.includes('crate.object') ||
    structural.includes('graph.array')
  ) {
    return finish(problems)
  }
  const record = json as Record<string, JsonValue>
  for (const key of Object.keys(record)) {
    if (!TOP_LEVEL_KEYS.has(key)) {
      problems.add(
        'crate.top-level-key',
        `The top level has "${key}"; only "@context" and "@graph" belong there`,
        {
          property: key,
        },
      )
    }
  }
  const context = checkContext(record['@context'], problems)
  const byId = new Map<string, Entity>()
  for (const item of record['@graph'] as JsonValue[]) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) continue
    const id = item['@id']
    if (typeof id !== 'string' || id === '') continue
    checkEntityForm(item as Entity, context.terms, problems)
    checkEntityId(item as Entity, problems)
    if (!byId.has(id)) byId.set(id, item as Entity)
  }
  const descriptor = findDescriptorEntity(byId)
  const version = chooseVersion(descriptor, context.roCrateVersion, problems)
  const rootId = checkDescriptor(descriptor, byId, context.roCrateVersion, problems)
  const root = rootId === undefined ? undefined : byId.get(rootId)
  const packaging = options.packaging ?? (options.payload === undefined ? undefined : 'attached')
  if (root !== undefined) checkRoot(root, byId, version, problems, descriptor, packaging)
  checkDataEntities(
    {
      byId,
      rootId: root?.['@id'],
      descriptorId: descriptor?.['@id'],
      payload: payloadCheck(options.payload),
      version,
      packaging,
    },
    problems,
  )
  checkContextualEntities({ byId, rootId: root?.['@id'], descriptorId: descriptor?.['@id'] }, problems)
  checkProvenance(byId, problems)
  const profiles = claimedProfiles(root, descriptor)
  // Workflow RO-Crate makes the main workflow's language a MUST (profile.workflow.programmingLanguage).
  const languageRequired =
    root !== undefined && profiles.includes('workflow') ? mainWorkflowId({ byId, root }) : undefined
  checkWorkflows(
    { byId, rootId: root?.['@id'], descriptorId: descriptor?.['@id'] },
    problems,
    languageRequired,
  )
  if (root !== undefined && profiles.length > 0) {
    checkProfiles({ byId, root, descriptor, profiles, version }, problems)
  }
  const result = finish(problems, version)
  return profiles.length > 0 ? { ...result, profiles } : result
}

function parseInput(input: unknown, problems: ProblemList, maxBytes: number): { ok: boolean; json: unknown } {
  let text: string
  if (input instanceof Uint8Array) {
    if (input.length > maxBytes) {
      problems.add('crate.size', `The crate is larger than ${maxBytes} bytes`)
      return { ok: false, json: undefined }
    }
    try {
      // NUL bytes never belong in JSON text (controls are escaped) but fill UTF-16 text, which decodes.
      if (input.includes(0)) throw new Error('NUL')
      text = new TextDecoder('utf-8', { fatal: true }).decode(input)
    } catch {
      problems.add(
        'crate.encoding',
        'The metadata file is not UTF-8: save it as UTF-8 (it was probably written as Latin-1 or UTF-16)',
      )
      return { ok: false, json: undefined }
    }
  } else if (typeof input === 'string') {
    text = input
  } else {
    return { ok: true, json: input }
  }
  if (text.length > maxBytes) {
    problems.add('crate.size', `The crate is larger than ${maxBytes} characters`)
    return { ok: false, json: undefined }
  }
  try {
    return { ok: true, json: JSON.parse(text) }
  } catch (error) {
    problems.add('crate.json', `The crate is not JSON: ${(error as Error).message}`)
    return { ok: false, json: undefined }
  }
}

function payloadCheck(payload: ValidateOptions['payload']): ((path: string) => boolean) | undefined {
  if (payload === undefined || typeof payload === 'function') return payload
  const paths = new Set(payload)
  return (path) => paths.has(path)
}

function finish(problems: ProblemList, version?: string): CrateValidation {
  const list = problems.finish()
  const valid = !list.some((problem) => problem.severity === 'error')
  return version === undefined ? { valid, problems: list } : { valid, version, problems: list }
}
