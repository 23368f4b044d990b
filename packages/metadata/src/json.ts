/**
 * Checks that a value is plain JSON before it goes into a document: a CRDT and its peers can only carry
 * JSON, and a value that is not (undefined, a function, NaN, a Date, a cycle) must be refused at the
 * door with a clear message rather than fail later on another node.
 */
import type { JsonValue } from './port.js'

/** Deeper values are refused: a crate's values are shallow, and hostile input must not exhaust the stack. */
export const MAX_JSON_DEPTH = 64

/** `undefined` when `value` is JSON; otherwise what is wrong and where (`at` names the root). */
export function jsonProblem(value: unknown, at: string): string | undefined {
  return check(value, at, 0, new Set())
}

export function isJsonValue(value: unknown): value is JsonValue {
  return jsonProblem(value, 'value') === undefined
}

function check(value: unknown, at: string, depth: number, seen: Set<object>): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${at} is not a finite number`
  if (typeof value !== 'object') return `${at} is ${typeof value}, not JSON`
  if (depth >= MAX_JSON_DEPTH) return `${at} is nested deeper than ${MAX_JSON_DEPTH} levels`
  if (seen.has(value)) return `${at} refers back to itself`
  seen.add(value)
  try {
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index += 1) {
        const problem = check(value[index], `${at}[${index}]`, depth + 1, seen)
        if (problem) return problem
      }
      return undefined
    }
    const prototype = Object.getPrototypeOf(value)
    if (prototype !== Object.prototype && prototype !== null) return `${at} is not a plain object`
    for (const [key, item] of Object.entries(value)) {
      const problem = check(item, `${at}.${key}`, depth + 1, seen)
      if (problem) return problem
    }
    return undefined
  } finally {
    seen.delete(value)
  }
}

/** A deep copy of checked JSON (so the caller's later changes do not reach a document, and back). */
export function copyJson<T extends JsonValue>(value: T): T {
  return structuredClone(value)
}
