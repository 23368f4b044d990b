import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CliError, connect } from '../src/cli/client.js'
import { type HttpEndpoint, listen } from '../src/http/listen.js'
import { writeOperatorFile } from '../src/services/operator-file.js'

describe('the command line’s client', () => {
  let dir: string
  let endpoint: HttpEndpoint
  const seen: (string | undefined)[] = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aruna-client-'))
    const app = new Hono()
    app.get('/v1/echo', (c) => {
      seen.push(c.req.header('authorization'))
      return c.json({ ok: true })
    })
    app.get('/v1/plain-error', (c) => c.text('upstream broke', 502))
    app.get('/v1/problem', (c) => c.json({ title: 'Forbidden', status: 403 }, 403))
    app.get('/v1/unauthorized', (c) =>
      c.json({ title: 'Unauthorized', detail: 'log in first', status: 401 }, 401),
    )
    endpoint = await listen(app, '127.0.0.1', 0, 'test')
  })

  afterAll(async () => {
    await endpoint.close(100)
    await rm(dir, { recursive: true, force: true })
  })

  it('picks the token: --token, then $ARUNA_TOKEN, then the data directory’s operator, then a saved login', async () => {
    const credentials = join(dir, 'credentials.json')
    await writeFile(
      credentials,
      JSON.stringify({
        version: 1,
        nodes: {
          [endpoint.url]: {
            url: endpoint.url,
            token: 'saved',
            expiresAt: new Date(Date.now() + 60_000).toISOString(),
            userId: 'u',
            realm: 'r',
          },
        },
      }),
    )
    const env = { ARUNA_CREDENTIALS: credentials }
    const empty = join(dir, 'empty')
    await (await connect({ url: endpoint.url, token: 'flag', dataDir: empty }, env)).call('GET', '/v1/echo')
    await (await connect({ url: endpoint.url, dataDir: empty }, { ...env, ARUNA_TOKEN: 'environment' })).call(
      'GET',
      '/v1/echo',
    )
    await (await connect({ url: endpoint.url, dataDir: empty }, env)).call('GET', '/v1/echo')
    const operatorDir = join(dir, 'node')
    await mkdir(operatorDir, { recursive: true })
    await writeOperatorFile(operatorDir, { url: endpoint.url, token: 'operator', userId: 'u', expiresAt: '' })
    const local = await connect({ dataDir: operatorDir }, env)
    expect(local.url).toBe(endpoint.url)
    await local.call('GET', '/v1/echo')
    expect(seen).toEqual(['Bearer flag', 'Bearer environment', 'Bearer saved', 'Bearer operator'])
  })

  it('ignores an expired saved login and says how to log in when refused', async () => {
    const credentials = join(dir, 'old.json')
    await writeFile(
      credentials,
      JSON.stringify({
        version: 1,
        nodes: {
          [endpoint.url]: {
            url: endpoint.url,
            token: 'old',
            expiresAt: new Date(1000).toISOString(),
            userId: 'u',
            realm: 'r',
          },
        },
      }),
    )
    const client = await connect(
      { url: endpoint.url, dataDir: join(dir, 'none') },
      { ARUNA_CREDENTIALS: credentials },
    )
    expect(client.authenticated).toBe(false)
    await expect(client.call('GET', '/v1/unauthorized')).rejects.toThrow(
      'log in first (log in with "aruna login"',
    )
  })

  it('turns failures into one line: problems, plain errors, and nodes that do not answer', async () => {
    const client = await connect({ url: endpoint.url, token: 't', dataDir: join(dir, 'none') }, {})
    await expect(client.call('GET', '/v1/problem')).rejects.toThrow(/^Forbidden$/)
    await expect(client.call('GET', '/v1/plain-error')).rejects.toThrow(/^HTTP 502$/)
    const gone = await connect({ url: 'http://127.0.0.1:1', token: 't', dataDir: join(dir, 'none') }, {})
    const failure = await gone.call('GET', '/v1/echo').catch((err: unknown) => err)
    expect(failure).toBeInstanceOf(CliError)
    expect((failure as Error).message).toMatch(/^no node answers at http:\/\/127\.0\.0\.1:1: /)
  })
})
