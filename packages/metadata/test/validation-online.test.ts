import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Crate, formatCrateReport, validateCrateReport } from '../src/index.js'

/** A local web server: what each path answers to HEAD and to GET. */
const ROUTES: Record<string, (request: IncomingMessage, response: ServerResponse) => void> = {
  '/ok': (_, response) => response.writeHead(200).end('data'),
  '/moved': (_, response) => response.writeHead(302, { location: '/ok' }).end(),
  '/missing': (_, response) => response.writeHead(404).end(),
  '/no-head': (request, response) => response.writeHead(request.method === 'HEAD' ? 405 : 200).end(),
  '/slow': () => {
    // Never answers: the client's timeout must end the request.
  },
}

let server: Server
let base: string
const requests: string[] = []

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`)
    const route = ROUTES[request.url ?? '']
    if (route === undefined) response.writeHead(500).end()
    else route(request, response)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

function crate(paths: string[], citeAs?: string): Crate {
  return {
    '@context': 'https://w3id.org/ro/crate/1.2/context',
    '@graph': [
      {
        '@id': 'ro-crate-metadata.json',
        '@type': 'CreativeWork',
        conformsTo: { '@id': 'https://w3id.org/ro/crate/1.2' },
        about: { '@id': './' },
      },
      {
        '@id': './',
        '@type': 'Dataset',
        name: 'Sea ice',
        description: 'Grids',
        datePublished: '2024-05-17',
        license: { '@id': 'https://spdx.org/licenses/CC0-1.0' },
        hasPart: paths.map((path) => ({ '@id': `${base}${path}` })),
        ...(citeAs === undefined ? {} : { 'cite-as': `${base}${citeAs}` }),
      },
      ...paths.map((path) => ({
        '@id': `${base}${path}`,
        '@type': 'File',
        name: path,
        encodingFormat: 'text/plain',
        contentSize: '4',
        sdDatePublished: '2024-05-17',
      })),
    ],
  } as Crate
}

const unreachable = (report: { problems: { rule: string; message: string; entityId?: string }[] }) =>
  report.problems.filter((problem) => problem.rule === 'online.unreachable')

describe('online checks', () => {
  it('are not run by default: the report says they were not checked, and nothing is requested', () => {
    requests.length = 0
    const report = validateCrateReport(crate(['/missing']))
    expect(report.rules.find((result) => result.rule === 'online.unreachable')).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringMatching(/not run/),
    })
    expect(report.online).toBeUndefined()
    expect(requests).toEqual([])
  })

  it('accept 2xx and 3xx answers, and GET where HEAD is refused', async () => {
    requests.length = 0
    const report = await validateCrateReport(crate(['/ok', '/moved', '/no-head'], '/ok'), { online: {} })
    expect(unreachable(report)).toEqual([])
    expect(report.rules.find((result) => result.rule === 'online.unreachable')?.outcome).toBe('passed')
    expect(report.online).toEqual({ checked: 3, unchecked: 0 })
    expect(requests.sort()).toEqual(['GET /no-head', 'HEAD /moved', 'HEAD /no-head', 'HEAD /ok'])
  })

  it('warn about a URL that answers 404 or not at all in time, naming it and the status or timeout', async () => {
    const started = Date.now()
    const report = await validateCrateReport(crate(['/ok', '/missing', '/slow'], '/missing'), {
      online: { timeoutMs: 300 },
    })
    expect(Date.now() - started).toBeLessThan(5000)
    expect(report.valid).toBe(true)
    const problems = unreachable(report)
    expect(problems.map((problem) => problem.entityId)).toEqual(['./', `${base}/slow`])
    expect(problems[0]).toMatchObject({ severity: 'warning', property: 'cite-as' })
    expect(problems[0]?.message).toContain(`${base}/missing`)
    expect(problems[0]?.message).toMatch(/HTTP 404/)
    expect(problems[1]?.message).toMatch(/no answer to HEAD within 300 ms/)
    expect(formatCrateReport(report)).toContain('[online.unreachable]')
    expect(report.rules.find((result) => result.rule === 'online.unreachable')?.outcome).toBe('failed')
  })

  it('check at most maxUrls URLs of a crate given as bytes, with the fetch given, and say how many were left', async () => {
    const asked: string[] = []
    const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
      asked.push(`${init?.method} ${String(url)}`)
      return new Response(null, { status: 204 })
    }) as typeof globalThis.fetch
    const report = await validateCrateReport(
      new TextEncoder().encode(JSON.stringify(crate(['/a', '/b', '/c', '/d']))),
      {
        online: { fetch, maxUrls: 2 },
      },
    )
    expect(asked).toEqual([`HEAD ${base}/a`, `HEAD ${base}/b`])
    expect(report.online).toEqual({ checked: 2, unchecked: 2 })
  })

  it('report a failed request (nothing listening) and check nothing in a crate that cannot be read', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const gone = crate([])
    ;(gone['@graph'] as Record<string, unknown>[]).push({
      '@id': `http://127.0.0.1:${port}/x`,
      '@type': 'File',
      name: 'x',
    })
    const report = await validateCrateReport(JSON.stringify(gone), { online: { timeoutMs: 2000 } })
    expect(unreachable(report)[0]?.message).toMatch(/GET failed/)
    const unreadable = await validateCrateReport('{ not json', { online: {} })
    expect(unreadable.online).toEqual({ checked: 0, unchecked: 0 })
  })
})
