import { Writable } from 'node:stream'
import { OpenAPIHono } from '@hono/zod-openapi'
import { describe, expect, it } from 'vitest'
import { RateLimiter } from '../src/http/rate-limit.js'
import { createRestApp } from '../src/http/rest.js'
import { createLogger } from '../src/logger.js'

function capturedLogger() {
  const lines: Record<string, unknown>[] = []
  const logger = createLogger({
    level: 'info',
    format: 'json',
    destination: new Writable({
      write: (chunk, _e, cb) => {
        for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line))
        cb()
      },
    }),
  })
  return { logger, lines }
}

describe('the access log and request ids', () => {
  const make = (limiter?: RateLimiter) => {
    const { logger, lines } = capturedLogger()
    const broken = new OpenAPIHono()
    broken.get('/v1/broken/:id', () => {
      throw new Error('disk on fire at /var/lib/aruna')
    })
    const app = createRestApp({
      logger,
      status: () => ({ status: 'ok', realm: 'r', version: '0', startedAt: new Date(0).toISOString() }),
      routes: [broken as never],
      ...(limiter ? { rateLimiter: limiter } : {}),
    })
    return { app, lines }
  }

  it('logs one line per request with its id, route pattern, status and time, and echoes the id', async () => {
    const { app, lines } = make()
    const quoted = await app.request('/health', { headers: { 'x-request-id': 'trace-42' } })
    expect(quoted.headers.get('x-request-id')).toBe('trace-42')
    const fresh = await app.request('/nowhere', { headers: { 'x-request-id': 'not ok; injected' } })
    const id = fresh.headers.get('x-request-id')
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    const access = lines.filter((l) => l.msg === 'request')
    expect(access).toEqual([
      expect.objectContaining({
        reqId: 'trace-42',
        method: 'GET',
        path: '/health',
        route: '/health',
        status: 200,
      }),
      expect.objectContaining({ reqId: id, path: '/nowhere', route: 'unmatched', status: 404 }),
    ])
    expect(typeof access[0]?.ms).toBe('number')
  })

  it('puts the id on the error line of a failed request, not the error into the answer', async () => {
    const { app, lines } = make()
    const failed = await app.request('/v1/broken/7')
    expect(failed.status).toBe(500)
    expect(await failed.text()).not.toContain('/var/lib')
    const id = failed.headers.get('x-request-id')
    expect(lines.find((l) => l.msg === 'request failed')).toMatchObject({ reqId: id })
    expect(lines.find((l) => l.msg === 'request')).toMatchObject({
      reqId: id,
      route: '/v1/broken/:id',
      status: 500,
    })
  })

  it('logs and ids refused requests too', async () => {
    const { app, lines } = make(new RateLimiter({ address: { burst: 1, perSecond: 0.001 } }))
    await app.request('/health')
    const limited = await app.request('/health')
    expect(limited.status).toBe(429)
    expect(limited.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(lines.filter((l) => l.msg === 'request').map((l) => l.status)).toEqual([200, 429])
  })
})
