/**
 * Provenance: actions (CreateAction, UpdateAction, … any schema.org `*Action`) with a name, an agent, an
 * ISO 8601 `endTime` and a valid `actionStatus`, curation actions with an `object`, and software
 * applications with a version.
 */
import type { Entity } from '../port.js'
import { hasText, hasType, literalText, referenceTarget, typesOf, valuesOf } from './graph.js'
import { iso8601Precision } from './iso8601.js'
import type { ProblemList } from './rules.js'

const STATUSES = new Set([
  'ActiveActionStatus',
  'CompletedActionStatus',
  'FailedActionStatus',
  'PotentialActionStatus',
])

function isAction(entity: Entity): boolean {
  return typesOf(entity).some((type) => /^[A-Za-z]*Action$/.test(type))
}

export function checkProvenance(byId: ReadonlyMap<string, Entity>, problems: ProblemList): void {
  for (const entity of byId.values()) {
    if (
      hasType(entity, 'SoftwareApplication') &&
      !hasText(entity, 'version') &&
      !hasText(entity, 'softwareVersion')
    ) {
      const version = valuesOf(entity, 'version').some((value) => typeof value === 'number')
      if (!version) {
        problems.add(
          'software.version',
          `The software ${entity['@id']} should have a "version", so that others can run the same one`,
          { entityId: entity['@id'], property: 'version' },
        )
      }
    }
    if (isAction(entity)) checkAction(entity, problems)
  }
}

function checkAction(action: Entity, problems: ProblemList): void {
  const entityId = action['@id']
  const where = (property: string) => ({ entityId, property })
  if (hasType(action, 'UpdateAction') && valuesOf(action, 'object').length === 0) {
    problems.add(
      'action.object',
      `The update ${entityId} must have an "object": the crate or the part of it that was changed`,
      where('object'),
    )
  }
  let endDay = false
  let endWrong = false
  for (const property of ['startTime', 'endTime'] as const) {
    for (const value of valuesOf(action, property)) {
      const text = literalText(value)
      const precision = text === undefined ? undefined : iso8601Precision(text)
      if (precision === undefined) {
        problems.add(
          'action.time',
          `The "${property}" ${JSON.stringify(value)} of ${entityId} must be a date in ISO 8601, e.g. 2024-05-17T13:20:00Z`,
          where(property),
        )
        if (property === 'endTime') endWrong = true
      } else if (property === 'endTime' && precision === 'day') {
        endDay = true
      }
    }
  }
  if (!endDay && !endWrong) {
    problems.add(
      'action.endTime',
      `The action ${entityId} should have an "endTime" naming at least the day it ended`,
      where('endTime'),
    )
  }
  if (!hasText(action, 'name')) {
    problems.add('action.name', `The action ${entityId} should have a "name"`, where('name'))
  }
  if (valuesOf(action, 'agent').length === 0) {
    problems.add(
      'action.agent',
      `The action ${entityId} should have an "agent": who ran it or is responsible for it`,
      where('agent'),
    )
  }
  for (const value of valuesOf(action, 'actionStatus')) {
    const status = (referenceTarget(value) ?? literalText(value) ?? '').trim()
    const term = status.replace(/^(?:https?:\/\/schema\.org\/|schema:)/, '')
    if (STATUSES.has(term)) continue
    problems.add(
      'action.actionStatus',
      `The "actionStatus" ${JSON.stringify(value)} of ${entityId} must be one of ${[...STATUSES].map((name) => `{"@id": "http://schema.org/${name}"}`).join(', ')}`,
      where('actionStatus'),
    )
  }
}
