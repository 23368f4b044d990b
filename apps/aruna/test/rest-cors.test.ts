import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { layerFromEntries, parseConfigText, resolveConfig } from '../src/config.js'
import { ArunaNode } from '../src/node.js'
import { readOperatorFile } from '../src/services/operator-file.js'
import { silentLogger } from './one-node.js'

const PORTAL = 'https://portal.example.org'

describe('CORS on the REST API', () => {
  let dir: string
  let node: ArunaNode
  let token: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aruna-cors-'))
    node = new ArunaNode(
      parseConfigText(
        JSON.stringify({
          dataDir: dir,
          rest: { port: 0, corsOrigins: [PORTAL] },
          s3: { port: 0 },
          dev: { login: false },
        }),
      ),
      silentLogger,
      { initIfMissing: { devLogin: false } },
    )
    await node.start()
    token = (await readOperatorFile(dir))?.token ?? ''
  }, 60_000)

  afterAll(async () => {
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('answers a browser preflight from an allowed origin, with no token, and a real request after it', async () => {
    // The headers a browser sends before a GET with an Authorization header.
    const preflight = await fetch(`${node.restUrl}/v1/me`, {
      method: 'OPTIONS',
      headers: {
        Origin: PORTAL,
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'authorization',
      },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(PORTAL)
    expect(preflight.headers.get('access-control-allow-methods')).toContain('GET')
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization')
    const actual = await fetch(`${node.restUrl}/v1/me`, {
      headers: { Origin: PORTAL, authorization: `Bearer ${token}` },
    })
    expect(actual.status).toBe(200)
    expect(actual.headers.get('access-control-allow-origin')).toBe(PORTAL)
    expect(actual.headers.get('access-control-expose-headers')).toContain('X-Request-Id')
  })

  it('gives another origin no CORS headers, so its browser refuses the answer', async () => {
    const preflight = await fetch(`${node.restUrl}/v1/me`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
    })
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull()
    const actual = await fetch(`${node.restUrl}/health`, { headers: { Origin: 'https://evil.example' } })
    expect(actual.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('takes origins from the configuration, refusing what is not an origin', () => {
    const config = resolveConfig([
      layerFromEntries('env', { 'rest.corsOrigins': `${PORTAL},https://b.example:8443` }),
    ])
    expect(config.rest.corsOrigins).toEqual([PORTAL, 'https://b.example:8443'])
    expect(() =>
      resolveConfig([layerFromEntries('env', { 'rest.corsOrigins': 'https://a.example/path' })]),
    ).toThrow(/rest\.corsOrigins.*origins such as/)
  })
})
