/**
 * `aruna login`: logs in to a node with OIDC and keeps the realm token for the other commands.
 *
 * Asks the node which issuers it accepts (`GET /v1/auth/config`), runs the device authorization grant
 * (RFC 8628) at the chosen one — completing the sign-in itself only for the node's development issuer
 * on a loopback address, unless `--no-browser-auto` — exchanges the ID token at `POST /v1/auth/token`
 * for a realm token, and saves it in the credentials file (`$ARUNA_CREDENTIALS`, default
 * `~/.config/aruna/credentials.json`, mode 0600, one entry per node URL, written through a temporary
 * file, fsync and rename).
 */
import { mkdir, readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { writeFileDurably } from '@aruna/platform'
import type { Command } from 'commander'
import { AuthConfigSchema, displayNameOf, ProblemSchema, TokenResponseSchema } from '../http/auth-routes.js'
import {
  completeDevelopmentLogin,
  type DeviceAuthorization,
  DeviceFlowError,
  loginTokenOf,
  runDeviceFlow,
} from '../login/device-flow.js'
import type { LoginIssuer } from '../login/types.js'
import type { CliIo } from './io.js'

export const DEFAULT_NODE_URL = 'http://127.0.0.1:8080'
const CREDENTIALS_VERSION = 1
const NODE_TIMEOUT_MS = 10_000

/** What `aruna login` keeps per node. */
export interface StoredCredentials {
  /** The node's REST base URL (normalised: no trailing slash). */
  readonly url: string
  /** The realm token. */
  readonly token: string
  /** ISO 8601. */
  readonly expiresAt: string
  readonly userId: string
  /** The realm id. */
  readonly realm: string
}

interface CredentialsFile {
  readonly version: number
  readonly nodes: Record<string, StoredCredentials>
}

/** The credentials file cannot be read or written. */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError'
}

/** Test seams: the HTTP client and the poll timer. */
export interface LoginCommandOptions {
  readonly fetch?: typeof globalThis.fetch
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

/** Where the credentials live: `$ARUNA_CREDENTIALS`, else `~/.config/aruna/credentials.json`. */
export function credentialsPath(env: NodeJS.ProcessEnv): string {
  const configured = env.ARUNA_CREDENTIALS
  if (configured !== undefined && configured !== '') return configured
  return join(env.HOME || homedir(), '.config', 'aruna', 'credentials.json')
}

/** A node URL as the credentials file keys it. @throws CredentialsError when it is not an http(s) URL. */
export function normalizeNodeUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new CredentialsError(`${JSON.stringify(url)} is not a URL (e.g. ${DEFAULT_NODE_URL})`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CredentialsError(`${JSON.stringify(url)} is not an http(s) URL`)
  }
  if (parsed.username !== '' || parsed.password !== '' || parsed.search !== '' || parsed.hash !== '') {
    throw new CredentialsError(`the node URL ${parsed.origin} must have no user, query or fragment`)
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`
}

/**
 * The saved credentials for the node at `url`, or `undefined` when there are none (expired ones too:
 * compare `expiresAt`). @throws CredentialsError when the file exists but cannot be read.
 */
export async function loadCredentials(
  url: string,
  env: NodeJS.ProcessEnv,
): Promise<StoredCredentials | undefined> {
  const file = await readCredentialsFile(credentialsPath(env))
  return file.nodes[normalizeNodeUrl(url)]
}

/**
 * A saved login for another node of `realm` that has not expired (a realm token is valid on every node
 * of its realm), or `undefined`.
 */
export async function loadRealmCredentials(
  realm: string,
  env: NodeJS.ProcessEnv,
  now = Date.now(),
): Promise<StoredCredentials | undefined> {
  const file = await readCredentialsFile(credentialsPath(env))
  return Object.values(file.nodes)
    .filter((entry) => entry.realm === realm && Date.parse(entry.expiresAt) > now)
    .sort((a, b) => Date.parse(b.expiresAt) - Date.parse(a.expiresAt))[0]
}

/** Saves (replaces) the entry of `credentials.url`; returns the file's path. @throws CredentialsError */
export async function saveCredentials(
  credentials: StoredCredentials,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const path = credentialsPath(env)
  const file = await readCredentialsFile(path)
  const url = normalizeNodeUrl(credentials.url)
  const next: CredentialsFile = {
    version: CREDENTIALS_VERSION,
    nodes: { ...file.nodes, [url]: { ...credentials, url } },
  }
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    await writeFileDurably(path, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 })
  } catch (err) {
    throw new CredentialsError(`cannot write the credentials file ${path}: ${reasonOf(err)}`)
  }
  return path
}

async function readCredentialsFile(path: string): Promise<CredentialsFile> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: CREDENTIALS_VERSION, nodes: {} }
    throw new CredentialsError(`cannot read the credentials file ${path}: ${reasonOf(err)}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new CredentialsError(
      `the credentials file ${path} is not valid JSON; move it away and log in again`,
    )
  }
  const nodes = (parsed as { nodes?: unknown } | null)?.nodes
  if (typeof nodes !== 'object' || nodes === null || Array.isArray(nodes)) {
    throw new CredentialsError(`the credentials file ${path} is not an aruna credentials file`)
  }
  const valid: Record<string, StoredCredentials> = {}
  for (const [url, entry] of Object.entries(nodes as Record<string, unknown>)) {
    if (isCredentials(entry)) valid[url] = entry
  }
  return { version: CREDENTIALS_VERSION, nodes: valid }
}

