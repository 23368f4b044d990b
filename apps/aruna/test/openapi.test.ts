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
import { minimalCrate } from './crates.js'

const logger = createLogger({
  level: 'silent',
  format: 'json',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
})

/** Routes that are not part of the API the document describes: the document itself and metrics. */
const UNDOCUMENTED = new Set(['GET /openapi.json', 'GET /docs', 'GET /metrics'])

interface MediaType {
  schema?: { $ref?: string }
}
interface OpenApiDocument {
  openapi: string
  paths: Record<
    string,
    Record<
      string,
      {
        security?: unknown[]
        requestBody?: { content: Record<string, MediaType> }
        responses: Record<string, { content?: Record<string, MediaType> }>
      }
    >
  >
  components: { schemas: Record<string, { required?: string[] }> }
}

const METHOD_ORDER = ['post', 'get', 'patch', 'delete']

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
      'PATCH /v1/config',
      'GET /v1/usage',
      'GET /v1/users',
      'GET /v1/users/{id}',
      'POST /v1/validate',
      'POST /v1/resources',
      'GET /v1/resources',
      'GET /v1/resources/{id}',
      'PATCH /v1/resources/{id}',
      'DELETE /v1/resources/{id}',
      'GET /v1/resources/{id}/history',
      'GET /v1/resources/{id}/validation',
      'GET /v1/resources/{id}/export',
      'POST /v1/resources/import',
      'GET /v1/events',
      'GET /v1/search',
      'GET /v1/buckets',
      'POST /v1/buckets',
      'GET /v1/buckets/{name}',
      'DELETE /v1/buckets/{name}',
    ])
      expect(documented).toContain(route)
  })

  it('marks the /v1 routes but login as needing a realm token, and declares the 429 problem everywhere', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const op of Object.values(item)) {
        const secured = (op.security ?? []).length > 0
        expect(secured, path).toBe(path.startsWith('/v1/') && !path.startsWith('/v1/auth/'))
        // Every route may be rate limited, and answers it with a problem document.
        expect(op.responses['429'], path).toMatchObject({ content: { 'application/problem+json': {} } })
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

  it('drives every operation of the document against the node: each answer is one it declares', async () => {
    const realm = node.realm?.realmId ?? ''
    const operator = node.realm?.operator ?? ''
    const ids: Record<string, string> = {}
    const bodies: Record<string, () => unknown> = {
      'POST /v1/auth/token': () => ({ token: 'a.b.c' }),
      'POST /v1/invites': () => ({ ttlSeconds: 600 }),
      'POST /v1/keys': () => ({ description: 'driven' }),
      'POST /v1/groups': () => ({ name: 'driven' }),
      'POST /v1/groups/{id}/members': () => ({ user: operator }),
      'POST /v1/roles': () => ({
        name: 'driven',
        rules: [{ pattern: `/${realm}/driven/**`, permission: 'READ' }],
      }),
      'PATCH /v1/roles/{id}': () => ({ name: 'driven-renamed' }),
      'POST /v1/roles/{id}/members': () => ({ user: operator }),
      'POST /v1/tokens/revoke': () => ({ jti: 'driven-jti' }),
      'PATCH /v1/config': () => ({ replication: { default: { metadata: 'all' } } }),
      'POST /v1/buckets': () => ({ name: 'driven-bucket', group: ids.group }),
      'POST /v1/resources': () => ({ group: ids.group, name: 'driven', resourceId: 'driven' }),
      'PATCH /v1/resources/{id}': () => ({
        edits: [{ op: 'set', entity: './', property: 'keywords', value: ['driven'] }],
      }),
      'POST /v1/resources/import': () => minimalCrate('imported'),
      'POST /v1/validate': () => ({
        '@context': 'https://w3id.org/ro/crate/1.1/context',
        '@graph': [
          {
            '@id': 'ro-crate-metadata.json',
            '@type': 'CreativeWork',
            conformsTo: { '@id': 'https://w3id.org/ro/crate/1.1' },
            about: { '@id': './' },
          },
          { '@id': './', '@type': 'Dataset', name: 'driven' },
        ],
      }),
    }
    const param = (path: string, name: string): string => {
      if (name === 'user' || path.startsWith('/v1/users/')) return operator
      if (path.startsWith('/v1/groups/')) return ids.group ?? ''
      if (path.startsWith('/v1/roles/')) return ids.role ?? ''
      if (path.startsWith('/v1/keys/')) return ids.key ?? ''
      if (path.startsWith('/v1/resources/')) return 'driven'
      if (path.startsWith('/v1/buckets/')) return 'driven-bucket'
      return '12D3KooWRwh8TFV84mzn25uoqG849xVPaNfK4QZUct4iP5yjdTkd' // a node that is not in the realm
    }
    const operations = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })))
      .sort(
        (a, b) =>
          METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method) ||
          (a.method === 'delete' ? b.path.length - a.path.length : a.path.length - b.path.length),
      )
    const answered: string[] = []
    for (const { path, method, op } of operations) {
      const name = `${method.toUpperCase()} ${path}`
      const query = path === '/v1/resources' || path === '/v1/resources/import' ? `?group=${ids.group}` : ''
      const url = `${path.replace(/\{(\w+)\}/g, (_m, p: string) => encodeURIComponent(param(path, p)))}${query}`
      const sample = bodies[name]
      if (op.requestBody) expect(sample, `a sample body for ${name}`).toBeDefined()
      const response = await fetch(`${node.restUrl}${url}`, {
        method: method.toUpperCase(),
        headers: {
          ...(op.security?.length ? { authorization: `Bearer ${admin}` } : {}),
          ...(sample ? { 'content-type': 'application/json' } : {}),
        },
        ...(sample ? { body: JSON.stringify(sample()) } : {}),
      })
      const declared = op.responses[String(response.status)]
      expect(declared, `${name} answered ${response.status}`).toBeDefined()
      const type = response.headers.get('content-type')?.split(';')[0] ?? ''
      if (type === 'text/event-stream') {
        // A stream that stays open: its first event is enough.
        expect(declared?.content?.[type], name).toBeDefined()
        const reader = (response.body as ReadableStream<Uint8Array>).getReader()
        expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^event: ready/)
        await reader.cancel()
        answered.push(`${name} ${response.status}`)
        continue
      }
      const text = await response.text()
      if (declared?.content) {
        const media = declared.content[type]
        expect(media, `${name}: ${type}`).toBeDefined()
        const ref = media?.schema?.$ref?.split('/').at(-1)
        const body = JSON.parse(text) as Record<string, unknown>
        for (const key of (ref && doc.components.schemas[ref]?.required) || [])
          expect(body, name).toHaveProperty(key)
        if (name === 'POST /v1/groups') ids.group = String(body.id)
        if (name === 'POST /v1/roles') ids.role = String(body.id)
        if (name === 'POST /v1/keys') ids.key = String(body.accessKeyId)
      } else expect(text, name).toBe('')
      answered.push(`${name} ${response.status}`)
    }
    // Everything that can succeed as the administrator did; the two refusals are the samples' own.
    expect(answered.filter((a) => !/ 2\d\d$/.test(a)).sort()).toEqual([
      'DELETE /v1/nodes/{id} 404',
      'POST /v1/auth/token 401',
    ])
    expect(answered).toHaveLength(operations.length)
  })
})
