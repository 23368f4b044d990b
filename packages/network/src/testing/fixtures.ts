import { expect } from 'vitest'
import { messageCodec } from '../codec.js'
import { isNetworkError, NetworkError, type NetworkErrorCode } from '../errors.js'
import type { Network, NetworkEventName, NetworkEvents, PeerId, Protocol, RequestHandler } from '../port.js'
import { defineProtocol } from '../protocol.js'
import type { NetworkCluster, NetworkTestSetup } from './setup.js'

/** The longest any suite test waits for something to happen before failing. */
export const WAIT_MS = 5_000

/** Runs `body` on a fresh cluster of `nodes` nodes and always tears it down. */
export async function withCluster(
  common: NetworkTestSetup,
  nodes: number,
  body: (nodes: readonly Network[], cluster: NetworkCluster) => Promise<void>,
): Promise<void> {
  const cluster = await common.setup({ nodes })
  try {
    expect(cluster.nodes).toHaveLength(nodes)
    await body(cluster.nodes, cluster)
  } finally {
    await common.teardown(cluster)
  }
}

/** The node at `index`, failing the test when there is none. */
export function nodeAt(nodes: readonly Network[], index: number): Network {
  const node = nodes[index]
  if (node === undefined) throw new Error(`the cluster has no node ${index}`)
  return node
}

/** Asserts that `promise` rejects with a `NetworkError` of `code`, and returns that error. */
export async function expectNetworkError(
  promise: Promise<unknown>,
  code: NetworkErrorCode,
): Promise<NetworkError> {
  try {
    await promise
  } catch (err) {
    if (!isNetworkError(err))
      throw new Error(`expected NetworkError ${code}, got ${String(err)}`, { cause: err })
    expect(err.code, err.message).toBe(code)
    return err
  }
  throw new Error(`expected NetworkError ${code}, but the call succeeded`)
}

/** The same for a function that may throw synchronously. */
export function expectNetworkErrorSync(call: () => unknown, code: NetworkErrorCode): NetworkError {
  try {
    call()
  } catch (err) {
    if (!isNetworkError(err))
      throw new Error(`expected NetworkError ${code}, got ${String(err)}`, { cause: err })
    expect(err.code, err.message).toBe(code)
    return err
  }
  throw new Error(`expected NetworkError ${code}, but the call succeeded`)
}

/** Resolves with the next `event` on `node` about `peer`; fails after `timeoutMs`. */
export function nextEvent<E extends NetworkEventName>(
  node: Network,
  event: E,
  peer: PeerId,
  timeoutMs = WAIT_MS,
): Promise<NetworkEvents[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe()
      reject(new Error(`no ${event} for ${peer} on ${node.peerId} within ${timeoutMs} ms`))
    }, timeoutMs)
    const unsubscribe = node.on(event, (detail) => {
      if (detail.peer !== peer) return
      clearTimeout(timer)
      unsubscribe()
      resolve(detail)
    })
  })
}

/** Resolves once `signal` aborts; fails after `timeoutMs`. */
export function aborted(signal: AbortSignal, timeoutMs = WAIT_MS): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`signal not aborted within ${timeoutMs} ms`)), timeoutMs)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        resolve()
      },
      { once: true },
    )
  })
}

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        resolve()
      },
      { once: true },
    )
  })
}

/** Deterministic pseudo-random bytes (xorshift), so a failure reproduces. */
export function pseudoRandomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/** The test protocol's requests: a discriminated union with a binary field. */
export type EchoRequest =
  | { kind: 'echo'; text: string; body: Uint8Array; delayMs?: number }
  | { kind: 'hang' }
  | { kind: 'fail'; message: string }
  | { kind: 'big'; bytes: number }

export type EchoResponse = { kind: 'echoed'; text: string; body: Uint8Array; servedBy: string }

/** Request and response messages are limited to 64 KiB in the test protocol. */
export const ECHO_LIMIT = 64 * 1024

export const ECHO: Protocol<EchoRequest, EchoResponse> = defineProtocol({
  id: '/aruna/compliance-echo/1.0.0',
  request: messageCodec(validateEchoRequest),
  response: messageCodec(validateEchoResponse),
  maxMessageBytes: ECHO_LIMIT,
})

/** Counts the requests it served; `hang` waits for the caller to give up (bounded by `WAIT_MS`). */
export function echoHandler(): RequestHandler<EchoRequest, EchoResponse> & {
  signals: AbortSignal[]
  served: number
} {
  const signals: AbortSignal[] = []
  const handler = async (
    request: EchoRequest,
    context: { peer: PeerId; signal: AbortSignal },
  ): Promise<EchoResponse> => {
    handler.served++
    signals.push(context.signal)
    switch (request.kind) {
      case 'echo':
        if (request.delayMs !== undefined) await sleep(request.delayMs)
        return { kind: 'echoed', text: request.text, body: request.body, servedBy: context.peer }
      case 'hang':
        await sleep(WAIT_MS, context.signal)
        return { kind: 'echoed', text: 'too late', body: new Uint8Array(0), servedBy: context.peer }
      case 'fail': {
        const err = new Error(request.message)
        err.stack = `Error: ${request.message}\n    at secretFunction (/srv/secret/path.js:1:1)`
        throw err
      }
      case 'big':
        return { kind: 'echoed', text: 'big', body: new Uint8Array(request.bytes), servedBy: context.peer }
    }
  }
  handler.signals = signals
  handler.served = 0
  return handler
}

export function echo(text: string, body: Uint8Array = new Uint8Array(0), delayMs?: number): EchoRequest {
  return delayMs === undefined ? { kind: 'echo', text, body } : { kind: 'echo', text, body, delayMs }
}

function validateEchoRequest(value: unknown): EchoRequest {
  const v = record(value)
  switch (v.kind) {
    case 'echo':
      if (typeof v.text !== 'string' || !(v.body instanceof Uint8Array)) break
      if (v.delayMs !== undefined && !(typeof v.delayMs === 'number' && v.delayMs >= 0 && v.delayMs <= 1000))
        break
      return v as EchoRequest
    case 'hang':
      return { kind: 'hang' }
    case 'fail':
      if (typeof v.message === 'string') return { kind: 'fail', message: v.message }
      break
    case 'big':
      if (Number.isSafeInteger(v.bytes) && (v.bytes as number) >= 0)
        return { kind: 'big', bytes: v.bytes as number }
      break
  }
  throw new NetworkError('MalformedMessage', 'not an echo request')
}

function validateEchoResponse(value: unknown): EchoResponse {
  const v = record(value)
  if (
    v.kind === 'echoed' &&
    typeof v.text === 'string' &&
    v.body instanceof Uint8Array &&
    typeof v.servedBy === 'string'
  ) {
    return v as EchoResponse
  }
  throw new NetworkError('MalformedMessage', 'not an echo response')
}

function record(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new NetworkError('MalformedMessage', 'not an object')
  }
  return value as Record<string, unknown>
}
