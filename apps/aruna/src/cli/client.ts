/**
 * How the command line reaches a running node's REST API: which node (`--url`, else the URL the local
 * node wrote into its data directory, else http://127.0.0.1:8080) and as whom (`--token` or
 * `$ARUNA_TOKEN`, else the operator credential in the data directory, else the token `aruna login`
 * saved for that URL). Failures become one clear line, never a stack trace.
 */
import { resolve } from 'node:path'
import { readOperatorFile } from '../services/operator-file.js'
import { DEFAULT_NODE_URL, loadCredentials } from './login-command.js'

export class CliError extends Error {
  override readonly name = 'CliError'
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message)
  }
}

export interface ClientOptions {
  readonly url?: string
  readonly token?: string
  readonly dataDir?: string
}

export interface NodeClient {
  readonly url: string
  readonly authenticated: boolean
  call<T>(method: string, path: string, body?: unknown): Promise<T>
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
  return {
    url,
    authenticated: token !== undefined,
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      let response: Response
      try {
        response = await fetch(`${url}${path}`, {
          method,
          headers: {
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(30_000),
        })
      } catch (err) {
        const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err)
        throw new CliError(`no node answers at ${url}: ${cause}`)
      }
      const text = await response.text()
      let parsed: unknown
      try {
        parsed = text === '' ? undefined : JSON.parse(text)
      } catch {
        parsed = undefined
      }
      if (!response.ok) {
        const detail = (parsed as { detail?: string; title?: string } | undefined) ?? {}
        const why = detail.detail ?? detail.title ?? `HTTP ${response.status}`
        const hint =
          response.status === 401 && token === undefined
            ? ' (log in with "aruna login", or run this on the node with --data-dir)'
            : ''
        throw new CliError(`${why}${hint}`)
      }
      return parsed as T
    },
  }
}

function sameNode(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin
  } catch {
    return false
  }
}
