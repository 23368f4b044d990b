/**
 * RO-Crate profiles a crate claims by `conformsTo` (the root data entity's, and the metadata descriptor's
 * as RO-Crate 1.1 crates write it): Workflow RO-Crate 1.0, the Workflow Run Crate family (Process,
 * Workflow, Provenance Run Crate 0.x) and Workflow Testing RO-Crate 0.1. A profile that extends another
 * brings its rules along (Workflow Run Crate: Process Run Crate and Workflow RO-Crate). The rules of each
 * profile are in `profile-workflow.ts` and `profile-run.ts`; levels follow the profile documents (MUST an
 * error, SHOULD a warning).
 */
import type { Entity, JsonValue } from '../port.js'
import { literalText, referenceTarget, typesOf, valuesOf } from './graph.js'
import { checkProcessRun, checkProvenanceRun, checkWorkflowRun } from './profile-run.js'
import { checkWorkflowRoCrate, checkWorkflowTesting } from './profile-workflow.js'
import type { ProblemList } from './rules.js'

export type CrateProfile = 'workflow' | 'process-run' | 'workflow-run' | 'provenance-run' | 'workflow-testing'

export const PROFILE_NAMES: Readonly<Record<CrateProfile, string>> = {
  workflow: 'Workflow RO-Crate',
  'process-run': 'Process Run Crate',
  'workflow-run': 'Workflow Run Crate',
  'provenance-run': 'Provenance Run Crate',
  'workflow-testing': 'Workflow Testing RO-Crate',
}

/** The permalinks, without their version, that name each profile. */
const PERMALINKS: readonly [CrateProfile, RegExp][] = [
  ['workflow', /^https?:\/\/w3id\.org\/workflowhub\/workflow-ro-crate\/1\.\d+\/?$/],
  ['process-run', /^https?:\/\/w3id\.org\/ro\/wfrun\/process\/0\.\d+\/?$/],
  ['workflow-run', /^https?:\/\/w3id\.org\/ro\/wfrun\/workflow\/0\.\d+\/?$/],
  ['provenance-run', /^https?:\/\/w3id\.org\/ro\/wfrun\/provenance\/0\.\d+\/?$/],
  ['workflow-testing', /^https?:\/\/w3id\.org\/ro\/wftest\/0\.\d+\/?$/],
]

/** What each profile extends ("inherits the requirements of"). */
const EXTENDS: Readonly<Record<CrateProfile, readonly CrateProfile[]>> = {
  workflow: [],
  'process-run': [],
  'workflow-run': ['process-run', 'workflow'],
  'provenance-run': ['workflow-run'],
  'workflow-testing': ['workflow'],
}

export function profileOf(uri: string): CrateProfile | undefined {
  return PERMALINKS.find(([, pattern]) => pattern.test(uri))?.[0]
}

/** The profile URIs a `conformsTo` names, as references or (leniently) as plain strings. */
export function conformsToUris(entity: Entity | undefined): string[] {
  if (entity === undefined) return []
  return valuesOf(entity, 'conformsTo')
    .map((value) => referenceTarget(value) ?? literalText(value))
    .filter((uri): uri is string => uri !== undefined)
}

/** The profiles claimed by the root's and the descriptor's `conformsTo`, with the ones they extend. */
export function claimedProfiles(root: Entity | undefined, descriptor: Entity | undefined): CrateProfile[] {
  const found = new Set<CrateProfile>()
  const add = (profile: CrateProfile): void => {
    if (found.has(profile)) return
    found.add(profile)
    for (const parent of EXTENDS[profile]) add(parent)
  }
  for (const uri of [...conformsToUris(root), ...conformsToUris(descriptor)]) {
    const profile = profileOf(uri)
    if (profile !== undefined) add(profile)
  }
  return PERMALINKS.map(([profile]) => profile).filter((profile) => found.has(profile))
}

export interface ProfileContext {
  byId: ReadonlyMap<string, Entity>
  root: Entity
  descriptor: Entity | undefined
  profiles: readonly CrateProfile[]
  version: string | undefined
}

/** Checks the rules of every profile the crate claims; returns the profiles (for the report). */
export function checkProfiles(context: ProfileContext, problems: ProblemList): void {
  const has = (profile: CrateProfile) => context.profiles.includes(profile)
  if (has('workflow')) checkWorkflowRoCrate(context, problems)
  if (has('workflow-testing')) checkWorkflowTesting(context, problems)
  if (has('process-run')) checkProcessRun(context, problems)
  if (has('workflow-run')) checkWorkflowRun(context, problems)
  if (has('provenance-run')) checkProvenanceRun(context, problems)
}

// Helpers the profile modules share.

const TERM_NAMESPACES = [
  'https://w3id.org/ro/terms/test#',
  'https://w3id.org/ro/terms/workflow-run#',
  'https://bioschemas.org/',
  'https://bioschemas.org/types/',
]

/** Whether the entity has the type, written as a term or as an IRI of the namespaces profiles use. */
export function isA(entity: Entity | undefined, type: string): boolean {
  if (entity === undefined) return false
  return typesOf(entity).some(
    (candidate) =>
      candidate === type || TERM_NAMESPACES.some((namespace) => candidate === `${namespace}${type}`),
  )
}

/** The entities a property references and the graph describes (references to others are left out). */
export function targetsOf(context: Pick<ProfileContext, 'byId'>, entity: Entity, property: string): Entity[] {
  return valuesOf(entity, property)
    .map(referenceTarget)
    .map((id) => (id === undefined ? undefined : context.byId.get(id)))
    .filter((target): target is Entity => target !== undefined)
}

/** The root's main entity, when it references one the graph describes. */
export function mainEntityOf(context: Pick<ProfileContext, 'byId' | 'root'>): Entity | undefined {
  return targetsOf(context, context.root, 'mainEntity')[0]
}

export function idsOf(entity: Entity, property: string): string[] {
  return valuesOf(entity, property)
    .map((value: JsonValue) => referenceTarget(value) ?? literalText(value))
    .filter((id): id is string => id !== undefined)
}
