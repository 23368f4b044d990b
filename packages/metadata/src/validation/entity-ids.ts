/**
 * The syntax of every entity's `@id`: a valid IRI reference (JSON-LD identifies nodes by IRIs), and a
 * relative one never climbs out of the crate's root with `..` segments.
 */
import type { Entity } from '../port.js'
import { isAbsoluteUri, isLocalId } from './graph.js'
import type { ProblemList } from './rules.js'

/**
 * Characters no IRI may hold (RFC 3987): controls, and `<>"{}|\^` and the backtick. A plain space is not
 * allowed either, but crates write file names with spaces unencoded and every RO-Crate tool reads them as
 * the percent-encoded name: a warning of its own (`entity.id-space`).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: controls are what this looks for
const NOT_IN_IRI = /[\u0000-\u001f\u007f<>"{}|\\^`]/

export function checkEntityId(entity: Entity, problems: ProblemList): void {
  const id = entity['@id']
  const bad = NOT_IN_IRI.exec(id)?.[0]
  if (bad !== undefined) {
    problems.add(
      'entity.id-iri',
      `The "@id" ${JSON.stringify(id)} is not a valid identifier: it holds ${describeCharacter(bad)} (percent-encode it, e.g. %${hex(bad)})`,
      { entityId: id, property: '@id' },
    )
  }
  if (id.includes(' ')) {
    problems.add(
      'entity.id-space',
      `The "@id" ${JSON.stringify(id)} holds a space: write it as %20 ("${id.replaceAll(' ', '%20')}")`,
      { entityId: id, property: '@id' },
    )
  }
  if (climbsOut(id)) {
    problems.add(
      'entity.id-parent',
      `The "@id" ${id} points outside the crate with ".."; name files inside the crate, or by their web URL`,
      { entityId: id, property: '@id' },
    )
  }
}

/** Whether a relative path (or a relative `localPath`) goes above where it starts with `..` segments. */
export function climbsOut(path: string): boolean {
  if (isAbsoluteUri(path) || isLocalId(path)) return false
  const end = path.search(/[?#]/)
  let depth = 0
  for (const segment of (end === -1 ? path : path.slice(0, end)).split('/')) {
    const decoded = segment.replace(/%2e/gi, '.')
    if (decoded === '..') depth -= 1
    else if (decoded !== '.' && decoded !== '') depth += 1
    if (depth < 0) return true
  }
  return false
}

function hex(character: string): string {
  return character.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')
}

function describeCharacter(character: string): string {
  const code = character.charCodeAt(0)
  if (code === 0x09) return 'a tab'
  if (code === 0x0a || code === 0x0d) return 'a line break'
  if (code < 0x20 || code === 0x7f) return `the control character U+${hex(character).padStart(4, '0')}`
  return `"${character}"`
}
