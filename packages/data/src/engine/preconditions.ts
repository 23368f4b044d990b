/** The conditional headers of a GET or HEAD (or their `x-amz-copy-source-if-*` forms on a copy). */
export interface Preconditions {
  ifMatch?: string
  ifNoneMatch?: string
  ifModifiedSince?: string
  ifUnmodifiedSince?: string
}

/** What a conditional request gets: the object, 304 Not Modified, or 412 Precondition Failed. */
export type PreconditionOutcome = 'proceed' | 'not-modified' | 'failed'

/**
 * Evaluates conditional headers against an object version as S3 does: `If-Match` decides alone when
 * present (else `If-Unmodified-Since`), then `If-None-Match` (else `If-Modified-Since`). Times are
 * compared at one-second resolution, as `Last-Modified` carries them; unparsable dates are ignored.
 */
export function evaluatePreconditions(
  object: { etag: string; lastModified: string },
  conditions: Preconditions,
): PreconditionOutcome {
  const { ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince } = conditions
  // Most requests are unconditional: no date to parse.
  const none = ifMatch === undefined && ifNoneMatch === undefined
  if (none && ifModifiedSince === undefined && ifUnmodifiedSince === undefined) return 'proceed'
  const modified = Math.floor(Date.parse(object.lastModified) / 1000)
  if (ifMatch !== undefined) {
    if (!etagListMatches(ifMatch, object.etag)) return 'failed'
  } else {
    const since = secondsOf(ifUnmodifiedSince)
    if (since !== undefined && modified > since) return 'failed'
  }
  if (ifNoneMatch !== undefined) {
    if (etagListMatches(ifNoneMatch, object.etag)) return 'not-modified'
  } else {
    const since = secondsOf(ifModifiedSince)
    if (since !== undefined && modified <= since) return 'not-modified'
  }
  return 'proceed'
}

/** Whether an `If-Match`-style list (`"a", W/"b"`, or `*`) names `etag`. */
export function etagListMatches(list: string, etag: string): boolean {
  const wanted = unquoteEtag(etag)
  return list.split(',').some((item) => {
    const candidate = item.trim()
    return candidate === '*' || unquoteEtag(candidate.replace(/^W\//, '')) === wanted
  })
}

/** An ETag without its quotes, so `"abc"` and `abc` compare equal. */
export function unquoteEtag(etag: string): string {
  const trimmed = etag.trim()
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')
    ? trimmed.slice(1, -1)
    : trimmed
}

function secondsOf(date: string | undefined): number | undefined {
  if (date === undefined) return undefined
  const ms = Date.parse(date)
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000)
}
