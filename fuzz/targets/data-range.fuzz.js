// Fuzz target: `parseRangeHeader` and `resolveRange` of `@aruna/data`
// (packages/data/src/engine/content-reader.ts): the Range header of GetObject/HeadObject.
//
// Input: text; the first line is the object size (decimal digits; anything else: the line's length,
// so small sizes and 0 come up often), the rest is the Range header value.
// Checked:
// - parseRangeHeader never throws (it documents `undefined` for everything HTTP says to ignore), and
//   returns undefined or { start[, end] } / { suffix } of non-negative whole numbers with end >= start;
// - resolveRange throws nothing but DataError('InvalidRange'), and what it resolves lies inside the
//   content: 0 <= start <= end < size, whole numbers;
// - both agree with an exact reference (BigInt arithmetic) of the documented behaviour:
//   `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range, digits only, around surrounding whitespace);
//   anything else, or b < a (compared as numbers), is ignored; a start at or past the end, a zero-length suffix, or any
//   range of empty content is InvalidRange; an end past the content is cut to its last byte; a
//   suffix longer than the content selects all of it.
import { isDataError, parseRangeHeader, resolveRange } from '@aruna/data'

function check(condition, message) {
  if (!condition) throw new Error(message)
}

/** A whole number of bytes (digits past 2^53 become the nearest double, a very long run Infinity). */
const wholeNumber = (n) => (Number.isInteger(n) || n === Number.POSITIVE_INFINITY) && n >= 0

/** The documented meaning of a header for content of `size` bytes: 'ignore', 'invalid' or [start, end]. */
function reference(header, size) {
  const match = /^bytes=([0-9]*)-([0-9]*)$/.exec(header.trim())
  if (match === null) return 'ignore'
  const [, first, last] = match
  if (first === '' && last === '') return 'ignore'
  const n = BigInt(size)
  if (first === '') {
    const suffix = BigInt(last)
    if (suffix === 0n || n === 0n) return 'invalid'
    return [suffix >= n ? 0n : n - suffix, n - 1n]
  }
  const start = BigInt(first)
  // A reversed range is ignored. Positions are compared as the numbers the parser returns: past 2^53
  // two different positions can be the same number (`bytes=9007199254740993-9007199254740992` is then
  // not seen as reversed and gets 416, which RFC 9110 allows for an invalid range: "ignore or reject").
  if (last !== '' && Number(last) < Number(first)) return 'ignore'
  if (start >= n) return 'invalid'
  const end = last === '' || BigInt(last) >= n ? n - 1n : BigInt(last)
  return [start, end]
}

/** @param {Buffer} data */
export function fuzz(data) {
  const text = data.toString('utf8')
  const newline = text.indexOf('\n')
  const sizeLine = newline === -1 ? '' : text.slice(0, newline)
  const header = newline === -1 ? text : text.slice(newline + 1)
  const size =
    /^\d{1,16}$/.test(sizeLine) && Number(sizeLine) <= Number.MAX_SAFE_INTEGER
      ? Number(sizeLine)
      : sizeLine.length

  check(parseRangeHeader(undefined) === undefined, 'no header parsed into a range')
  const spec = parseRangeHeader(header) // must not throw
  const expected = reference(header, size)
  const what = `${JSON.stringify(header)} on ${size} bytes`

  if (spec === undefined) {
    check(expected === 'ignore', `${what}: ignored, expected ${String(expected)}`)
    return
  }
  check(expected !== 'ignore', `${what}: parsed into ${JSON.stringify(spec)}, but HTTP says to ignore it`)
  if ('suffix' in spec) {
    check(
      Object.keys(spec).length === 1 && wholeNumber(spec.suffix),
      `${what}: bad suffix spec ${JSON.stringify(spec)}`,
    )
  } else {
    check(wholeNumber(spec.start), `${what}: bad start in ${JSON.stringify(spec)}`)
    if (spec.end !== undefined) {
      check(wholeNumber(spec.end) && spec.end >= spec.start, `${what}: bad end in ${JSON.stringify(spec)}`)
    }
  }

  let range
  try {
    range = resolveRange(spec, size)
  } catch (err) {
    if (!isDataError(err, 'InvalidRange')) throw err
    check(expected === 'invalid', `${what}: InvalidRange, expected bytes ${String(expected)}`)
    return
  }
  const { start, end } = range
  check(
    Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end < size,
    `${what}: resolved to ${JSON.stringify(range)}, outside the content`,
  )
  check(
    Array.isArray(expected) && BigInt(start) === expected[0] && BigInt(end) === expected[1],
    `${what}: resolved to ${start}-${end}, expected ${String(expected)}`,
  )
}
