/**
 * How the command line reaches a running node's REST API: which node (`--url`, else the URL the local
 * node wrote into its data directory, else http://127.0.0.1:8080) and as whom (`--token` or
 * `$ARUNA_TOKEN`, else the operator credential in the data directory, else the token `aruna login`
 * saved for that URL). Failures become one clear line, never a stack trace.
 */
import { resolve } from 'node:path'
import { readOperatorFile } from '../services/operator-file.js'
import { DEFAULT_NODE_URL, loadCredentials, loadRealmCredentials } from './login-command.js'

export class CliError extends Error {
  override readonly name = 'CliError'
  constructor(
    message: string,
    readonly exitCode = 1,
    /** The node's problem document, when the error is its answer. */
    readonly problem?: unknown,
  ) {
    super(message)
  }
}

export interface ClientOptions {
  readonly url?: string
  readonly token?: string
  readonly dataDir?: string
}

export interface RawRequest {
  readonly body?: Uint8Array | string
  readonly contentType?: string
  /** Abort after this long (default 30 s); `undefined` in an object: never (event streams). */
  readonly timeoutMs?: number | undefined
}

export interface NodeClient {
  readonly url: string
  readonly authenticated: boolean
  /** A JSON call: the parsed answer, or a `CliError` with the node's problem detail. */
  call<T>(method: string, path: string, body?: unknown): Promise<T>
  /** A call with a raw body; the response when it is a success (its body unread), else a `CliError`. */
  request(method: string, path: string, init?: RawRequest): Promise<Response>
}

export async function connect(options: ClientOptions, env: NodeJS.ProcessEnv): Promise<NodeClient> {
  const dataDir = resolve(options.dataDir ?? env.ARUNA_DATA_DIR ?? './.aruna')
  const operator = await readOperatorFile(dataDir)
  const url = (options.url ?? (operator?.url || undefined) ?? DEFAULT_NODE_URL).replace(/\/+$/, '')
  let token = options.token ?? env.ARUNA_TOKEN
  if (
    token === undefined &&
    operator !== undefined &&
    (options.url === undefined || sameNode(options.url, operator.url))
  ) {
    token = operator.token
  }
  if (token === undefined) {
    const saved = await loadCredentials(url, env)
    if (saved !== undefined && Date.parse(saved.expiresAt) > Date.now()) token = saved.token
  }
  if (token === undefined) {
    // A login on another node of the same realm is good here too: ask the node which realm it serves.
    const realm = await realmOf(url)
    if (realm !== undefined) token = (await loadRealmCredentials(realm, env))?.token
  }
  const client: NodeClient = {
    url,
    authenticated: token !== undefined,
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      const response = await client.request(
        method,
        path,
        body === undefined ? {} : { body: JSON.stringify(body), contentType: 'application/json' },
      )
      const text = await response.text()
      try {
        return (text === '' ? undefined : JSON.parse(text)) as T
      } catch {
        throw new CliError(`the node at ${url} answered something that is not JSON`)
      }
    },
    async request(method: string, path: string, init: RawRequest = {}): Promise<Response> {
      const timeoutMs = 'timeoutMs' in init ? init.timeoutMs : 30_000
      let response: Response
      try {
        response = await fetch(`${url}${path}`, {
          method,
          headers: {
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
            ...(init.contentType === undefined ? {} : { 'content-type': init.contentType }),
          },
          ...(init.body === undefined ? {} : { body: init.body }),
          ...(timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) }),
        })
      } catch (err) {
        const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err)
        throw new CliError(`no node answers at ${url}: ${cause}`)
      }
      if (response.ok) return response
      const text = await response.text()
      let parsed: unknown
      try {
        parsed = text === '' ? undefined : JSON.parse(text)
      } catch {
        parsed = undefined
      }
      const detail = (parsed as { detail?: string; title?: string; problems?: unknown } | undefined) ?? {}
      const why = detail.detail ?? detail.title ?? `HTTP ${response.status}`
      const hint =
        response.status === 401 && token === undefined
          ? ' (log in with "aruna login", or run this on the node with --data-dir)'
          : ''
      throw new CliError(`${why}${hint}`, 1, parsed)
    },
  }
  return client
}

async function realmOf(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) })
    const body = (await response.json()) as { realmId?: unknown }
    return typeof body.realmId === 'string' && body.realmId !== '' ? body.realmId : undefined
  } catch {
    return undefined
  }
}

function sameNode(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin
  } catch {
    return false
  }
}
