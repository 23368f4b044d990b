/**
 * The search index outlives a restart: a stopped node saves it under its data directory and a restarted
 * node loads it (searching at once, rebuilding behind); a damaged saved index is rebuilt, never a crash.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfigText } from '../src/config.js'
import { ArunaNode } from '../src/node.js'
import { readOperatorFile } from '../src/services/operator-file.js'
import { restCall, silentLogger } from './one-node.js'

const start = async (dir: string) => {
  const node = new ArunaNode(
    parseConfigText(
      JSON.stringify({ dataDir: dir, rest: { port: 0 }, s3: { port: 0 }, dev: { login: false } }),
    ),
    silentLogger,
    { initIfMissing: { devLogin: false } },
  )
  await node.start()
  return node
}

async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('the search index across restarts', () => {
  let dir: string
  let node: ArunaNode | undefined

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aruna-search-restart-'))
  })

  afterAll(async () => {
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const found = async (query: string): Promise<string[] | undefined> => {
    const token = (await readOperatorFile(dir))?.token ?? ''
    const answer = await restCall(
      node as ArunaNode,
      'GET',
      `/v1/search?q=${encodeURIComponent(query)}`,
      token,
    )
    if (answer.status !== 200 || answer.body.partial) return undefined
    const ids = (answer.body.hits as { resourceId: string }[]).map((hit) => hit.resourceId).sort()
    return ids.length > 0 ? ids : undefined
  }

  it('is saved at stop and searched again after a restart, and rebuilt when the saved copy is damaged', async () => {
    node = await start(dir)
    const token = (await readOperatorFile(dir))?.token ?? ''
    const group = (await restCall(node, 'GET', '/v1/groups', token)).body.groups[0].id as string
    for (const [resourceId, name] of [
      ['tundra-1', 'Tundra lakes'],
      ['tundra-2', 'Tundra soils'],
    ])
      expect(
        (await restCall(node, 'POST', '/v1/resources', token, { group, resourceId, name, description: name }))
          .status,
      ).toBe(201)
    expect(
      await until('both are found', async () => ((await found('tundra'))?.length === 2 ? true : undefined)),
    ).toBe(true)
    await node.stop()
    const saved = await readdir(join(dir, 'search'))
    expect(saved.length).toBeGreaterThanOrEqual(2)

    node = await start(dir)
    expect(node.search?.size).toBe(2)
    const metrics = await (await fetch(`${node.restUrl}/metrics`)).text()
    expect(metrics).toMatch(/^aruna_search_documents 2$/m)
    expect(await until('found after the restart', () => found('tundra'))).toEqual(['tundra-1', 'tundra-2'])
    const named = await restCall(node, 'GET', '/v1/search?q=lakes', (await readOperatorFile(dir))?.token)
    expect(named.body.hits[0]).toMatchObject({ resourceId: 'tundra-1', name: 'Tundra lakes', group })
    await node.stop()

    for (const file of await readdir(join(dir, 'search')))
      await writeFile(join(dir, 'search', file), '{not json')
    node = await start(dir)
    expect(await until('found after a rebuild', () => found('tundra'))).toEqual(['tundra-1', 'tundra-2'])
  }, 90_000)
})
