import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { JwksOidcVerifier } from '@aruna/auth'
import { Command, CommanderError } from 'commander'
import { Hono } from 'hono'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  addLoginCommand,
  credentialsPath,
  DEFAULT_NODE_URL,
  loadCredentials,
  normalizeNodeUrl,
} from '../src/cli/login-command.js'
import { createAuthRoutes } from '../src/http/auth-routes.js'
import { type HttpEndpoint, listen } from '../src/http/listen.js'
import { type DevOidcProvider, startDevOidcProvider } from '../src/login/dev-oidc.js'
import { completeDevelopmentLogin } from '../src/login/device-flow.js'
import type { LoginIssuer } from '../src/login/types.js'
import { memoryUsers, testRealm } from './login-fixtures.js'

function capture() {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (d) => {
    text += d.toString()
  })
  return { stream, text: () => text }
}

/** Runs `aruna login …` through addLoginCommand; resolves to the exit code and the output. */
async function runLogin(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  options: { stopSignal?: Promise<string>; onStdout?: (text: string) => void; fast?: boolean } = {},
) {
  const out = capture()
  const err = capture()
  if (options.onStdout) out.stream.on('data', () => options.onStdout?.(out.text()))
  const io = {
    stdout: out.stream,
    stderr: err.stream,
    env,
    stopSignal: options.stopSignal ?? new Promise<string>(() => {}),
  }
  let code = -1
  const program = new Command('aruna')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
  addLoginCommand(
    program,
    io,
    (c) => {
      code = c
    },
    options.fast
      ? {
          sleep: (_ms, signal) =>
            new Promise((r, j) => (signal?.aborted ? j(signal.reason) : setTimeout(r, 20))),
        }
      : {},
  )
  try {
    await program.parseAsync(['login', ...args], { from: 'user' })
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e
    code = e.exitCode
  }
  return { code, stdout: out.text(), stderr: err.text() }
}