function isCredentials(value: unknown): value is StoredCredentials {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return ['url', 'token', 'expiresAt', 'userId', 'realm'].every((k) => typeof v[k] === 'string')
}

/** Adds `aruna login` to `program`; the exit code goes to `setExit` (0 logged in, 1 failed, 2 bad usage). */
export function addLoginCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
  options: LoginCommandOptions = {},
): Command {
  return program
    .command('login')
    .description(
      "log in to a node with OIDC and save the realm token (the node's development issuer needs no browser)",
    )
    .option('--url <url>', 'REST base URL of the node', DEFAULT_NODE_URL)
    .option('--issuer <url>', 'the OIDC issuer to log in with (needed when the node accepts several)')
    .option(
      '--no-browser-auto',
      "show the sign-in URL and code even for the node's development issuer, instead of completing it here",
    )
    .addHelpText(
      'after',
      '\nCredentials are saved in $ARUNA_CREDENTIALS (default ~/.config/aruna/credentials.json, mode 0600).',
    )
    .action(async (opts: { url: string; issuer?: string; browserAuto: boolean }) => {
      setExit(await commandLogin(opts, io, options))
    })
}

class LoginFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message)
  }
}

async function commandLogin(
  opts: { url: string; issuer?: string; browserAuto: boolean },
  io: CliIo,
  options: LoginCommandOptions,
): Promise<number> {
  const cancel = new AbortController()
  void io.stopSignal.then(() => cancel.abort(new Error('cancelled')))
  try {
    let url: string
    try {
      url = normalizeNodeUrl(opts.url)
    } catch (err) {
      throw new LoginFailure(`invalid --url: ${(err as Error).message}`, 2)
    }
    const http = { fetch: options.fetch ?? globalThis.fetch, signal: cancel.signal }
    const config = await askNode(url, '/v1/auth/config', { method: 'GET' }, http)
    const advertised = AuthConfigSchema.safeParse(config.body)
    if (!config.ok || !advertised.success) {
      throw new LoginFailure(`the node at ${url} does not offer logins (${describeAnswer(config)})`)
    }
    const issuers = advertised.data.issuers
    const entry = chooseIssuer(issuers, opts.issuer, url)
    const auto = entry.development && opts.browserAuto

    const tokens = await runDeviceFlow({
      issuer: entry.issuer,
      clientId: entry.clientId,
      ...http,
      ...(options.sleep !== undefined ? { sleep: options.sleep } : {}),
      onAuthorization: (authorization) => printInstructions(authorization, entry, auto, io),
      ...(auto
        ? {
            complete: (authorization: DeviceAuthorization) =>
              completeDevelopmentLogin(authorization, { issuer: entry.issuer, advertised: issuers, ...http }),
          }
        : {}),
      onSlowDown: (seconds) =>
        io.stderr.write(`aruna: the issuer asks to poll more slowly (every ${seconds} s)\n`),
    })
    const oidcToken = loginTokenOf(tokens)

    const exchange = await askNode(
      url,
      '/v1/auth/token',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: oidcToken }),
      },
      http,
    )
    if (!exchange.ok) {
      const verb = exchange.status === 401 ? 'refused the login' : 'could not complete the login'
      throw new LoginFailure(`the node at ${url} ${verb}: ${describeAnswer(exchange)}`)
    }
    const grant = TokenResponseSchema.safeParse(exchange.body)
    if (!grant.success) throw new LoginFailure(`the node at ${url} sent a malformed token answer`)

    const path = await saveCredentials({ url, ...grant.data }, io.env)
    const who = nameInToken(oidcToken)
    io.stdout.write(
      `Logged in to ${url} as ${who !== undefined ? `${who} (user ${grant.data.userId})` : `user ${grant.data.userId}`}, ` +
        `realm ${grant.data.realm}; the token expires at ${grant.data.expiresAt}.\nCredentials saved in ${path}\n`,
    )
    return 0
  } catch (err) {
    io.stderr.write(`aruna: ${messageOf(err)}\n`)
    return err instanceof LoginFailure ? err.exitCode : 1
  }
}

