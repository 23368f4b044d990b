import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../src/program.js'
import { capture } from './cli-run.js'

function io(env: NodeJS.ProcessEnv = {}, stopSignal: Promise<string> = new Promise(() => {})) {
  const out = capture()
  const err = capture()
  return { out, err, io: { stdout: out.stream, stderr: err.stream, env, stopSignal } }
}

describe('aruna command line', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aruna-cli-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('documents every command in --help', async () => {
    const t = io()
    expect(await runCli(['--help'], t.io)).toBe(0)
    for (const cmd of ['start', 'config', 'status']) expect(t.out.text()).toContain(cmd)
  })

  it('prints help when run without arguments', async () => {
    const t = io()
    expect(await runCli([], t.io)).toBe(0)
    expect(t.out.text()).toContain('Usage: aruna')
  })

  it('documents every flag and environment variable of start', async () => {
    const t = io()
    expect(await runCli(['start', '--help'], t.io)).toBe(0)
    for (const flag of ['--port', '--s3-port', '--data-dir', '--config', '--bootstrap', 'ARUNA_REST_PORT']) {
      expect(t.out.text()).toContain(flag)
    }
  })

  it('exits 2 with one clear line for start --port notanumber', async () => {
    const t = io()
    expect(await runCli(['start', '--port', 'notanumber'], t.io)).toBe(2)
    const lines = t.err.text().trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^aruna: invalid configuration: .*rest\.port.*--port.*0 to 65535/)
  })

  it('exits 2 on an unknown flag or command', async () => {
    expect(await runCli(['start', '--portt', '1'], io().io)).toBe(2)
    expect(await runCli(['frobnicate'], io().io)).toBe(2)
  })

  it('prints the merged configuration as JSON', async () => {
    const t = io({ ARUNA_S3_PORT: '9100' })
    expect(await runCli(['config', '--port', '8100'], t.io)).toBe(0)
    const config = JSON.parse(t.out.text())
    expect(config.rest.port).toBe(8100)
    expect(config.s3.port).toBe(9100)
  })

  it('starts a node that answers /health, then stops on the stop signal', async () => {
    let stop: (s: string) => void = () => {}
    const stopSignal = new Promise<string>((resolve) => {
      stop = resolve
    })
    const t = io({}, stopSignal)
    const running = runCli(
      ['start', '--port', '0', '--s3-port', '0', '--data-dir', dir, '--log-format', 'json'],
      t.io,
    )
    const deadline = Date.now() + 10_000
    let url: string | undefined
    while (!url && Date.now() < deadline) {
      url = /"rest":"(http:[^"]+)"/.exec(t.out.text())?.[1]
      if (!url) await new Promise((r) => setTimeout(r, 20))
    }
    expect(url).toBeDefined()
    const status = io()
    expect(await runCli(['status', '--url', url as string], status.io)).toBe(0)
    expect(status.out.text()).toMatch(/: ok — node 12D3KooW\w+ \(management\) of realm "default"/)
    expect(status.out.text()).toContain('aruna login')
    // With the node's data directory, the CLI acts as its operator and lists the realm's nodes.
    const local = io()
    expect(await runCli(['status', '--data-dir', dir], local.io)).toBe(0)
    expect(local.out.text()).toMatch(/1 node in the realm:\n {2}12D3KooW\w+ {2}management, live, this node/)
    const keys = io()
    expect(
      await runCli(['keys', 'create', '--data-dir', dir, '--json', '--description', 'ci'], keys.io),
    ).toBe(0)
    const key = JSON.parse(keys.out.text()) as { accessKeyId: string; secretAccessKey: string }
    expect(key.accessKeyId).toMatch(/^AK[A-Z2-7]{18}$/)
    const listed = io()
    expect(await runCli(['keys', 'list', '--data-dir', dir], listed.io)).toBe(0)
    expect(listed.out.text()).toContain(`${key.accessKeyId}`)
    const invite = io()
    expect(await runCli(['invite', '--data-dir', dir, '--ttl', '10m'], invite.io)).toBe(0)
    expect(invite.out.text()).toMatch(/^aruna-invite-1\.[A-Za-z0-9_-]+\n/)
    const revoke = io()
    expect(await runCli(['keys', 'revoke', key.accessKeyId, '--data-dir', dir], revoke.io)).toBe(0)
    expect(revoke.out.text()).toBe(`revoked access key ${key.accessKeyId}\n`)
    const after = io()
    expect(await runCli(['keys', 'list', '--data-dir', dir, '--json'], after.io)).toBe(0)
    expect(
      (JSON.parse(after.out.text()) as { keys: { accessKeyId: string }[] }).keys.map((k) => k.accessKeyId),
    ).not.toContain(key.accessKeyId)
    const statusJson = io()
    expect(await runCli(['status', '--data-dir', dir, '--json'], statusJson.io)).toBe(0)
    const report = JSON.parse(statusJson.out.text()) as {
      health: { status: string; nodeId: string }
      nodes: { id: string }[]
    }
    expect(report.health.status).toBe('ok')
    expect(report.nodes.map((n) => n.id)).toEqual([report.health.nodeId])
    const nodesJson = io()
    expect(await runCli(['node', 'list', '--data-dir', dir, '--json'], nodesJson.io)).toBe(0)
    expect((JSON.parse(nodesJson.out.text()) as { self: string }).self).toBe(report.health.nodeId)
    const removeSelf = io()
    expect(await runCli(['node', 'remove', report.health.nodeId, '--data-dir', dir], removeSelf.io)).toBe(1)
    expect(removeSelf.err.text()).toBe('aruna: a node cannot remove itself; ask another node\n')
    const inviteJson = io()
    expect(await runCli(['invite', '--data-dir', dir, '--json'], inviteJson.io)).toBe(0)
    expect(JSON.parse(inviteJson.out.text())).toMatchObject({
      invite: expect.stringMatching(/^aruna-invite-1\./),
    })
    // A user with no access to the data directory logs in through OIDC (the development issuer's
    // device flow, completed by the CLI itself) and the saved realm token serves later commands.
    const credentials = {
      ARUNA_CREDENTIALS: join(dir, 'credentials.json'),
      ARUNA_DATA_DIR: join(dir, 'elsewhere'),
    }
    const login = io(credentials)
    expect(await runCli(['login', '--url', url as string], login.io)).toBe(0)
    const me = io(credentials)
    expect(await runCli(['keys', 'list', '--url', url as string, '--json'], me.io)).toBe(0)
    expect(JSON.parse(me.out.text())).toHaveProperty('keys')
    const anonymous = io()
    expect(await runCli(['node', 'list', '--url', url as string], anonymous.io)).toBe(1)
    expect(anonymous.err.text()).toMatch(/^aruna: .*log in/)
    stop('SIGTERM')
    expect(await running).toBe(0)
    expect(t.out.text()).toContain('node stopped')
  })

  it('exits 1 from status when the node answers but is not ok', async () => {
    const { createServer } = await import('node:http')
    const server = createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' })
      res.end('{"status":"stopping","realm":"r","version":"v"}')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as { port: number }).port
    const t = io()
    expect(await runCli(['status', '--url', `http://127.0.0.1:${port}`], t.io)).toBe(1)
    expect(t.out.text()).toContain('stopping')
    server.close()
  })

  it('reports a node that does not answer', async () => {
    const t = io()
    expect(await runCli(['status', '--url', 'http://127.0.0.1:1'], t.io)).toBe(1)
    expect(t.err.text()).toContain('no node answers at http://127.0.0.1:1')
  })

  it('reports a data directory that cannot be created', async () => {
    const t = io()
    const file = join(dir, 'a-file')
    await writeFile(file, 'x')
    const code = await runCli(
      ['start', '--port', '0', '--s3-port', '0', '--data-dir', join(file, 'data')],
      t.io,
    )
    expect(code).toBe(1)
    expect(t.err.text()).toMatch(
      /^aruna: cannot start: data directory .*a-file\/data cannot be created or written \(ENOTDIR\)/,
    )
  })

  it('creates a realm with init, refuses a second one, and checks the administrator flags', async () => {
    const data = join(dir, 'realm')
    const first = io()
    expect(
      await runCli(
        [
          'init',
          '--data-dir',
          data,
          '--realm',
          'lab',
          '--admin-issuer',
          'https://idp.example',
          '--admin-subject',
          'alice',
        ],
        first.io,
      ),
    ).toBe(0)
    expect(first.out.text()).toMatch(/^created realm "lab" \([A-Za-z0-9_-]{43}\)/)
    const again = io()
    expect(await runCli(['init', '--data-dir', data], again.io)).toBe(1)
    expect(again.err.text()).toMatch(/^aruna: .* already belongs to a realm/)
    const half = io()
    expect(
      await runCli(
        ['init', '--data-dir', join(dir, 'other'), '--admin-issuer', 'https://idp.example'],
        half.io,
      ),
    ).toBe(2)
    expect(half.err.text()).toContain('give both --admin-issuer and --admin-subject')
  })

  it('refuses to join with a line that is not an invite, or one whose node does not answer', async () => {
    const garbage = io()
    expect(await runCli(['join', 'hello', '--data-dir', join(dir, 'j1')], garbage.io)).toBe(1)
    expect(garbage.err.text()).toMatch(/^aruna: not an aruna invite/)
    const line = `aruna-invite-1.${Buffer.from(
      JSON.stringify({
        realm: 'pxJ5yLSnVt2OZ7szIIvz0YMSbGxKSLCpm9fK3zHRCQo',
        realmName: 'lab',
        secret: 'b'.repeat(43),
        expiresAt: Date.now() + 60_000,
        bootstrap: ['/ip4/127.0.0.1/tcp/1/p2p/12D3KooWRwh8TFV84mzn25uoqG849xVPaNfK4QZUct4iP5yjdTkd'],
        operator: '01J0000000000000000000000A',
      }),
    ).toString('base64url')}`
    const unreachable = io()
    expect(await runCli(['join', line, '--data-dir', join(dir, 'j2')], unreachable.io)).toBe(1)
    expect(unreachable.err.text()).toMatch(
      /aruna: \/ip4\/127\.0\.0\.1\/tcp\/1\/p2p\/12D3KooW\w+ did not answer/,
    )
  })

  it('refuses an invite lifetime that is not a duration', async () => {
    const t = io()
    expect(await runCli(['invite', '--ttl', 'soon', '--url', 'http://127.0.0.1:1'], t.io)).toBe(2)
    expect(t.err.text()).toContain('"soon" is not a duration')
  })
})
