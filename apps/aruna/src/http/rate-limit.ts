/**
 * Per-caller rate limiting of the REST API: one token bucket per caller key (`user:<id>` for a verified
 * realm token, `ip:<address>` otherwise), in memory on this node. A bucket holds at most `burst`
 * requests and refills `perSecond` a second; a request that finds it empty gets a 429 problem document
 * with `Retry-After`. The limiter is a plain state machine over a clock, so it is tested without time.
 */
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context } from 'hono'
import { problem, problemResponse } from './problem.js'

export interface RateLimit {
  /** Requests a caller may make at once. */
  readonly burst: number
  /** Requests a second a caller may make in the long run. */
  readonly perSecond: number
}

export interface RateLimitOptions {
  /** Verified realm-token callers, per user. Default: a burst of 600, 100 a second. */
  readonly user?: RateLimit
  /** Everyone else (login, health, failed tokens), per client address. Default: 300, 50 a second. */
  readonly address?: RateLimit
  /** Milliseconds. Default: `Date.now`. */
  readonly clock?: () => number
}

export const DEFAULT_USER_LIMIT: RateLimit = { burst: 600, perSecond: 100 }
export const DEFAULT_ADDRESS_LIMIT: RateLimit = { burst: 300, perSecond: 50 }

/** Above this many buckets, full ones (idle callers) are dropped: a full bucket is the default state. */
const PRUNE_ABOVE = 10_000

interface Bucket {
  tokens: number
  at: number
}

export class RateLimiter {
  readonly #limits: { user: RateLimit; address: RateLimit }
  readonly #clock: () => number
  readonly #buckets = new Map<string, Bucket>()

  constructor(options: RateLimitOptions = {}) {
    this.#limits = {
      user: checked(options.user ?? DEFAULT_USER_LIMIT),
      address: checked(options.address ?? DEFAULT_ADDRESS_LIMIT),
    }
    this.#clock = options.clock ?? Date.now
  }

  /** Takes one request from the caller's bucket: 0 if allowed, else the seconds until one is. */
  take(kind: 'user' | 'address', id: string): number {
    const limit = this.#limits[kind]
    const key = `${kind}:${id}`
    const now = this.#clock()
    const bucket = this.#buckets.get(key) ?? { tokens: limit.burst, at: now }
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond)
    bucket.at = now
    if (!this.#buckets.has(key)) {
      if (this.#buckets.size >= PRUNE_ABOVE) this.#prune(now)
      this.#buckets.set(key, bucket)
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / limit.perSecond))
  }

  /** The number of callers tracked (for tests). */
  get size(): number {
    return this.#buckets.size
  }

  #prune(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      const limit = this.#limits[key.startsWith('user:') ? 'user' : 'address']
      if (bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond >= limit.burst)
        this.#buckets.delete(key)
    }
  }
}

function checked(limit: RateLimit): RateLimit {
  if (!(limit.burst >= 1) || !(limit.perSecond > 0))
    throw new RangeError('a rate limit needs a burst of at least 1 and a positive rate')
  return limit
}

/** The 429 answer, with how long to wait. */
export function tooManyRequests(retryAfterSeconds: number): Response {
  const response = problemResponse(
    problem(429, 'Too Many Requests', `too many requests; try again in ${retryAfterSeconds} s`),
  )
  response.headers.set('retry-after', String(retryAfterSeconds))
  return response
}

/** The client's address as the socket reports it (`unknown` without one, as in `app.request`). */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'unknown'
  }
}
