import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readCrateZip } from '@aruna/metadata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ArunaNode } from '../src/node.js'
import { readOperatorFile } from '../src/services/operator-file.js'
import { type OneNode, restCall, startOneNode } from './one-node.js'

const FIXTURES = join(import.meta.dirname, '../../../packages/metadata/test/fixtures/ro-crate/valid')

/** Reads server-sent events from `response` until `until` holds of the events so far (bounded). */
async function readEvents(
  response: Response,
  until: (events: { event: string; data: unknown }[]) => boolean,
  ms = 15_000,
): Promise<{ event: string; data: unknown }[]> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  const events: { event: string; data: unknown }[] = []
  let buffer = ''
  const deadline = Date.now() + ms
  try {
    while (!until(events)) {
      if (Date.now() > deadline) throw new Error(`timed out; events so far: ${JSON.stringify(events)}`)
      const read = await Promise.race([
        reader.read(),
        new Promise<'late'>((resolve) =>
          setTimeout(() => resolve('late'), Math.max(1, deadline - Date.now())),
        ),
      ])
      if (read === 'late') continue
      if (read.done) break
      buffer += decoder.decode(read.value, { stream: true })
      for (let at = buffer.indexOf('\n\n'); at >= 0; at = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, at)
        buffer = buffer.slice(at + 2)
        const event = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) })
      }
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
  return events
}

async function asZipAgain(node: ArunaNode, token: string): Promise<ArrayBuffer> {
  const response = await fetch(`${node.restUrl}/v1/resources/isa-json/export?format=zip`, {
    headers: { authorization: `Bearer ${token}` },
  })
  return response.arrayBuffer()
}

