import { isUlid } from '@aruna/platform'
import { DataError } from './errors.js'

/** S3's limit on a key: 1024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024

// C0 controls (NUL included), DEL and C1 controls: matching them is the point of this pattern.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the key validator must find control characters
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
// A high surrogate not followed by a low one, or a low one not preceded by a high one: not encodable.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * The one place object keys are checked. Refuses (with `InvalidKey`) empty keys, keys over 1024 bytes
 * of UTF-8, NUL and other control characters, unpaired surrogates, and `..` path segments, so a key
 * can never walk out of its bucket when it becomes a path.
 */
export function validateKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new DataError('InvalidKey', 'the key is empty')
  if (CONTROL.test(key)) throw new DataError('InvalidKey', 'the key contains a control character')
  if (LONE_SURROGATE.test(key)) throw new DataError('InvalidKey', 'the key is not valid Unicode')
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new DataError('InvalidKey', `the key is longer than ${MAX_KEY_BYTES} bytes`)
  }
  if (key.split('/').includes('..')) throw new DataError('InvalidKey', 'the key contains a ".." segment')
  return key
}

const BUCKET_CHARS = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const IPV4_LIKE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-']
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3']

/**
 * S3's general-purpose bucket naming rules: 3 to 63 characters of lower-case letters, digits, dots
 * and hyphens, starting and ending with a letter or digit, no `..`, not shaped like an IPv4 address,
 * and none of S3's reserved prefixes and suffixes. Anything else is `InvalidBucketName`.
 */
export function validateBucketName(name: string): string {
  const ok =
    typeof name === 'string' &&
    BUCKET_CHARS.test(name) &&
    !name.includes('..') &&
    !IPV4_LIKE.test(name) &&
    !RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix)) &&
    !RESERVED_SUFFIXES.some((suffix) => name.endsWith(suffix))
  if (!ok)
    throw new DataError('InvalidBucketName', `invalid bucket name: ${JSON.stringify(name).slice(0, 80)}`)
  return name
}

/**
 * Whether `value` is a group id: a canonical ULID (`@aruna/platform`'s `isUlid`, as orga makes them),
 * so one path segment with no `/`, `*`, `.` or escapes in it.
 */
export function isGroupId(value: unknown): value is string {
  return isUlid(value)
}

/**
 * The one place a bucket's owning group is checked: it becomes a segment of every resource path of
 * the bucket (`/{realm}/g/{group}/data/{bucket}/…`), so it must be a group id (a ULID) and nothing
 * else; a name with `/` or `*` in it could alias another group's or bucket's paths. Anything else is
 * `InvalidArgument`.
 */
export function validateGroupId(group: unknown): string {
  if (!isGroupId(group)) {
    throw new DataError('InvalidArgument', 'the owning group must be a group id (a 26-character ULID)')
  }
  return group
}

/**
 * Orders strings as S3 orders keys: by their UTF-8 bytes, which is Unicode code point order.
 * JavaScript's `<` compares UTF-16 code units, which puts U+E000–U+FFFF after the supplementary
 * planes; shifting code units before comparing repairs that without encoding.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return codePointRank(x) - codePointRank(y)
  }
  return a.length - b.length
}

function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit
  // Surrogates (supplementary code points) go above every other BMP unit.
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000
}

/**
 * The smallest string that sorts after every string starting with `prefix`, or undefined when no
 * such string exists. Listing uses it to jump over all keys under a common prefix with one seek.
 */
export function prefixEnd(prefix: string): string | undefined {
  const codePoints = Array.from(prefix)
  while (codePoints.length > 0) {
    const last = codePoints.pop()!.codePointAt(0)!
    if (last < 0x10ffff) {
      // Surrogate code points are not characters: the successor of U+D7FF is U+E000.
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1
      return codePoints.join('') + String.fromCodePoint(next)
    }
  }
  return undefined
}
