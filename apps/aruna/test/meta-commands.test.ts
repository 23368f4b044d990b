import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportCrateZip, MemoryMetadataStore } from '@aruna/metadata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseValue } from '../src/cli/meta-commands.js'
import { type Cluster, createCluster } from '../src/testing/cluster.js'
import { aruna } from './cli-run.js'
import { crateOf } from './crates.js'

const FIXTURE = join(
  import.meta.dirname,
  '../../../packages/metadata/test/fixtures/ro-crate/valid/minimal-isa-ro-crate/ro-crate-metadata.json',
)

/** Retries `aruna …` until it exits 0 (bounded): what was written on one node reaches another by sync. */
async function eventually(argv: string[], env: NodeJS.ProcessEnv, ms = 15_000) {
  const deadline = Date.now() + ms
  for (;;) {
    const run = await aruna(argv, env)
    if (run.code === 0 || Date.now() > deadline) return run
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** An RO-Crate zip with its payload: the fixture's metadata and a small file per data entity. */
async function crateZip(): Promise<Uint8Array> {
  const store = new MemoryMetadataStore()
  const { resourceId } = await store.importCrate('g', await readFile(FIXTURE, 'utf8'))
  const parts: Uint8Array[] = []
  for await (const chunk of exportCrateZip(store, resourceId, (_entity, path) => [
    new TextEncoder().encode(`contents of ${path}\n`),
  ]))
    parts.push(chunk)
  return new Uint8Array(Buffer.concat(parts))
}

describe('aruna meta: import on one node, read on another, after aruna login', () => {
  let cluster: Cluster
  let dir: string
  let env: NodeJS.ProcessEnv
  let a: string[]
  let b: string[]

  beforeAll(async () => {
    cluster = await createCluster({ nodes: 2 })
    dir = await mkdtemp(join(tmpdir(), 'aruna-meta-cli-'))
    // No operator credential in reach: the user's own login is what counts.
    env = { ARUNA_CREDENTIALS: join(dir, 'credentials.json'), ARUNA_DATA_DIR: join(dir, 'no-node') }
    a = ['--url', cluster.node(0).restUrl]
    b = ['--url', cluster.node(1).restUrl]
  }, 120_000)

  afterAll(async () => {
    await cluster?.stop()
    await rm(dir, { recursive: true, force: true })
  }, 60_000)

  it('needs a login first, then imports a zip on A and prints it on B', async () => {
    const before = await aruna(['meta', 'list', '--group', 'default', ...a], env)
    expect(before.code).toBe(1)
    expect(before.err).toMatch(/log in first.*\(log in with "aruna login"/)

    const login = await aruna(['login', ...a], env)
    expect(login.code, login.err).toBe(0)

    const zip = join(dir, 'crate.zip')
    await writeFile(zip, await crateZip())
    const imported = await aruna(['meta', 'import', zip, '--group', 'default', ...a], env)
    expect(imported.code, imported.err).toBe(0)
    expect(imported.err).toMatch(/^uploading crate\.zip \(\d+ bytes, zip\)…/)
    const id = /imported crate\.zip as (\S+)/.exec(imported.out)?.[1] ?? ''
    expect(id).toMatch(/^[0-9A-Z]{26}$/)

    // B: no login of its own; the login on A is for the realm, and B is in it.
    const got = await eventually(['meta', 'get', id, ...b], env)
    expect(got.code, got.err).toBe(0)
    const crate = JSON.parse(got.out) as { '@graph': { '@id': string }[] }
    const original = JSON.parse(await readFile(FIXTURE, 'utf8')) as { '@graph': { '@id': string }[] }
    expect(crate['@graph'].map((e) => e['@id']).sort()).toEqual(
      original['@graph'].map((e) => e['@id']).sort(),
    )

    const listed = await aruna(['meta', 'list', '--group', 'default', ...b, '--json'], env)
    expect(JSON.parse(listed.out).resources.map((r: { resourceId: string }) => r.resourceId)).toContain(id)
  })

  it('finds resources with aruna search, from either node', async () => {
    const made = await aruna(
      [
        'meta',
        'create',
        'Permafrost cores',
        '--group',
        'default',
        '--description',
        'Drilled in 2021',
        ...a,
        '--json',
      ],
      env,
    )
    const id = JSON.parse(made.out).resourceId as string
    let found = await aruna(['search', 'permafrost', ...b], env)
    const deadline = Date.now() + 15_000
    while (!found.out.includes(id) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      found = await aruna(['search', 'permafrost', ...b], env)
    }
    expect(found.code, found.err).toBe(0)
    expect(found.out).toMatch(
      new RegExp(`^${id}  Permafrost cores  \\(group [0-9A-Z]{26}, \\d{4}-\\d\\d-\\d\\d\\S*\\)$`, 'm'),
    )
    const json = JSON.parse((await aruna(['search', 'permafrost', '--facets', ...a, '--json'], env)).out)
    expect(json).toMatchObject({ partial: false, missing: [] })
    expect(json.hits.map((hit: { resourceId: string }) => hit.resourceId)).toEqual([id])
    expect(json.facets.type).toEqual([{ value: 'Dataset', count: 1 }])
    const nothing = await aruna(['search', 'no-such-word-anywhere', ...a], env)
    expect(nothing.out).toBe('no results\n')
    const bad = await aruna(['search', 'size:>1XB', ...a], env)
    expect(bad.code).toBe(1)
    expect(bad.err).toMatch(/^aruna: .*position/)
  })

  it('edits, shows history, validates, exports and watches, in words and as JSON', async () => {
    const made = await aruna(
      ['meta', 'create', 'Sea ice', '--group', 'default', '--description', 'Ice', ...a, '--json'],
      env,
    )
    expect(made.code, made.err).toBe(0)
    const id = JSON.parse(made.out).resourceId as string

    // B has the resource, and the watcher's stream is open, before the two edits on A.
    expect((await eventually(['meta', 'get', id, ...b], env)).code).toBe(0)
    let watcherErr = () => ''
    const watching = aruna(['meta', 'watch', '--group', 'default', '--count', '2', ...b], env, (err) => {
      watcherErr = err
    })
    const deadline = Date.now() + 15_000
    while (!watcherErr().includes('watching for changes') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20))
    expect(watcherErr()).toContain('watching for changes')
    expect(
      (await aruna(['meta', 'set', id, 'license', '{"@id": "https://spdx.org/licenses/MIT"}', ...a], env))
        .code,
    ).toBe(0)
    // B tells of each change it receives: the second edit is made once B has the first (else one
    // sync may bring both, and B tells of one update).
    const hasLicense = async () =>
      (await aruna(['meta', 'get', id, ...b], env)).out.includes('https://spdx.org/licenses/MIT')
    const until = Date.now() + 15_000
    while (!(await hasLicense()) && Date.now() < until)
      await new Promise((resolve) => setTimeout(resolve, 50))
    expect((await aruna(['meta', 'set', id, 'keywords', '["ice","arctic"]', ...a], env)).code).toBe(0)
    const watched = await Promise.race([
      watching,
      new Promise<never>((_resolve, reject) =>
        setTimeout(() => reject(new Error(`the watcher printed only: ${watcherErr()}`)), 20_000),
      ),
    ])
    expect(watched.code, watched.err).toBe(0)
    const lines = watched.out.trim().split('\n')
    expect(lines).toHaveLength(2)
    for (const line of lines)
      expect(line).toMatch(new RegExp(`^updated ${id} \\(group [0-9A-Z]{26}, remote\\)$`))

    const shown = JSON.parse((await aruna(['meta', 'get', id, ...a, '--json'], env)).out)
    const root = shown.crate['@graph'].find((e: { '@id': string }) => e['@id'] === './')
    expect(root).toMatchObject({
      license: { '@id': 'https://spdx.org/licenses/MIT' },
      keywords: ['ice', 'arctic'],
    })
    expect((await aruna(['meta', 'unset', id, 'keywords', ...a], env)).out).toBe(
      `removed keywords of ./ in ${id}\n`,
    )

    const history = await aruna(['meta', 'history', id, ...a], env)
    expect(history.out.trim().split('\n')).toHaveLength(4)

    // The crate has no license entity description etc.: warnings only, so it is valid (exit 0).
    const valid = await aruna(['meta', 'validate', id, ...a], env)
    expect(valid.code).toBe(0)
    expect(valid.out).toMatch(/is valid/)
    expect((await aruna(['meta', 'unset', id, 'license', ...a], env)).code).toBe(0)
    const invalid = await aruna(['meta', 'validate', id, ...a], env)
    expect(invalid.code).toBe(1)
    expect(invalid.out).toMatch(/\[root\.license\]/)

    const out = join(dir, 'export.zip')
    const exported = await aruna(['meta', 'export', id, '--zip', '-o', out, ...a], env)
    expect(exported.code, exported.err).toBe(0)
    expect((await readFile(out)).subarray(0, 2).toString()).toBe('PK')
    const asJson = await aruna(['meta', 'export', id, ...a], env)
    expect(JSON.parse(asJson.out)['@graph'].length).toBeGreaterThanOrEqual(2)

    expect((await aruna(['meta', 'delete', id, ...a], env)).out).toBe(`deleted ${id}\n`)
    const gone = await aruna(['meta', 'get', id, ...a], env)
    expect(gone.code).toBe(1)
    expect(gone.err).toBe(`aruna: No resource ${id}\n`)
  })

  it('refuses bad input in one line, listing the problems of a refused crate', async () => {
    const broken = join(dir, 'broken.json')
    await writeFile(
      broken,
      // A root with nothing but its type: no name, description, date or license.
      JSON.stringify(crateOf({})),
    )
    const refused = await aruna(['meta', 'import', broken, '--group', 'default', ...a], env)
    expect(refused.code).toBe(1)
    expect(refused.err).toMatch(/^uploading broken\.json .*\naruna: .*\n/)
    expect(refused.err).toMatch(/ {2}error: \[root\.name\]/)
    expect(refused.err).not.toMatch(/ at .*\.ts:\d+/)

    const noGroup = await aruna(['meta', 'list', '--group', 'no-such-group', ...a], env)
    expect(noGroup.code).toBe(2)
    expect(noGroup.err).toMatch(/no group named "no-such-group"/)
    const noFile = await aruna(['meta', 'import', join(dir, 'missing.zip'), '--group', 'default', ...a], env)
    expect(noFile.code).toBe(2)
    expect(noFile.err).toMatch(/missing\.zip cannot be read \(ENOENT\)/)
  })

  it('reads JSON values and plain text on the command line', () => {
    expect(parseValue('42')).toBe(42)
    expect(parseValue('["a"]')).toEqual(['a'])
    expect(parseValue('plain words')).toBe('plain words')
    expect(parseValue('"quoted"')).toBe('quoted')
  })
})
