import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfigText } from '../src/config.js'
import { RateLimiter } from '../src/http/rate-limit.js'
import { createLogger } from '../src/logger.js'
import { ArunaNode } from '../src/node.js'
import { readOperatorFile } from '../src/services/operator-file.js'

const logger = createLogger({
  level: 'silent',
  format: 'json',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
})

describe('the per-caller token buckets', () => {
  it('allows a burst, then one request per refill, each caller on their own', () => {
    let now = 0
    const limiter = new RateLimiter({ user: { burst: 2, perSecond: 0.5 }, clock: () => now })
    expect(limiter.take('user', 'a')).toBe(0)
    expect(limiter.take('user', 'a')).toBe(0)
    expect(limiter.take('user', 'a')).toBe(2)
    expect(limiter.take('user', 'b')).toBe(0)
    now += 1000
    expect(limiter.take('user', 'a')).toBe(1)
    now += 1000
    expect(limiter.take('user', 'a')).toBe(0)
    // A long pause refills up to the burst, no further.
    now += 60_000
    expect(limiter.take('user', 'a')).toBe(0)
    expect(limiter.take('user', 'a')).toBe(0)
    expect(limiter.take('user', 'a')).toBeGreaterThan(0)
  })

  it('keeps users and addresses apart and forgets idle callers when it tracks many', () => {
    let now = 0
    const limiter = new RateLimiter({
      user: { burst: 1, perSecond: 1 },
      address: { burst: 1, perSecond: 1 },
      clock: () => now,
    })
    expect(limiter.take('user', 'x')).toBe(0)
    expect(limiter.take('address', 'x')).toBe(0)
    for (let i = 0; i < 10_000; i++) limiter.take('address', `10.0.${i}`)
    expect(limiter.size).toBe(10_002) // none idle yet: nothing to forget
    now += 5000 // every bucket is full again: all of them are idle
    limiter.take('address', 'new')
    expect(limiter.size).toBe(1)
  })

  it('refuses limits that would block everything', () => {
    expect(() => new RateLimiter({ user: { burst: 0, perSecond: 1 } })).toThrow(RangeError)
    expect(() => new RateLimiter({ address: { burst: 1, perSecond: 0 } })).toThrow(RangeError)
  })
})

describe('rate limiting on a node', () => {
  let dir: string
  let node: ArunaNode
  let admin: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aruna-limit-'))
    node = new ArunaNode(
      parseConfigText(
        JSON.stringify({ dataDir: dir, rest: { port: 0 }, s3: { port: 0 }, dev: { login: false } }),
      ),
      logger,
      {
        initIfMissing: { devLogin: false },
        rateLimit: { user: { burst: 3, perSecond: 0.001 }, address: { burst: 3, perSecond: 0.001 } },
      },
    )
    await node.start()
    admin = (await readOperatorFile(dir))?.token ?? ''
  }, 60_000)

  afterAll(async () => {
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const get = (path: string, token?: string) =>
    fetch(
      `${node.restUrl}${path}`,
      token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
    )

  it('answers a caller over the limit with a 429 problem and Retry-After, per user', async () => {
    for (let i = 0; i < 3; i++) expect((await get('/v1/me', admin)).status).toBe(200)
    const limited = await get('/v1/me', admin)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('content-type')).toBe('application/problem+json')
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await limited.json()).toMatchObject({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
    })
    // Another user has their own bucket.
    const store = node.federation?.store
    if (!store) throw new Error('not running')
    const other = (
      await store.registerUser({ issuer: 'https://idp.example', subject: 'o', displayName: 'O' })
    ).user
    expect((await get('/v1/me', await node.mintToken(other.id))).status).toBe(200)
  })

  it('limits callers without a valid token by address, bad tokens included', async () => {
    expect((await get('/health')).status).toBe(200)
    expect((await get('/v1/me', 'not-a-token')).status).toBe(401)
    expect((await get('/v1/auth/config')).status).toBe(200)
    const limited = await get('/health')
    expect(limited.status).toBe(429)
    expect((await get('/v1/me', 'not-a-token')).status).toBe(429)
  })
})
