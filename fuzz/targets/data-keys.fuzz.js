// Fuzz target: the key and bucket name checks of `@aruna/data` (packages/data/src/keys.ts):
// `validateKey`, `validateBucketName`, and `compareKeys` (S3 key order).
//
// Input: byte 0 chooses how the rest becomes a string: bit 0 clear UTF-8, set UTF-16LE (code units
// as they come, so unpaired surrogates occur, which no UTF-8 decoding produces); bit 1 set: latin1
// (C1 controls, U+0080–U+00FF). The string is checked as a key and as a bucket name; its two halves
// are ordered by compareKeys.
// Checked:
// - validateKey throws nothing but DataError('InvalidKey'), validateBucketName nothing but
//   DataError('InvalidBucketName'), both with a message; an accepted name comes back unchanged;
// - an accepted key is non-empty, at most 1024 bytes of UTF-8, well-formed Unicode, free of control
//   characters (Unicode category Cc: C0, DEL, C1; NUL among them) and of `..` segments, and every key
//   that is all of these is accepted (the check is exact both ways);
// - an accepted bucket name follows S3's general-purpose rules (3–63 of a-z 0-9 . -, a letter or
//   digit at both ends, no `..`, not an IPv4 address, no reserved prefix or suffix), and every such
//   name is accepted;
// - compareKeys orders well-formed keys as their UTF-8 bytes (S3's order), is antisymmetric and
//   says 0 exactly for equal keys.
import {
  compareKeys,
  DataError,
  isDataError,
  MAX_KEY_BYTES,
  validateBucketName,
  validateKey,
} from '@aruna/data'

const encoder = new TextEncoder()

function check(condition, message) {
  if (!condition) throw new Error(message)
}

const show = (s) => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s)

/** Whether the key meets S3's and Aruna's documented rules, written from the rules, not the code. */
function goodKey(key) {
  return (
    key.length > 0 &&
    key.isWellFormed() &&
    encoder.encode(key).length <= MAX_KEY_BYTES &&
    !/\p{Cc}/u.test(key) &&
    !key.split('/').some((segment) => segment === '..')
  )
}

const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-']
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3']

/** S3's general-purpose bucket naming rules, character by character. */
function goodBucketName(name) {
  if (name.length < 3 || name.length > 63) return false
  for (const c of name) {
    const letterOrDigit = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
    if (!letterOrDigit && c !== '.' && c !== '-') return false
  }
  const edge = (c) => (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
  if (!edge(name[0]) || !edge(name[name.length - 1])) return false
  if (name.includes('..')) return false
  const parts = name.split('.')
  if (
    parts.length === 4 &&
    parts.every((p) => p.length >= 1 && p.length <= 3 && [...p].every((c) => c >= '0' && c <= '9'))
  )
    return false
  if (RESERVED_PREFIXES.some((p) => name.startsWith(p))) return false
  if (RESERVED_SUFFIXES.some((s) => name.endsWith(s))) return false
  return true
}

/** Runs a validator: true when it accepts, false for its documented refusal; anything else escapes. */
function accepts(validate, value, code) {
  let result
  try {
    result = validate(value)
  } catch (err) {
    if (isDataError(err, code) && err instanceof DataError && err.message !== '') return false
    throw err
  }
  check(result === value, `${validate.name} returned ${show(String(result))} for ${show(value)}`)
  return true
}

function sign(n) {
  return n < 0 ? -1 : n > 0 ? 1 : 0
}

/** @param {Buffer} data */
export function fuzz(data) {
  if (data.length === 0) return
  const mode = data[0]
  const rest = data.subarray(1)
  const text =
    mode & 2
      ? rest.toString('latin1')
      : mode & 1
        ? rest.subarray(0, rest.length & ~1).toString('utf16le')
        : rest.toString('utf8')

  const keyOk = accepts(validateKey, text, 'InvalidKey')
  check(keyOk === goodKey(text), `validateKey ${keyOk ? 'accepted' : 'refused'} ${show(text)}`)
  if (keyOk) {
    // The promises made to every later user of the key, stated once more on their own.
    const control = [...text].some(
      (c) => c.codePointAt(0) <= 0x1f || (c.codePointAt(0) >= 0x7f && c.codePointAt(0) <= 0x9f),
    )
    check(!control, `accepted key with a control character: ${show(text)}`)
    check(!/(^|\/)\.\.(\/|$)/.test(text), `accepted key with a ".." segment: ${show(text)}`)
    check(Buffer.byteLength(text, 'utf8') <= 1024, `accepted key of ${Buffer.byteLength(text)} bytes`)
  }

  const bucketOk = accepts(validateBucketName, text, 'InvalidBucketName')
  check(
    bucketOk === goodBucketName(text),
    `validateBucketName ${bucketOk ? 'accepted' : 'refused'} ${show(text)}`,
  )

  const half = text.length >> 1
  const a = text.slice(0, half)
  const b = text.slice(half)
  if (a.isWellFormed() && b.isWellFormed()) {
    const byBytes = sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')))
    const ab = compareKeys(a, b)
    check(sign(ab) === byBytes, `compareKeys(${show(a)}, ${show(b)}) = ${ab}, UTF-8 order says ${byBytes}`)
    check(sign(compareKeys(b, a)) === -byBytes, `compareKeys is not antisymmetric on ${show(a)}, ${show(b)}`)
  }
  check(compareKeys(text, text) === 0, `compareKeys(x, x) !== 0 for ${show(text)}`)
}
