import type { ChunkBufferPool, LeasedBytes } from '../chunk-buffers.js'
import type { NodeResponse } from './context.js'

/** An answer's body read into pooled buffers, for a pool the server gives. */
export type LeasedSource = (pool: ChunkBufferPool) => AsyncIterable<LeasedBytes>

/**
 * The pooled form of answers made by `streamedResponse`, by the `Response` itself: looking it up must
 * not touch `body`, which would make @hono/node-server's answers of bytes in memory into streams.
 */
const leasedSources = new WeakMap<Response, LeasedSource>()

/**
 * `@hono/node-server` writes nothing for an answer that carries this header: the app has answered on
 * the Node response itself (`RESPONSE_ALREADY_SENT` of `@hono/node-server/utils/response`).
 */
export const ALREADY_SENT_HEADER = 'x-hono-already-sent'

/**
 * An answer whose body is `body` as a pull-driven stream (nothing is read before the first pull), and
 * which `sendLeased` can instead send from the pooled reads of `leased`. Either is read, never both.
 */
export function streamedResponse(
  body: AsyncIterable<Uint8Array>,
  leased: LeasedSource,
  init: ResponseInit,
): Response {
  const iterator = body[Symbol.asyncIterator]()
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await iterator.next()
        if (next.done === true) controller.close()
        else controller.enqueue(next.value)
      },
      async cancel() {
        await iterator.return?.()
      },
    },
    { highWaterMark: 0 },
  )
  const response = new Response(stream, init)
  leasedSources.set(response, leased)
  return response
}

/**
 * The pooled form of an answer made by `streamedResponse`, if it is one. An answer made anew from it
 * (hono does that when a middleware had touched `c.res` before) has none, and is streamed as usual.
 */
export function leasedSourceOf(response: Response): LeasedSource | undefined {
  return leasedSources.get(response)
}

/**
 * Sends an answer on the Node response from pooled buffers: each piece's buffer goes back to the pool
 * when the socket has taken the piece (the write's callback), never before. A read that fails after
 * the head went out cuts the connection, as a failing stream does (the client sees a short body).
 * Never throws; resolves when the body has been handed to the socket, or given up.
 */
export async function sendLeased(
  outgoing: NodeResponse,
  status: number,
  headers: Headers,
  source: AsyncIterable<LeasedBytes>,
): Promise<void> {
  const head: Record<string, string> = {}
  headers.forEach((value, name) => {
    head[name] = value
  })
  const iterator = source[Symbol.asyncIterator]()
  try {
    outgoing.writeHead(status, head)
    for (;;) {
      if (outgoing.destroyed) return
      const next = await iterator.next()
      if (next.done === true) {
        outgoing.end()
        return
      }
      const { bytes, release } = next.value
      if (outgoing.destroyed) {
        release()
        return
      }
      let more: boolean
      try {
        // The callback comes once the socket is done with the bytes (sent, or failed); a write to a
        // connection already gone may never call it, and the buffer is then left to the collector.
        more = outgoing.write(bytes, () => release())
      } catch (err) {
        release()
        throw err
      }
      if (!more) await drained(outgoing)
    }
  } catch (err) {
    outgoing.destroy(err instanceof Error ? err : new Error(String(err)))
  } finally {
    // Stops the read (its read-ahead goes back to the pool); nothing to do if it has ended.
    try {
      await iterator.return?.()
    } catch {
      // It failed as it stopped: the answer is over either way.
    }
  }
}

/** Resolves when the response can take more, or has closed. */
function drained(outgoing: NodeResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      outgoing.off('drain', done)
      outgoing.off('close', done)
      resolve()
    }
    outgoing.once('drain', done)
    outgoing.once('close', done)
  })
}
