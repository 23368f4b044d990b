import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isZip } from '../src/cli/validate-command.js'
import { runCli } from '../src/program.js'
import { capture } from './cli-run.js'
import { minimalCrate } from './crates.js'

const fixtures = fileURLToPath(new URL('./fixtures/validate/', import.meta.url))
const fixture = (name: string) => join(fixtures, name)

async function validate(...args: string[]) {
  const out = capture()
  const err = capture()
  const code = await runCli(['validate', ...args], {
    stdout: out.stream,
    stderr: err.stream,
    env: {},
    stopSignal: new Promise(() => {}),
  })
  return { code, out: out.text(), err: err.text() }
}

describe('aruna validate', () => {
  let tmp: string
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'aruna-validate-'))
  })
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true })
  })

  it('accepts a valid metadata file: the text report, exit code 0', async () => {
    const run = await validate(fixture('valid.json'))
    expect(run.code).toBe(0)
    expect(run.err).toBe('')
    expect(run.out).toMatch(/^\S+valid\.json \(RO-Crate 1\.\d\) is valid\n/)
    expect(run.out).toMatch(/\nRules: \d+ passed, 0 failed, \d+ skipped\n$/)
  })

  it('refuses an invalid one with exit code 1, naming the rule it breaks', async () => {
    const run = await validate(fixture('invalid.json'))
    expect(run.code).toBe(1)
    expect(run.out).toMatch(/is not valid: 1 error/)
    expect(run.out).toContain('Errors (MUST):\n  [workflow.name] ')
    const json = await validate(fixture('invalid.json'), '--json')
    expect(json.code).toBe(1)
    const report = JSON.parse(json.out)
    expect(report).toMatchObject({ valid: false, counts: { errors: 1 } })
    expect(report.rules.find((r: { rule: string }) => r.rule === 'workflow.name').outcome).toBe('failed')
  })

  it('checks a directory against the files beside its metadata, as a zip import does', async () => {
    const run = await validate(fixture('crate-dir'), '--json')
    expect(run.code).toBe(0)
    const report = JSON.parse(run.out)
    expect(report).toMatchObject({ valid: true, version: '1.2' })
    const outcome = (rule: string) => report.rules.find((r: { rule: string }) => r.rule === rule).outcome
    expect(outcome('data-entity.payload-absent')).toBe('passed')
    expect(outcome('root.id-attached')).toBe('passed')

    // The same crate without its file: a 1.2 crate may leave it out, with a warning (still exit 0).
    const bare = join(tmp, 'bare')
    await rm(bare, { recursive: true, force: true })
    await mkdir(join(bare, 'sub'), { recursive: true })
    await writeFile(
      join(bare, 'ro-crate-metadata.json'),
      await readFile(fixture('crate-dir/ro-crate-metadata.json')),
    )
    const warned = await validate(bare)
    expect(warned.code).toBe(0)
    expect(warned.out).toMatch(/\nWarnings \(SHOULD\):\n(.+\n)* {2}\[data-entity\.payload-absent\] /)
  })

  it('validates an RO-Crate zip against its payload', async () => {
    const run = await validate(fixture('crate.zip'))
    expect(run.code).toBe(0)
    expect(run.out).toMatch(/crate\.zip \(RO-Crate 1\.2\) is valid/)
    // A zip without a metadata file is a crate.zip error, not a usage error.
    const empty = join(tmp, 'empty.zip')
    await writeFile(empty, Uint8Array.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]))
    expect(isZip(new Uint8Array([0x50, 0x4b, 0x05, 0x06]))).toBe(true)
    const bad = await validate(empty)
    expect(bad.code).toBe(1)
    expect(bad.out).toContain('[crate.zip]')
  })

  it('answers paths it cannot read with one line and exit code 2', async () => {
    const missing = await validate(join(tmp, 'nope.json'))
    expect(missing.code).toBe(2)
    expect(missing.out).toBe('')
    expect(missing.err).toMatch(/^aruna: cannot read \S+nope\.json: no such file or directory\n$/)

    const notJson = await validate(fixture('notes.txt'))
    expect(notJson.code).toBe(2)
    expect(notJson.err).toMatch(/^aruna: \S+notes\.txt is neither JSON nor a zip: .+\n$/)

    const garbled = join(tmp, 'garbled')
    await mkdir(garbled, { recursive: true })
    await writeFile(join(garbled, 'ro-crate-metadata.json'), '{ "@context": ')
    const badDir = await validate(garbled)
    expect(badDir.code).toBe(2)
    expect(badDir.err).toMatch(/^aruna: \S+garbled\/ro-crate-metadata\.json is not JSON: .+\n$/)

    const noMetadata = await validate(tmp)
    expect(noMetadata.code).toBe(2)
    expect(noMetadata.err).toMatch(
      /^aruna: cannot read \S+ro-crate-metadata\.json: no such file or directory\n$/,
    )

    const usage = await validate()
    expect(usage.code).toBe(2)
  })

  it('with --online, checks that web-based data entities resolve (a local server), and says so when it does not', async () => {
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/data/ok.csv' ? 200 : 404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const file = join(tmp, 'web-crate.json')
      await writeFile(
        file,
        JSON.stringify(
          minimalCrate(
            'web data',
            { hasPart: [{ '@id': `${base}/data/ok.csv` }, { '@id': `${base}/data/gone.csv` }] },
            [
              { '@id': `${base}/data/ok.csv`, '@type': 'File', name: 'ok' },
              { '@id': `${base}/data/gone.csv`, '@type': 'File', name: 'gone' },
            ],
          ),
        ),
      )
      const offline = JSON.parse((await validate(file, '--json')).out) as {
        rules: { rule: string; outcome: string; reason?: string }[]
      }
      expect(offline.rules.find((r) => r.rule === 'online.unreachable')).toMatchObject({ outcome: 'skipped' })
      const online = await validate(file, '--json', '--online', '2')
      expect(online.code).toBe(0)
      const report = JSON.parse(online.out) as { problems: { rule: string; message: string }[] }
      const unreachable = report.problems.filter((p) => p.rule === 'online.unreachable')
      expect(unreachable).toHaveLength(1)
      expect(unreachable[0]?.message).toContain(`${base}/data/gone.csv`)
      expect((await validate(file, '--online', '0')).code).toBe(2)
    } finally {
      server.close()
    }
  })

  it('validates a crate larger than the store holds (a 20 MB metadata file), exit code 0', async () => {
    const file = join(tmp, 'large.json')
    await writeFile(
      file,
      JSON.stringify(minimalCrate('large', { description: 'x'.repeat(20 * 1024 * 1024) })),
    )
    const run = await validate(file, '--json')
    expect(run.code, run.out.slice(0, 500)).toBe(0)
    expect(JSON.parse(run.out).problems.map((p: { rule: string }) => p.rule)).not.toContain('crate.size')
  })
})
