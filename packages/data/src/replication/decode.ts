/**
 * Shape checks for decoding hostile messages: each returns the value typed or throws a plain `Error`
 * naming what is wrong (the network codec turns it into `MalformedMessage`). Every list and string has
 * a bound, so a decoder's work is bounded by its limits, not by the sender.
 */

export function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array)
    throw new Error(`${what} is not an object`)
  return value as Record<string, unknown>
}

/** An object with only `allowed` keys (a record never carries what its type does not know). */
export function exact(value: unknown, what: string, allowed: readonly string[]): Record<string, unknown> {
  const v = record(value, what)
  for (const key of Object.keys(v))
    if (!allowed.includes(key)) throw new Error(`${what} has an unknown field`)
  return v
}

export function text(value: unknown, what: string, max: number, min = 1): string {
  if (typeof value !== 'string' || value.length < min || value.length > max) throw new Error(`bad ${what}`)
  return value
}

export function integer(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    throw new Error(`bad ${what}`)
  // JSON.parse gives -0 for "-0", which encodes as 0: normalise it, or the message would not round-trip.
  return value === 0 ? 0 : value
}

export function boolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw new Error(`bad ${what}`)
  return value
}

export function bytes(value: unknown, what: string, max: number): Uint8Array {
  if (!(value instanceof Uint8Array) || value.byteLength > max) throw new Error(`bad ${what}`)
  return value
}

export function list<T>(
  value: unknown,
  what: string,
  min: number,
  max: number,
  item: (v: unknown) => T,
): T[] {
  if (!Array.isArray(value) || value.length < min || value.length > max) throw new Error(`bad ${what}`)
  return value.map(item)
}

/** A string → string map of at most `maxEntries`, keys and values at most `maxText` long. */
export function textMap(
  value: unknown,
  what: string,
  maxEntries: number,
  maxText: number,
): Record<string, string> {
  const v = record(value, what)
  const entries = Object.entries(v)
  if (entries.length > maxEntries) throw new Error(`${what} has too many entries`)
  const out: Record<string, string> = {}
  for (const [key, item] of entries) {
    text(key, `${what} name`, maxText, 0)
    // defineProperty: a hostile "__proto__" key stays a plain property.
    Object.defineProperty(out, key, {
      value: text(item, `${what} value`, maxText, 0),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return out
}

/** `{ ...(value === undefined ? {} : { [key]: check(value) }) }`: optional fields stay absent. */
export function optional<K extends string, T>(
  key: K,
  value: unknown,
  check: (v: unknown) => T,
): { [P in K]?: T } {
  return (value === undefined ? {} : { [key]: check(value) }) as { [P in K]?: T }
}