describe('metadata over REST on one node', () => {
  let one: OneNode
  let node: ArunaNode
  let realm: string
  let admin: string
  let group: string
  let other: string
  let readerId: string
  let reader: string
  let outsider: string

  const call = (method: string, path: string, token: string, body?: unknown) =>
    restCall(node, method, path, token, body)

  beforeAll(async () => {
    one = await startOneNode('aruna-meta-')
    node = one.node
    realm = node.realm?.realmId ?? ''
    admin = (await readOperatorFile(one.dir))?.token ?? ''
    group = (await call('POST', '/v1/groups', admin, { name: 'ice' })).body.id
    other = (await call('POST', '/v1/groups', admin, { name: 'other' })).body.id
    const store = node.federation?.store
    if (!store) throw new Error('not running')
    const register = async (subject: string) =>
      (await store.registerUser({ issuer: 'https://idp.example', subject, displayName: subject })).user.id
    readerId = await register('reader')
    reader = await node.mintToken(readerId)
    outsider = await node.mintToken(await register('outsider'))
    const role = await call('POST', '/v1/roles', admin, {
      name: 'ice-readers',
      rules: [
        { pattern: `/${realm}/g/${group}/meta/**`, permission: 'READ' },
        { pattern: `/${realm}/g/${group}/meta/secret-*`, permission: 'DENY' },
      ],
    })
    expect((await call('POST', `/v1/roles/${role.body.id}/members`, admin, { user: readerId })).status).toBe(
      200,
    )
  }, 60_000)

  afterAll(async () => {
    await one?.stop()
  })

  it('creates, reads, edits by intentions, lists, shows history and deletes a resource', async () => {
    const created = await call('POST', '/v1/resources', admin, {
      group,
      name: 'Sea ice 2020',
      description: 'Daily sea ice concentration',
      properties: { keywords: ['ice', 'arctic'] },
    })
    expect(created.status).toBe(201)
    const id = created.body.resourceId as string
    expect(created.body.group).toBe(group)

    const got = await call('GET', `/v1/resources/${id}`, admin)
    expect(got.status).toBe(200)
    const root = got.body.crate['@graph'].find((e: { '@id': string }) => e['@id'] === './')
    expect(root).toMatchObject({ name: 'Sea ice 2020', keywords: ['ice', 'arctic'] })

    const patched = await call('PATCH', `/v1/resources/${id}`, admin, {
      message: 'describe the grid',
      edits: [
        {
          op: 'set',
          entity: './',
          property: 'license',
          value: { '@id': 'https://spdx.org/licenses/CC-BY-4.0' },
        },
        { op: 'addEntity', entity: { '@id': 'grid.nc', '@type': 'File', name: 'grid' } },
        { op: 'set', entity: './', property: 'hasPart', value: [{ '@id': 'grid.nc' }] },
        { op: 'remove', entity: './', property: 'keywords' },
      ],
    })
    expect(patched.status).toBe(200)
    const graph = patched.body.crate['@graph'] as { '@id': string; [k: string]: unknown }[]
    expect(graph.find((e) => e['@id'] === 'grid.nc')).toMatchObject({ '@type': 'File' })
    expect(graph.find((e) => e['@id'] === './')).not.toHaveProperty('keywords')

    const history = await call('GET', `/v1/resources/${id}/history`, admin)
    expect(history.status).toBe(200)
    expect(history.body.changes.length).toBe(5)
    expect(history.body.changes[1]).toMatchObject({
      message: 'describe the grid',
      author: node.realm?.operator,
    })

    const listed = await call('GET', `/v1/resources?group=${group}`, admin)
    expect(listed.body.resources).toContainEqual({ resourceId: id, group, name: 'Sea ice 2020' })

    const report = await call('GET', `/v1/resources/${id}/validation`, admin)
    expect(report.status).toBe(200)
    expect(report.body.counts.passed).toBeGreaterThan(10)

    expect((await call('DELETE', `/v1/resources/${id}`, admin)).status).toBe(204)
    expect((await call('GET', `/v1/resources/${id}`, admin)).status).toBe(404)
  })

  it('imports a fixture crate as JSON and as a zip, and exports it back as both', async () => {
    const text = await readFile(join(FIXTURES, 'minimal-isa-ro-crate/ro-crate-metadata.json'), 'utf8')
    const imported = await call(
      'POST',
      `/v1/resources/import?group=${group}&resourceId=isa-json`,
      admin,
      text,
    )
    expect(imported.status).toBe(201)
    expect(imported.body).toEqual({ resourceId: 'isa-json', group })

    const asJson = await fetch(`${node.restUrl}/v1/resources/isa-json/export`, {
      headers: { authorization: `Bearer ${admin}` },
    })
    expect(asJson.headers.get('content-type')).toBe('application/ld+json')
    const exported = (await asJson.json()) as { '@graph': { '@id': string }[] }
    const original = JSON.parse(text) as { '@graph': { '@id': string }[] }
    expect(exported['@graph'].map((e) => e['@id']).sort()).toEqual(
      original['@graph'].map((e) => e['@id']).sort(),
    )

    const asZip = await fetch(`${node.restUrl}/v1/resources/isa-json/export?format=zip`, {
      headers: { authorization: `Bearer ${admin}` },
    })
    expect(asZip.status).toBe(200)
    expect(asZip.headers.get('content-type')).toBe('application/zip')
    const contents = readCrateZip(new Uint8Array(await asZip.arrayBuffer()))
    expect(JSON.parse(contents.metadata)).toEqual(exported)

    // A zip carries the metadata and no files (they live in S3): a crate without local data entities
    // comes back whole from its own zip.
    const plain = await call('POST', '/v1/resources', admin, {
      group,
      name: 'No files',
      description: 'Only metadata',
      properties: { license: { '@id': 'https://spdx.org/licenses/CC0-1.0' } },
    })
    const plainZip = await fetch(`${node.restUrl}/v1/resources/${plain.body.resourceId}/export?format=zip`, {
      headers: { authorization: `Bearer ${admin}` },
    })
    const again = await fetch(`${node.restUrl}/v1/resources/import?group=${group}&resourceId=isa-zip`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/zip' },
      body: new Uint8Array(await plainZip.arrayBuffer()),
    })
    expect(again.status, await again.clone().text()).toBe(201)
    const roundTrip = await call('GET', '/v1/resources/isa-zip', admin)
    expect(roundTrip.body.crate).toEqual(
      (await call('GET', `/v1/resources/${plain.body.resourceId}`, admin)).body.crate,
    )

    // A 1.1 crate whose files are not in the zip is refused with the rule that says so.
    const withFiles = await fetch(`${node.restUrl}/v1/resources/import?group=${group}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/zip' },
      body: new Uint8Array(await asZipAgain(node, admin)),
    })
    expect(withFiles.status).toBe(400)
    const refused = (await withFiles.json()) as { problems: { rule: string }[] }
    expect(refused.problems.map((p) => p.rule)).toContain('data-entity.payload')
  })

  it('refuses an invalid crate with its RO-Crate problems, and bad input with a 400 naming the field', async () => {
    const bad = await call('POST', `/v1/resources/import?group=${group}`, admin, {
      '@context': 'https://w3id.org/ro/crate/1.1/context',
      '@graph': [{ '@id': 'ro-crate-metadata.json', '@type': 'CreativeWork', about: { '@id': './' } }],
    })
    expect(bad.status).toBe(400)
    expect(bad.type).toBe('application/problem+json')
    expect(bad.body.problems.map((p: { rule: string }) => p.rule)).toContain('root.missing')
    expect(bad.body.detail).toMatch(
      /^The metadata descriptor must have "conformsTo" .* \(and 1 more problems\)$/,
    )

    const notJson = await call('POST', `/v1/resources/import?group=${group}`, admin, '{')
    expect(notJson.status).toBe(400)
    const noGroup = await call('POST', '/v1/resources', admin, { group: 'nope', name: 'x' })
    expect(noGroup.status).toBe(400)
    expect(noGroup.body.detail).toMatch(/^group: /)
    const badEdit = await call('PATCH', '/v1/resources/isa-json', admin, { edits: [{ op: 'explode' }] })
    expect(badEdit.status).toBe(400)
    const atId = await call('PATCH', '/v1/resources/isa-json', admin, {
      edits: [{ op: 'set', entity: './', property: '@id', value: 'x' }],
    })
    expect(atId.status).toBe(400)
    const missingEntity = await call('PATCH', '/v1/resources/isa-json', admin, {
      edits: [{ op: 'set', entity: 'nothing-here', property: 'name', value: 'x' }],
    })
    expect(missingEntity.status).toBe(404)
    const taken = await call('POST', '/v1/resources', admin, { group, name: 'again', resourceId: 'isa-json' })
    expect(taken.status).toBe(409)
  })

  it('authorizes on the resource path: allowed, denied, deny wins, and no leak', async () => {
    const make = async (resourceId: string, inGroup = group) =>
      expect(
        (await call('POST', '/v1/resources', admin, { group: inGroup, name: resourceId, resourceId })).status,
      ).toBe(201)
    await make('open-1')
    await make('secret-1')
    await make('elsewhere-1', other)

    // READ on the group's metadata: reads, but may not write (a 403: they may know it exists).
    expect((await call('GET', '/v1/resources/open-1', reader)).status).toBe(200)
    expect((await call('GET', '/v1/resources/open-1/history', reader)).status).toBe(200)
    const write = await call('PATCH', '/v1/resources/open-1', reader, {
      edits: [{ op: 'set', entity: './', property: 'name', value: 'mine' }],
    })
    expect(write.status).toBe(403)
    expect((await call('POST', '/v1/resources', reader, { group, name: 'new' })).status).toBe(403)
    expect((await call('DELETE', '/v1/resources/open-1', reader)).status).toBe(403)

    // DENY on secret-* wins over the READ; hidden and other groups' resources are 404s like absent ones.
    const absent = await call('GET', '/v1/resources/never-was', reader)
    for (const id of ['secret-1', 'elsewhere-1']) {
      for (const path of [
        `/v1/resources/${id}`,
        `/v1/resources/${id}/history`,
        `/v1/resources/${id}/export`,
      ]) {
        const answer = await call('GET', path, reader)
        expect(answer.status, path).toBe(404)
        expect(answer.body.detail.replace(id, 'X')).toBe(absent.body.detail.replace('never-was', 'X'))
      }
      const del = await call('DELETE', `/v1/resources/${id}`, reader)
      expect(del.status).toBe(404)
    }
    const listed = await call('GET', `/v1/resources?group=${group}`, reader)
    const ids = listed.body.resources.map((r: { resourceId: string }) => r.resourceId)
    expect(ids).toContain('open-1')
    expect(ids).not.toContain('secret-1')
    // A user with no role sees nothing of either group.
    expect((await call('GET', '/v1/resources/open-1', outsider)).status).toBe(404)
    expect((await call('GET', `/v1/resources?group=${group}`, outsider)).body.resources).toEqual([])
    // No token, no metadata.
    expect((await restCall(node, 'GET', '/v1/resources/open-1')).status).toBe(401)
  })

  it('streams change events the caller may read as server-sent events', async () => {
    const response = await fetch(`${node.restUrl}/v1/events?group=${group}`, {
      headers: { authorization: `Bearer ${reader}`, accept: 'text/event-stream' },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const reading = readEvents(response, (events) =>
      events.some((e) => e.event === 'updated' && (e.data as { resourceId: string }).resourceId === 'open-2'),
    )
    await call('POST', '/v1/resources', admin, { group, name: 'secret', resourceId: 'secret-2' })
    await call('POST', '/v1/resources', admin, { group: other, name: 'other', resourceId: 'elsewhere-2' })
    await call('POST', '/v1/resources', admin, { group, name: 'open', resourceId: 'open-2' })
    await call('PATCH', '/v1/resources/open-2', admin, {
      edits: [{ op: 'set', entity: './', property: 'name', value: 'renamed' }],
    })
    const events = await reading
    const seen = events
      .filter((e) => e.event !== 'ready')
      .map((e) => e.data as { resourceId: string; type: string })
    expect(seen.map((e) => `${e.type} ${e.resourceId}`)).toEqual(['created open-2', 'updated open-2'])
    expect(seen[0]).toMatchObject({ group, origin: 'local' })
  })
})
