/**
 * ULIDs: 48 bits of milliseconds and 80 random bits in 26 characters of Crockford base32, so ids sort
 * by creation time as plain strings. A factory is monotonic: within one millisecond (or when the clock
 * steps back) it increments the previous random part instead of drawing a new one, so its ids strictly
 * increase.
 */

import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const TIME_LENGTH = 10
const RANDOM_LENGTH = 16
const MAX_TIME = 2 ** 48 - 1
const MAX_RANDOM = (1n << 80n) - 1n
const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/

export interface UlidFactoryOptions {
  /** The clock, in milliseconds since the Unix epoch. Default: `Date.now`. */
  readonly now?: () => number
  /** A source of random bytes. Default: `node:crypto`'s `randomBytes`. */
  readonly random?: (size: number) => Uint8Array
}

/** Makes one ULID per call. */
export type UlidFactory = () => string

/**
 * A monotonic ULID source. Throws a `RangeError` when the clock reads outside the 48-bit millisecond
 * range (before 1970 or after the year 10889).
 */
export function ulidFactory(options: UlidFactoryOptions = {}): UlidFactory {
  const now = options.now ?? Date.now
  const random = options.random ?? randomBytes
  let lastTime = -1
  let lastRandom = 0n

  const draw = (): bigint => {
    let value = 0n
    for (const byte of random(10).subarray(0, 10)) value = (value << 8n) | BigInt(byte)
    return value
  }

  return () => {
    let time = Math.max(Math.floor(now()), lastTime)
    let rand: bigint
    if (time === lastTime) {
      rand = lastRandom + 1n
      // 2^80 ids in one millisecond cannot happen in practice; borrow the next millisecond if it does.
      if (rand > MAX_RANDOM) {
        time += 1
        rand = draw()
      }
    } else {
      rand = draw()
    }
    if (!Number.isSafeInteger(time) || time < 0 || time > MAX_TIME) {
      throw new RangeError(`clock value ${time} is outside the ULID time range`)
    }
    lastTime = time
    lastRandom = rand
    return encodeTime(time) + encodeRandom(rand)
  }
}

/** Whether `value` is a canonical (upper-case) ULID. */
export function isUlid(value: unknown): value is string {
  return typeof value === 'string' && ULID_PATTERN.test(value)
}

/** The creation time encoded in a ULID. A `TypeError` for anything else. */
export function ulidTime(id: string): number {
  if (!isUlid(id)) throw new TypeError('not a ULID')
  let time = 0
  for (const char of id.slice(0, TIME_LENGTH)) time = time * 32 + ALPHABET.indexOf(char)
  return time
}

function encodeTime(time: number): string {
  let out = ''
  let rest = time
  for (let i = 0; i < TIME_LENGTH; i++) {
    out = ALPHABET.charAt(rest % 32) + out
    rest = Math.floor(rest / 32)
  }
  return out
}

function encodeRandom(value: bigint): string {
  let out = ''
  let rest = value
  for (let i = 0; i < RANDOM_LENGTH; i++) {
    out = ALPHABET.charAt(Number(rest & 31n)) + out
    rest >>= 5n
  }
  return out
}
