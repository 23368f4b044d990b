/**
 * One complete node for route and command tests: a fresh data directory, free ports, no development
 * login, a realm created on start. `restCall` calls its REST API and reads JSON or problem answers.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { parseConfigText } from '../src/config.js'
import { createLogger } from '../src/logger.js'
import { ArunaNode } from '../src/node.js'

export const silentLogger = createLogger({
  level: 'silent',
  format: 'json',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
})

export interface OneNode {
  readonly node: ArunaNode
  readonly dir: string
  /** Stops the node and removes its data directory. */
  stop(): Promise<void>
}

export async function startOneNode(prefix: string): Promise<OneNode> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  const node = new ArunaNode(
    parseConfigText(
      JSON.stringify({ dataDir: dir, rest: { port: 0 }, s3: { port: 0 }, dev: { login: false } }),
    ),
    silentLogger,
    { initIfMissing: { devLogin: false } },
  )
  await node.start()
  return {
    node,
    dir,
    async stop() {
      await node.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export interface RestAnswer {
  readonly status: number
  readonly type: string | null
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers of every route
  readonly body: any
}

/** One REST call: JSON bodies (a string body is sent as is), JSON or problem answers. */
export async function restCall(
  node: ArunaNode,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<RestAnswer> {
  const response = await fetch(`${node.restUrl}${path}`, {
    method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
  const text = await response.text()
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: text === '' ? undefined : JSON.parse(text),
  }
}
