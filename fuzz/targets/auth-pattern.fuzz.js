// Fuzz target: path patterns of `@aruna/auth` (packages/auth/src/path-pattern.ts), parse and match.
//
// Input: the first line is a pattern, every further line a path. Parsing may refuse a pattern only with
// AuthError('InvalidPattern'); matching raw segments never throws; `matches(path)` refuses exactly the
// paths `parseResourcePath` refuses (with AuthError('InvalidPath')) and otherwise agrees with
// `matchesSegments`. Properties of a pattern that parses: it keeps its source; a pattern without `*`
// matches itself as a path; appending `/**` never loses a match (`**` matches zero segments).
import { AuthError, MAX_PATTERN_LENGTH, PathPattern, parseResourcePath } from '@aruna/auth'

/** @param {Buffer} data */
export function fuzz(data) {
  const [source = '', ...paths] = data.toString('utf8').split('\n')
  let pattern
  try {
    pattern = PathPattern.parse(source)
  } catch (err) {
    if (err instanceof AuthError && err.code === 'InvalidPattern') return
    throw err
  }
  if (pattern.source !== source || pattern.toString() !== source) {
    throw new Error(`the pattern lost its source: ${JSON.stringify(source)}`)
  }
  const wider =
    source.length + 3 <= MAX_PATTERN_LENGTH ? PathPattern.parse(`${source.replace(/\/$/, '')}/**`) : undefined

  for (const path of [source, ...paths]) {
    const raw = pattern.matchesSegments(path.split('/'))
    if (typeof raw !== 'boolean') throw new Error('matchesSegments returned a non-boolean')
    pattern.isWithin(path.split('/').slice(1))

    let segments
    try {
      segments = parseResourcePath(path)
    } catch (err) {
      if (!(err instanceof AuthError && err.code === 'InvalidPath')) throw err
      expectInvalidPath(() => pattern.matches(path), path)
      continue
    }
    const matched = pattern.matches(path)
    if (matched !== pattern.matchesSegments(segments)) {
      throw new Error(`matches and matchesSegments disagree on ${JSON.stringify(path)}`)
    }
    if (path === source && !source.includes('*') && !matched) {
      throw new Error(`the literal pattern ${JSON.stringify(source)} does not match itself`)
    }
    if (matched && wider !== undefined && !wider.matches(path)) {
      throw new Error(
        `${JSON.stringify(source)} matches ${JSON.stringify(path)} but ${wider.source} does not`,
      )
    }
  }
}

function expectInvalidPath(match, path) {
  try {
    match()
  } catch (err) {
    if (err instanceof AuthError && err.code === 'InvalidPath') return
    throw err
  }
  throw new Error(`matches accepted the invalid path ${JSON.stringify(path)}`)
}
