import { Writable } from 'node:stream'
import { OpenAPIHono } from '@hono/zod-openapi'
import { describe, expect, it } from 'vitest'
import { createRestApp } from '../src/http/rest.js'
import { createLogger } from '../src/logger.js'
import { parseExposition } from './prometheus.js'

const logger = createLogger({
  level: 'silent',
  format: 'json',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
})

describe('/metrics', () => {
  const things = new OpenAPIHono()
  things.get('/v1/things/:id', (c) => c.json({ id: c.req.param('id') }))
  things.post('/v1/things', async (c) => c.json(await c.req.json(), 201))
  const app = createRestApp({
    logger,
    status: () => ({
      status: 'ok',
      realm: 'r',
      peers: 3,
      version: '0',
      startedAt: new Date(0).toISOString(),
    }),
    routes: [things as never],
  })

  const scrape = async () => {
    const response = await app.request('/metrics')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    return parseExposition(await response.text())
  }
  type Families = Awaited<ReturnType<typeof scrape>>
  const family = (families: Families, name: string) => {
    const found = families.get(name)
    if (!found) throw new Error(`no metric ${name}`)
    return found
  }
  const value = (families: Families, name: string, sampleName = name) =>
    family(families, name).samples.get(sampleName)?.[0]?.value ?? Number.NaN
  /** Requests counted by the latency histogram with these labels. */
  const latency = (families: Families, labels: Record<string, string>) =>
    (
      family(families, 'aruna_http_request_duration_seconds').samples.get(
        'aruna_http_request_duration_seconds_count',
      ) ?? []
    )
      .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0)

  it('parses as Prometheus text and moves when requests are made, per route pattern', async () => {
    const before = await scrape()
    expect(value(before, 'aruna_up')).toBe(1)
    expect(value(before, 'aruna_realm_peers')).toBe(3)
    expect(family(before, 'process_resident_memory_bytes').type).toBe('gauge')
    expect(value(before, 'process_resident_memory_bytes')).toBeGreaterThan(0)
    expect(family(before, 'aruna_http_request_duration_seconds').type).toBe('histogram')
    const total = value(before, 'aruna_http_requests_total')

    await app.request('/health')
    await app.request('/v1/things/1')
    await app.request('/v1/things/2')
    await app.request('/v1/things', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': '7' },
      body: JSON.stringify({ a: 1 }),
    })
    await app.request('/nowhere')

    const after = await scrape()
    // The scrape itself counts too.
    expect(value(after, 'aruna_http_requests_total')).toBe(total + 6)
    expect(latency(after, { route: '/health', status: '200' }) - latency(before, { route: '/health' })).toBe(
      1,
    )
    expect(latency(after, { method: 'GET', route: '/v1/things/:id', status: '200' })).toBe(2)
    expect(latency(after, { method: 'POST', route: '/v1/things', status: '201' })).toBe(1)
    expect(latency(after, { route: 'unmatched', status: '404' })).toBe(1)
    // Ids never become labels.
    const routes = (
      family(after, 'aruna_http_request_duration_seconds').samples.get(
        'aruna_http_request_duration_seconds_count',
      ) ?? []
    ).map((s) => s.labels.route)
    expect(routes).not.toContain('/v1/things/1')
    expect(value(after, 'aruna_http_request_bytes_total')).toBeGreaterThanOrEqual(7)
    expect(value(after, 'aruna_http_response_bytes_total')).toBeGreaterThan(0)
  })

  it('refuses what is not the text format', () => {
    expect(() => parseExposition('metric_without_type 1\n')).toThrow(/without a TYPE/)
    expect(() => parseExposition('# TYPE a gauge\na{x=1} 2\n')).toThrow(/not a Prometheus text line/)
    expect(() => parseExposition('# TYPE a gauge\na one\n')).toThrow(/not a sample value/)
  })
})
