import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { Validator } from '@seriousme/openapi-schema-validator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfigText } from '../src/config.js'
import { createLogger } from '../src/logger.js'
import { ArunaNode } from '../src/node.js'
import { readOperatorFile } from '../src/services/operator-file.js'

const logger = createLogger({
  level: 'silent',
  format: 'json',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
})

/** Routes that are not part of the API the document describes: the document itself and metrics. */
const UNDOCUMENTED = new Set(['GET /openapi.json', 'GET /docs', 'GET /metrics'])

interface OpenApiDocument {
  openapi: string
  paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>
}

describe('the OpenAPI document of the REST API', () => {
  let dir: string
  let node: ArunaNode
  let admin: string
  let doc: OpenApiDocument

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aruna-openapi-'))
    node = new ArunaNode(
      parseConfigText(
        JSON.stringify({ dataDir: dir, rest: { port: 0 }, s3: { port: 0 }, dev: { login: false } }),
      ),
      logger,
      { initIfMissing: { devLogin: false } },
    )
    await node.start()
    admin = (await readOperatorFile(dir))?.token ?? ''
    const response = await fetch(`${node.restUrl}/openapi.json`)
    expect(response.status).toBe(200)
    doc = (await response.json()) as OpenApiDocument
  }, 60_000)

  afterAll(async () => {
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('is a valid OpenAPI 3.1 document, served without a token', async () => {
    expect(doc.openapi).toBe('3.1.0')
    const validator = new Validator()
    const result = await validator.validate(doc as unknown as Record<string, unknown>)
    expect(result.errors).toBeUndefined()
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  it('describes every route the app serves, and only those', () => {
    const app = node.restApp
    if (!app) throw new Error('not running')
    const served = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method} ${r.path.replace(/:([^/]+)/g, '{$1}')}`)
        .filter((r) => !UNDOCUMENTED.has(r)),
    )
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, item]) =>
        Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    )
    expect([...documented].sort()).toEqual([...served].sort())
    for (const route of [
      'GET /health',
      'GET /v1/auth/config',
      'POST /v1/auth/token',
      'GET /v1/me',
      'POST /v1/invites',
      'GET /v1/nodes',
      'DELETE /v1/nodes/{id}',
      'GET /v1/keys',
      'POST /v1/keys',
      'DELETE /v1/keys/{id}',
      'GET /v1/groups',
      'POST /v1/groups',
      'GET /v1/groups/{id}',
      'POST /v1/groups/{id}/members',
      'DELETE /v1/groups/{id}/members/{user}',
      'GET /v1/roles',
      'POST /v1/roles',
      'PATCH /v1/roles/{id}',
      'DELETE /v1/roles/{id}',
      'POST /v1/roles/{id}/members',
      'DELETE /v1/roles/{id}/members/{user}',
      'POST /v1/tokens/revoke',
      'GET /v1/config',
    ])
      expect(documented).toContain(route)
  })

  it('marks the /v1 routes but login as needing a realm token, and declares problem answers', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const op of Object.values(item)) {
        const secured = (op.security ?? []).length > 0
        expect(secured, path).toBe(path.startsWith('/v1/') && !path.startsWith('/v1/auth/'))
        if (path !== '/health' && path !== '/v1/auth/config')
          expect(JSON.stringify(op.responses), path).toContain('application/problem+json')
      }
    }
  })

  it('serves a browsable reference at /docs listing every operation, from the node itself', async () => {
    const response = await fetch(`${node.restUrl}/docs`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await response.text()
    expect(html).not.toMatch(/<script|https?:\/\/(?!127\.)/)
    for (const [path, item] of Object.entries(doc.paths))
      for (const method of Object.keys(item)) {
        expect(html).toContain(`${method.toUpperCase()}</span> <code>${path}</code>`)
      }
  })

  it('answers input that fails a route schema with a 400 problem document naming the field', async () => {
    const bad = await fetch(`${node.restUrl}/v1/invites`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ttlSeconds: 'soon' }),
    })
    expect(bad.status).toBe(400)
    expect(bad.headers.get('content-type')).toBe('application/problem+json')
    const body = (await bad.json()) as { type: string; title: string; status: number; detail: string }
    expect(body).toMatchObject({ type: 'about:blank', title: 'Bad Request', status: 400 })
    expect(body.detail).toMatch(/^ttlSeconds: /)

    const malformed = await fetch(`${node.restUrl}/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: '{',
    })
    expect(malformed.status).toBe(400)
    expect(malformed.headers.get('content-type')).toBe('application/problem+json')

    const wrongType = await fetch(`${node.restUrl}/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/plain' },
      body: '{}',
    })
    expect(wrongType.status).toBe(415)
    expect(wrongType.headers.get('content-type')).toBe('application/problem+json')

    const badParam = await fetch(`${node.restUrl}/v1/keys/nope`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin}` },
    })
    expect(badParam.status).toBe(400)
    expect(((await badParam.json()) as { detail: string }).detail).toBe('id: not an access key id')
  })
})
