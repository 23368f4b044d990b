/**
 * JSON values in and out of Automerge. Every string goes in as an `ImmutableString`: a property value is
 * replaced whole, never edited character by character, and a scalar costs far less than collaborative
 * text. Numbers go in as Automerge's ints and floats, except integers of 2^52 and more: Automerge keeps
 * those as 64-bit ints that read back as `bigint` (and clamps beyond 2^63), so they go in as `Float64`,
 * which holds every JSON number exactly. Automerge honours a `Float64` only when it is assigned on its
 * own (not inside an object or array literal), hence `writeValue`.
 */
import { Counter, Float64, ImmutableString } from '@automerge/automerge'
import type { JsonObject, JsonValue } from '../port.js'

/** What `writeValue` stores: the value as it reads back inside an Automerge change. */
export type AutomergeValue = null | boolean | number | ImmutableString | AutomergeValue[] | AutomergeObject
export interface AutomergeObject {
  [key: string]: AutomergeValue
}

const WIDE_INTEGER = 2 ** 52

function isWideInteger(value: number): boolean {
  return Number.isInteger(value) && Math.abs(value) >= WIDE_INTEGER
}

function hasWideInteger(value: JsonValue): boolean {
  if (typeof value === 'number') return isWideInteger(value)
  if (typeof value !== 'object' || value === null) return false
  return (Array.isArray(value) ? value : Object.values(value)).some(hasWideInteger)
}

/** A JSON value as an Automerge literal, strings immutable; wide integers would be clamped (see `writeValue`). */
function literal(value: JsonValue): AutomergeValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return value
  if (typeof value === 'string') return new ImmutableString(value)
  if (Array.isArray(value)) return value.map(literal)
  const object: AutomergeObject = {}
  for (const [key, item] of Object.entries(value)) object[key] = literal(item)
  return object
}

/**
 * Stores `value` at `target[key]`, inside an Automerge change (`target` is a map or list proxy). Values
 * without wide integers are assigned in one go; others are built up key by key, each wide integer
 * assigned on its own as a `Float64`.
 */
export function writeValue(target: object, key: string | number, value: JsonValue): void {
  const slots = target as Record<string | number, unknown>
  if (!hasWideInteger(value)) {
    slots[key] = literal(value)
  } else if (typeof value === 'number') {
    slots[key] = new Float64(value)
  } else if (Array.isArray(value)) {
    slots[key] = value.map(() => null)
    const list = slots[key] as object
    value.forEach((item, index) => {
      writeValue(list, index, item)
    })
  } else {
    slots[key] = {}
    const map = slots[key] as object
    for (const [name, item] of Object.entries(value as JsonObject)) writeValue(map, name, item)
  }
}

/**
 * A plain JSON copy of a value read from an Automerge document, whatever wrote it: immutable strings and
 * collaborative text become strings, counters and 64-bit integers numbers, dates ISO strings.
 */
export function fromAutomerge(value: unknown): JsonValue {
  if (value === null || value === undefined) return null
  if (typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  if (typeof value === 'bigint') return Number(value)
  if (value instanceof ImmutableString) return value.val
  if (value instanceof Date) return value.toISOString()
  if (value instanceof Counter) return value.value
  if (Array.isArray(value)) return value.map(fromAutomerge)
  if (typeof value === 'object') {
    const object: JsonObject = {}
    for (const [key, item] of Object.entries(value)) {
      // defineProperty: a key named like an Object.prototype member stays plain data.
      Object.defineProperty(object, key, {
        value: fromAutomerge(item),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    return object
  }
  return null
}

/** The text of a string read from a document (immutable or collaborative), or undefined. */
export function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (value instanceof ImmutableString) return value.val
  return undefined
}

/**
 * The path to the first object key Automerge refuses (`__proto__`), or undefined. JSON.parse makes such
 * keys own properties; they must be refused before a change, not fail inside it.
 */
export function unstorableKey(value: JsonValue, at = ''): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      const found = unstorableKey(value[index]!, `${at}[${index}]`)
      if (found !== undefined) return found
    }
    return undefined
  }
  for (const [key, item] of Object.entries(value)) {
    if (key === '__proto__') return `${at}.${key}`
    const found = unstorableKey(item, `${at}.${key}`)
    if (found !== undefined) return found
  }
  return undefined
}