describe('aruna login', () => {
  let provider: DevOidcProvider
  let outsider: DevOidcProvider
  let node: HttpEndpoint
  let otherNode: HttpEndpoint
  let dir: string
  let env: NodeJS.ProcessEnv
  const realm = testRealm()
  const users = memoryUsers()
  let advertised: LoginIssuer[]

  beforeAll(async () => {
    provider = await startDevOidcProvider({ host: '127.0.0.1', port: 0 })
    outsider = await startDevOidcProvider({ host: '127.0.0.1', port: 0 })
    const oidc = new JwksOidcVerifier({
      issuers: [
        { issuer: provider.issuer, audiences: [provider.clientId] },
        { issuer: outsider.issuer, audiences: [outsider.clientId] },
      ],
    })
    advertised = [{ issuer: provider.issuer, clientId: provider.clientId, development: true }]
    const rest = (issuers: () => LoginIssuer[]) =>
      new Hono().route(
        '/',
        createAuthRoutes({
          oidc,
          registerLogin: users.registerLogin,
          tokens: realm.signer,
          tokenTtlSeconds: 3600,
          loginConfig: () => ({ issuers: issuers() }),
        }),
      )
    node = await listen(
      rest(() => advertised),
      '127.0.0.1',
      0,
      'REST API',
    )
    // A node that also accepts an external (non-development) issuer.
    otherNode = await listen(
      rest(() => [
        { issuer: provider.issuer, clientId: provider.clientId, development: true },
        { issuer: outsider.issuer, clientId: outsider.clientId, development: false },
      ]),
      '127.0.0.1',
      0,
      'REST API',
    )
  })
  afterAll(async () => {
    await node.close(1000)
    await otherNode.close(1000)
    await provider.close()
    await outsider.close()
  })
  beforeEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
    dir = await mkdtemp(join(tmpdir(), 'aruna-login-'))
    env = { ARUNA_CREDENTIALS: join(dir, 'nested', 'credentials.json') }
    advertised = [{ issuer: provider.issuer, clientId: provider.clientId, development: true }]
  })

  it('logs in with the development issuer without a browser and saves the realm token (mode 0600)', async () => {
    const r = await runLogin(['--url', `${node.url}/`], env)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`no browser needed`)
    expect(r.stdout).toMatch(
      new RegExp(`Logged in to ${node.url} as Development User \\(user user-\\d+\\), realm ${realm.realm}`),
    )

    const path = env.ARUNA_CREDENTIALS as string
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const file = JSON.parse(await readFile(path, 'utf8')) as {
      version: number
      nodes: Record<string, unknown>
    }
    expect(file.version).toBe(1)
    expect(Object.keys(file.nodes)).toEqual([node.url])

    const saved = await loadCredentials(node.url, env)
    expect(saved).toMatchObject({ url: node.url, realm: realm.realm })
    const claims = await realm.verifier.verify(saved?.token as string)
    expect(claims.sub).toBe(`${saved?.userId}@${realm.realm}`)
    expect(new Date(saved?.expiresAt as string).getTime()).toBe(claims.exp * 1000)
  })

  it('keeps one entry per node URL', async () => {
    expect((await runLogin(['--url', node.url], env)).code).toBe(0)
    const first = await loadCredentials(node.url, env)
    expect((await runLogin(['--url', otherNode.url, '--issuer', provider.issuer], env)).code).toBe(0)
    expect((await runLogin(['--url', node.url], env)).code).toBe(0)
    const file = JSON.parse(await readFile(env.ARUNA_CREDENTIALS as string, 'utf8')) as {
      nodes: Record<string, unknown>
    }
    expect(Object.keys(file.nodes).sort()).toEqual([node.url, otherNode.url].sort())
    expect((await loadCredentials(`${node.url}/`, env))?.token).not.toBe(first?.token)
    expect(await loadCredentials('http://127.0.0.1:1', env)).toBeUndefined()
  })

  it('with --no-browser-auto, shows the URL and code and waits for the sign-in in a browser', async () => {
    let started = false
    const r = await runLogin(['--url', node.url, '--no-browser-auto'], env, {
      fast: true,
      onStdout: (text) => {
        const code = /enter the code (\S+)/.exec(text)?.[1]
        const uri = /open (\S+)\n/.exec(text)?.[1]
        if (code === undefined || uri === undefined || started) return
        started = true
        // The "user" signs in at the verification URI, typing the code.
        void completeDevelopmentLogin(
          {
            deviceCode: '',
            userCode: code,
            verificationUri: uri,
            expiresIn: 600,
            interval: 5,
            expiresAt: Date.now() + 600_000,
          },
          { issuer: provider.issuer, advertised },
        )
      },
    })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`To log in, open ${provider.issuer}/device\nand enter the code `)
    expect(r.stdout).toContain('Logged in to')
  })

  it('never completes the sign-in itself for an issuer that is not the development one', async () => {
    let stop: (s: string) => void = () => {}
    const stopSignal = new Promise<string>((r) => {
      stop = r
    })
    const r = await runLogin(['--url', otherNode.url, '--issuer', outsider.issuer], env, {
      stopSignal,
      fast: true,
      onStdout: (text) => {
        if (text.includes('Waiting for the sign-in')) setTimeout(() => stop('SIGINT'), 100)
      },
    })
    expect(r.stdout).toContain(`To log in, open ${outsider.issuer}/device`)
    expect(r.stderr).toBe('aruna: login cancelled\n')
    expect(r.code).toBe(1)
    expect(await loadCredentials(otherNode.url, env)).toBeUndefined()
  })

  it('asks for --issuer when the node accepts several, and refuses an unknown one', async () => {
    const several = await runLogin(['--url', otherNode.url], env)
    expect(several.code).toBe(2)
    expect(several.stderr).toBe(
      `aruna: the node at ${otherNode.url} accepts several issuers; choose one with --issuer: ${provider.issuer}, ${outsider.issuer}\n`,
    )
    const unknown = await runLogin(['--url', node.url, '--issuer', 'https://idp.example.org'], env)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toBe(
      `aruna: the node at ${node.url} does not accept logins from https://idp.example.org; it accepts: ${provider.issuer}\n`,
    )
  })

  it('fails with one line when no node answers, when it offers no login, or accepts no issuer', async () => {
    const closed = await listen(new Hono(), '127.0.0.1', 0, 'REST API')
    await closed.close(100)
    const down = await runLogin(['--url', closed.url], env)
    expect(down.code).toBe(1)
    expect(down.stderr).toBe(
      `aruna: no node answers at ${closed.url}: connect ECONNREFUSED ${closed.host}:${closed.port}\n`,
    )

    const notANode = await runLogin(['--url', provider.issuer], env)
    expect(notANode.code).toBe(1)
    expect(notANode.stderr).toMatch(/^aruna: the node at .* does not offer logins \(.*\)\n$/)

    advertised = []
    const none = await runLogin(['--url', node.url], env)
    expect(none.code).toBe(1)
    expect(none.stderr).toBe(
      `aruna: the node at ${node.url} accepts no logins (no OIDC issuer is configured)\n`,
    )

    const bad = await runLogin(['--url', 'not a url'], env)
    expect(bad.code).toBe(2)
    expect(bad.stderr.split('\n')).toHaveLength(2)
  })

  it('reports a login the node refuses in one line', async () => {
    // The node advertises an issuer its verifier does not trust.
    const rogue = await startDevOidcProvider({ host: '127.0.0.1', port: 0 })
    try {
      advertised = [{ issuer: rogue.issuer, clientId: rogue.clientId, development: true }]
      const r = await runLogin(['--url', node.url], env)
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(
        /^aruna: the node at .* refused the login: the OIDC token does not verify: issuer .* is not trusted\n$/,
      )
      expect(await loadCredentials(node.url, env)).toBeUndefined()
    } finally {
      await rogue.close()
    }
  })

  it('refuses to overwrite a credentials file it cannot read', async () => {
    const path = join(dir, 'credentials.json')
    await writeFile(path, '{ not json')
    const r = await runLogin(['--url', node.url], { ARUNA_CREDENTIALS: path })
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      `aruna: the credentials file ${path} is not valid JSON; move it away and log in again\n`,
    )
    expect(await readFile(path, 'utf8')).toBe('{ not json')
    await expect(loadCredentials(node.url, { ARUNA_CREDENTIALS: path })).rejects.toThrow(/not valid JSON/)
  })

  it('documents its flags and where credentials go', async () => {
    const r = await runLogin(['--help'], env)
    expect(r.code).toBe(0)
    for (const text of ['--url', '--issuer', '--no-browser-auto', DEFAULT_NODE_URL, 'ARUNA_CREDENTIALS']) {
      expect(r.stdout).toContain(text)
    }
  })

  it('puts the credentials under ~/.config/aruna by default and keys them by normalised URL', () => {
    expect(credentialsPath({ HOME: '/home/ada' })).toBe('/home/ada/.config/aruna/credentials.json')
    expect(credentialsPath({ HOME: '/home/ada', ARUNA_CREDENTIALS: '/tmp/c.json' })).toBe('/tmp/c.json')
    expect(normalizeNodeUrl('http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080')
    expect(normalizeNodeUrl('HTTP://Node.Example:443/api//')).toBe('http://node.example:443/api')
    expect(() => normalizeNodeUrl('ftp://x')).toThrow(/http/)
    expect(() => normalizeNodeUrl('http://u:p@x')).toThrow(/no user/)
  })
})
