import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseConfigText } from '../src/config.js'
import { ListenError, listen } from '../src/http/listen.js'
import { createRestApp } from '../src/http/rest.js'
import { createLogger } from '../src/logger.js'
import { ArunaNode } from '../src/node.js'

const lines: string[] = []
const sink = new Writable({
  write(chunk, _enc, cb) {
    lines.push(chunk.toString())
    cb()
  },
})
const logger = createLogger({ level: 'info', format: 'json', destination: sink })

describe('node', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aruna-node-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('serves /health and /metrics over HTTP while running, and stops twice safely', async () => {
    const config = parseConfigText(
      JSON.stringify({
        dataDir: join(dir, 'data'),
        rest: { port: 0 },
        s3: { port: 0 },
        dev: { oidcPort: 0 },
      }),
    )
    const node = new ArunaNode(config, logger, { initIfMissing: { devLogin: false } })
    await node.start()
    const health = await fetch(`${node.restUrl}/health`)
    expect(health.status).toBe(200)
    const body = (await health.json()) as { nodeId: string; kind: string }
    expect(body).toMatchObject({ status: 'ok', realm: 'default', kind: 'management', peers: 0 })
    expect(body.nodeId).toBe(node.nodeId)
    const metrics = await (await fetch(`${node.restUrl}/metrics`)).text()
    expect(metrics).toMatch(/^aruna_up 1$/m)
    expect(metrics).toMatch(/^aruna_http_requests_total \d+$/m)
    await Promise.all([node.stop(), node.stop()])
    await expect(fetch(`${node.restUrl}/health`)).rejects.toThrow()
  })

  it('refuses to start on a port that is taken, with a clear message', async () => {
    const config = parseConfigText(
      JSON.stringify({ dataDir: join(dir, 'a'), rest: { port: 0 }, s3: { port: 0 }, dev: { oidcPort: 0 } }),
    )
    const first = new ArunaNode(config, logger, { initIfMissing: { devLogin: false } })
    await first.start()
    const port = Number(new URL(first.restUrl as string).port)
    const second = new ArunaNode(
      { ...config, dataDir: join(dir, 'b'), rest: { ...config.rest, port } },
      logger,
      {
        initIfMissing: { devLogin: false },
      },
    )
    await expect(second.start()).rejects.toThrow(`REST API address 127.0.0.1:${port} is already in use`)
    await first.stop()
  })

  it('finishes an in-flight request during a graceful stop', async () => {
    const app = createRestApp({
      logger,
      status: () => ({ status: 'ok', realm: 'r', version: 'v', startedAt: '' }),
    })
    app.get('/slow', async (c) => {
      await new Promise((r) => setTimeout(r, 300))
      return c.text('done')
    })
    const endpoint = await listen(app, '127.0.0.1', 0, 'test')
    const inFlight = fetch(`${endpoint.url}/slow`).then((r) => r.text())
    await new Promise((r) => setTimeout(r, 50))
    await endpoint.close(2000)
    expect(await inFlight).toBe('done')
  })

  it('answers unknown routes and failing handlers with JSON problems and no stack trace', async () => {
    const app = createRestApp({
      logger,
      status: () => ({ status: 'stopping', realm: 'r', version: 'v', startedAt: '' }),
    })
    app.get('/boom', () => {
      throw new Error('secret internal detail at /srv/x.ts:1')
    })
    const missing = await app.request('/nope')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ status: 404, title: 'Not Found' })
    const boom = await app.request('/boom')
    expect(boom.status).toBe(500)
    const text = await boom.text()
    expect(text).not.toContain('secret')
    expect(text).not.toContain('x.ts')
    expect((await app.request('/health')).status).toBe(503)
  })

  it('refuses to start on a data directory of no realm unless told to create one', async () => {
    const config = parseConfigText(
      JSON.stringify({ dataDir: join(dir, 'none'), rest: { port: 0 }, s3: { port: 0 } }),
    )
    await expect(new ArunaNode(config, logger).start()).rejects.toThrow('belongs to no realm')
  })

  it('refuses to make a new realm when bootstrap peers are configured (joining needs an invite)', async () => {
    const config = parseConfigText(
      JSON.stringify({
        dataDir: join(dir, 'fresh'),
        rest: { port: 0 },
        s3: { port: 0 },
        p2p: {
          bootstrap: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWRwh8TFV84mzn25uoqG849xVPaNfK4QZUct4iP5yjdTkd'],
        },
      }),
    )
    await expect(
      new ArunaNode(config, logger, { initIfMissing: { devLogin: true } }).start(),
    ).rejects.toThrow('run "aruna join <invite>"')
  })

  it('maps bind failures to ListenError', async () => {
    const app = createRestApp({
      logger,
      status: () => ({ status: 'ok', realm: 'r', version: 'v', startedAt: '' }),
    })
    await expect(listen(app, '203.0.113.1', 0, 'REST API')).rejects.toBeInstanceOf(ListenError)
  })
})
