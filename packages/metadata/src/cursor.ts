/**
 * Opaque paging cursors: base64url of a small JSON object naming what it pages (`kind`) and where the
 * previous page ended. Cursors are not secret or signed; they are checked on the way back in, and one
 * made for another listing or query is refused with `InvalidCursor` rather than misread.
 */
import { MetadataError } from './errors.js'

const MAX_CURSOR_LENGTH = 2048

export function encodeCursor(payload: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')
}

/**
 * Decodes a cursor made by `encodeCursor` for `kind`, checking that each field in `shape` has the named
 * type. Throws `InvalidCursor` otherwise.
 */
export function decodeCursor(
  cursor: unknown,
  kind: string,
  shape: Record<string, 'string' | 'number'>,
): Record<string, string | number> {
  if (
    typeof cursor !== 'string' ||
    cursor === '' ||
    cursor.length > MAX_CURSOR_LENGTH ||
    !/^[A-Za-z0-9_-]+$/.test(cursor)
  ) {
    throw invalidCursor()
  }
  let payload: unknown
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw invalidCursor()
  }
  if (typeof payload !== 'object' || payload === null) throw invalidCursor()
  const record = payload as Record<string, unknown>
  if (record.kind !== kind) throw invalidCursor()
  for (const [field, type] of Object.entries(shape)) {
    if (typeof record[field] !== type) throw invalidCursor()
  }
  return record as Record<string, string | number>
}

export function invalidCursor(): MetadataError {
  return new MetadataError('InvalidCursor', 'The cursor was not made by this listing or query')
}

/** Throws `InvalidInput` unless `limit` is a whole number in 1..max; returns it or the default. */
export function checkLimit(limit: unknown, fallback: number, max = 1000): number {
  if (limit === undefined) return fallback
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new MetadataError('InvalidInput', `The limit must be a whole number from 1 to ${max}`)
  }
  return limit
}