function chooseIssuer(issuers: readonly LoginIssuer[], wanted: string | undefined, url: string): LoginIssuer {
  const list = issuers.map((i) => i.issuer).join(', ')
  if (wanted !== undefined) {
    const strip = (s: string) => s.replace(/\/+$/, '')
    const found =
      issuers.find((i) => i.issuer === wanted) ?? issuers.find((i) => strip(i.issuer) === strip(wanted))
    if (found === undefined) {
      throw new LoginFailure(
        `the node at ${url} does not accept logins from ${wanted}${list ? `; it accepts: ${list}` : ''}`,
      )
    }
    return found
  }
  const [only, ...more] = issuers
  if (only === undefined)
    throw new LoginFailure(`the node at ${url} accepts no logins (no OIDC issuer is configured)`)
  if (more.length > 0) {
    throw new LoginFailure(`the node at ${url} accepts several issuers; choose one with --issuer: ${list}`, 2)
  }
  return only
}

function printInstructions(
  authorization: DeviceAuthorization,
  entry: LoginIssuer,
  auto: boolean,
  io: CliIo,
): void {
  if (auto) {
    io.stdout.write(`Logging in with the node's development issuer ${entry.issuer} (no browser needed)…\n`)
    return
  }
  const minutes = Math.max(1, Math.round(authorization.expiresIn / 60))
  io.stdout.write(
    `To log in, open ${authorization.verificationUri}\nand enter the code ${authorization.userCode}\n` +
      (authorization.verificationUriComplete !== undefined
        ? `(or open ${authorization.verificationUriComplete})\n`
        : '') +
      `Waiting for the sign-in (the code expires in ${minutes} minute${minutes === 1 ? '' : 's'}; Ctrl-C cancels)…\n`,
  )
}

interface NodeAnswer {
  readonly ok: boolean
  readonly status: number
  readonly body: unknown
}

async function askNode(
  base: string,
  path: string,
  init: RequestInit,
  http: { fetch: typeof globalThis.fetch; signal: AbortSignal },
): Promise<NodeAnswer> {
  let response: Response
  try {
    response = await http.fetch(`${base}${path}`, {
      ...init,
      signal: AbortSignal.any([http.signal, AbortSignal.timeout(NODE_TIMEOUT_MS)]),
    })
  } catch (err) {
    if (http.signal.aborted) throw new DeviceFlowError('Cancelled', 'the login was cancelled')
    throw new LoginFailure(`no node answers at ${base}: ${reasonOf(err)}`)
  }
  let body: unknown
  try {
    body = JSON.parse(await response.text())
  } catch {
    body = undefined
  }
  return { ok: response.ok, status: response.status, body }
}

function describeAnswer(answer: NodeAnswer): string {
  const problem = ProblemSchema.safeParse(answer.body)
  if (problem.success) return problem.data.detail ?? `${problem.data.title} (HTTP ${answer.status})`
  return `HTTP ${answer.status}`
}

/** The user's name as the OIDC token says it: for the greeting only (the node verified the token). */
function nameInToken(token: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >
    const name = displayNameOf(claims, '')
    return name === '' ? undefined : name
  } catch {
    return undefined
  }
}

function messageOf(err: unknown): string {
  if (err instanceof LoginFailure || err instanceof CredentialsError) return err.message
  if (err instanceof DeviceFlowError) {
    switch (err.code) {
      case 'Cancelled':
        return 'login cancelled'
      case 'Expired':
        return 'the login code expired before the sign-in was completed; run "aruna login" again'
      case 'AccessDenied':
        return `login refused: ${err.message}`
      default:
        return `login failed: ${err.message}`
    }
  }
  return `login failed: ${reasonOf(err)}`
}

function reasonOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? err.cause.message : undefined
    const code = (err as NodeJS.ErrnoException).code
    return (
      cause ?? (code !== undefined && !err.message.includes(code) ? `${code}: ${err.message}` : err.message)
    ).split('\n')[0] as string
  }
  return String(err)
}
