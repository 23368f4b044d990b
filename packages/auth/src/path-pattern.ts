import { AuthError } from './errors.js'
import { controlCharIndex, parseResourcePath, quote } from './resource-path.js'

/** The longest pattern accepted. */
export const MAX_PATTERN_LENGTH = 4096

/** How one pattern segment matches one path segment (`globstar` is handled by the segment loop). */
type SegmentMatcher =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'one' }
  | { readonly kind: 'glob'; readonly parts: readonly string[] }
  | { readonly kind: 'globstar' }

/**
 * A compiled path pattern, such as `/{realm}/g/{group}/data/{bucket}/**`.
 *
 * Syntax, segment by segment (segments are separated by `/`; the pattern starts with `/`):
 * - a literal segment matches exactly that segment;
 * - `*` matches exactly one segment, whatever it holds (an empty one too);
 * - `**` matches any number of segments, zero included; it must be a whole segment;
 * - `*` inside a segment (`data-*`, `*.csv`, `a*b*c`) matches any run of characters *within* that
 *   segment: it never crosses `/`. We allow it because keys by suffix (`*.csv`) are a common need and
 *   it costs no ambiguity.
 * There is no escaping and no other special character (`?`, `[`, `{` are literal).
 *
 * Refused with AuthError('InvalidPattern'), the message naming the segment (counting from 1 after the
 * leading `/`) and the character offset (from 0): a relative pattern, empty segments (`//`, a trailing
 * `/`), `.` and `..` segments, control characters, `**` mixed with other characters (`a**`, `***`), and
 * patterns longer than `MAX_PATTERN_LENGTH`.
 *
 * Matching is O(segments × pattern segments) at worst (no backtracking blow-up, whatever the number of
 * `**`), and a pattern is parsed once: keep the `PathPattern`, not the string.
 */
export class PathPattern {
  readonly source: string
  readonly #segments: readonly SegmentMatcher[]
  readonly #hasGlobstar: boolean

  private constructor(source: string, segments: readonly SegmentMatcher[]) {
    this.source = source
    this.#segments = segments
    this.#hasGlobstar = segments.some((s) => s.kind === 'globstar')
  }

  /** Parses and compiles `source`. @throws AuthError('InvalidPattern') */
  static parse(source: string): PathPattern {
    return new PathPattern(source, parseSegments(source))
  }

  /** True when `path` matches. @throws AuthError('InvalidPath') when `path` is not a valid path. */
  matches(path: string): boolean {
    return this.matchesSegments(parseResourcePath(path))
  }

  /** True when the segments of a path already split by `parseResourcePath` match (the hot path). */
  matchesSegments(path: readonly string[]): boolean {
    const pattern = this.#segments
    if (!this.#hasGlobstar) {
      if (path.length !== pattern.length) return false
      for (let i = 0; i < path.length; i++) {
        if (!matchSegment(pattern[i]!, path[i]!)) return false
      }
      return true
    }
    // Wildcard matching with `**` as the star: on a mismatch, let the last `**` seen swallow one more
    // segment and retry from there. Leftmost matching between stars is optimal, so this never needs to
    // revisit an earlier star.
    let p = 0
    let s = 0
    let starP = -1
    let starS = 0
    while (s < path.length) {
      const m = pattern[p]
      if (m !== undefined && m.kind === 'globstar') {
        starP = p
        starS = s
        p++
      } else if (m !== undefined && matchSegment(m, path[s]!)) {
        p++
        s++
      } else if (starP >= 0) {
        p = starP + 1
        starS++
        s = starS
      } else {
        return false
      }
    }
    while (p < pattern.length && pattern[p]!.kind === 'globstar') p++
    return p === pattern.length
  }

