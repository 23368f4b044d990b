import { AuthError } from './errors.js'

/** The longest resource path accepted (an S3 key is at most 1024 bytes; the prefix adds little). */
export const MAX_PATH_LENGTH = 4096

/**
 * Index of the first control character (C0, DEL or C1) in `s` from `from`, or -1. These never belong
 * in a path: they hide in logs and terminals, and NUL truncates in C APIs.
 */
export function controlCharIndex(s: string, from = 0, to = s.length): number {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return i
  }
  return -1
}

/** A string for an error message: quoted, escaped, and cut short so a hostile input stays small. */
export function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s)
}

/**
 * Splits a resource path (`/{realm}/g/{group}/data/{bucket}/{key…}`) into its segments, refusing what
 * could make a path mean two things: a relative path, `.` or `..` segments, control characters.
 *
 * Empty segments are allowed, because S3 keys may contain them (`dir/` folder markers, `a//b`); they
 * are matched like any other segment (by `*` and `**`, never by a literal). Nothing is decoded or
 * normalised: the path is authorized exactly as it will be used.
 *
 * @throws AuthError('InvalidPath')
 */
export function parseResourcePath(path: string): string[] {
  if (typeof path !== 'string' || path.length === 0) throw invalidPath(path, 'it is empty')
  if (path.length > MAX_PATH_LENGTH) {
    throw invalidPath(path, `it is ${path.length} characters long, more than ${MAX_PATH_LENGTH}`)
  }
  if (path.charCodeAt(0) !== 0x2f) throw invalidPath(path, "it must be absolute (start with '/')")
  const control = controlCharIndex(path)
  if (control >= 0) throw invalidPath(path, `control character at offset ${control}`)
  const segments = path.slice(1).split('/')
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]
    if (segment === '.' || segment === '..') {
      throw invalidPath(path, `segment ${i + 1} is ${quote(segment)}: dot segments are not allowed`)
    }
  }
  return segments
}

function invalidPath(path: unknown, why: string): AuthError {
  const shown = typeof path === 'string' ? quote(path) : typeof path
  return new AuthError('InvalidPath', `invalid resource path ${shown}: ${why}`)
}