  /**
   * True when every path this pattern matches starts with the literal segments `prefix`, i.e. the
   * pattern cannot reach outside the subtree `/{prefix…}/**`. Exact: a wildcard among the first
   * `prefix.length` segments always reaches outside.
   */
  isWithin(prefix: readonly string[]): boolean {
    if (this.#segments.length < prefix.length) return false
    for (let i = 0; i < prefix.length; i++) {
      const m = this.#segments[i]!
      if (m.kind !== 'literal' || m.value !== prefix[i]) return false
    }
    return true
  }

  toString(): string {
    return this.source
  }
}

function matchSegment(m: SegmentMatcher, segment: string): boolean {
  switch (m.kind) {
    case 'literal':
      return m.value === segment
    case 'one':
      return true
    case 'glob':
      return matchGlob(m.parts, segment)
    case 'globstar':
      return false
  }
}

/** `parts` are the pieces between the `*`s of one segment (at least two; the first and last may be ''). */
function matchGlob(parts: readonly string[], segment: string): boolean {
  const first = parts[0]!
  const last = parts[parts.length - 1]!
  const end = segment.length - last.length
  if (end < first.length || !segment.startsWith(first) || !segment.endsWith(last)) return false
  let pos = first.length
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i]!
    const at = segment.indexOf(part, pos)
    if (at < 0 || at + part.length > end) return false
    pos = at + part.length
  }
  return true
}

function parseSegments(source: string): SegmentMatcher[] {
  if (typeof source !== 'string' || source.length === 0) throw invalidPattern(source, 'it is empty')
  if (source.length > MAX_PATTERN_LENGTH) {
    throw invalidPattern(source, `it is ${source.length} characters long, more than ${MAX_PATTERN_LENGTH}`)
  }
  if (source.charCodeAt(0) !== 0x2f) {
    throw invalidPattern(source, "it must be absolute: start with '/' (offset 0)")
  }
  const segments: SegmentMatcher[] = []
  let start = 1
  for (let index = 1; start <= source.length; index++) {
    let end = source.indexOf('/', start)
    if (end < 0) end = source.length
    const text = source.slice(start, end)
    const where = `segment ${index} (offset ${start})`
    if (text.length === 0) throw invalidPattern(source, `${where} is empty`)
    const control = controlCharIndex(source, start, end)
    if (control >= 0) throw invalidPattern(source, `${where} has a control character at offset ${control}`)
    if (text === '.' || text === '..') {
      throw invalidPattern(source, `${where} is ${quote(text)}: dot segments are not allowed`)
    }
    const matcher = compileSegment(text)
    if (matcher === undefined) {
      throw invalidPattern(source, `${where} is ${quote(text)}: '**' must be a whole segment`)
    }
    // `/**/**` means the same as `/**`; keeping one makes matching cheaper.
    if (!(matcher.kind === 'globstar' && segments.at(-1)?.kind === 'globstar')) segments.push(matcher)
    start = end + 1
  }
  return segments
}

/** Compiles one non-empty segment, or returns undefined when `**` appears in it other than alone. */
function compileSegment(text: string): SegmentMatcher | undefined {
  if (text === '**') return { kind: 'globstar' }
  if (text.includes('**')) return undefined
  if (text === '*') return { kind: 'one' }
  if (text.includes('*')) return { kind: 'glob', parts: text.split('*') }
  return { kind: 'literal', value: text }
}

function invalidPattern(source: unknown, why: string): AuthError {
  const shown = typeof source === 'string' ? quote(source) : typeof source
  return new AuthError('InvalidPattern', `invalid path pattern ${shown}: ${why}`)
}

/**
 * A bounded cache of compiled patterns, keyed by source, so that roles read afresh on every request
 * (from the orga documents) do not re-parse their patterns. Parse failures are cached too.
 */
export class PathPatternCache {
  readonly #entries = new Map<string, PathPattern | AuthError>()

  constructor(readonly capacity = 10_000) {}

  /** The compiled pattern for `source`. @throws AuthError('InvalidPattern') */
  get(source: string): PathPattern {
    let entry = this.#entries.get(source)
    if (entry === undefined) {
      try {
        entry = PathPattern.parse(source)
      } catch (err) {
        if (!(err instanceof AuthError)) throw err
        entry = err
      }
      // Evict the oldest entry (Map keeps insertion order): simple, and enough for a working set.
      if (this.#entries.size >= this.capacity) {
        const oldest = this.#entries.keys().next()
        if (oldest.done !== true) this.#entries.delete(oldest.value)
      }
      this.#entries.set(source, entry)
    }
    // A fresh error per throw: a shared instance would carry a stale stack and could be mutated.
    if (entry instanceof AuthError) throw new AuthError(entry.code, entry.message)
    return entry
  }

  get size(): number {
    return this.#entries.size
  }
}
