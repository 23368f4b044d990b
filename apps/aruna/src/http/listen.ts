/** Binds a hono app to a TCP port and closes it gracefully: stop accepting, let in-flight requests finish. */
import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'

export interface HttpEndpoint {
  /** The bound address (the real port when 0 was asked for). */
  readonly host: string
  readonly port: number
  readonly url: string
  /** Stops accepting, waits for in-flight requests up to `timeoutMs`, then cuts the rest. */
  close(timeoutMs: number): Promise<void>
}

export class ListenError extends Error {
  override readonly name = 'ListenError'
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** Anything with a fetch handler: a hono app of any environment type. */
export interface FetchApp {
  fetch: (request: Request, env: never) => Response | Promise<Response>
}

export async function listen(app: FetchApp, host: string, port: number, what: string): Promise<HttpEndpoint> {
  const server = createAdaptorServer({ fetch: app.fetch as never }) as import('node:http').Server
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? 'is already in use'
          : err.code === 'EACCES'
            ? 'needs privileges this process does not have'
            : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND'
              ? 'is not an address of this machine'
              : `cannot be bound (${err.code ?? err.message})`
      reject(new ListenError(err.code ?? 'EUNKNOWN', `${what} address ${host}:${port} ${why}`))
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    host: address.address,
    port: address.port,
    url: `http://${urlHost}:${address.port}`,
    close: (timeoutMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), timeoutMs)
        // Keep-alive connections become idle when their request ends: close them as they do.
        const sweep = setInterval(() => server.closeIdleConnections(), 25)
        timer.unref()
        server.close(() => {
          clearTimeout(timer)
          clearInterval(sweep)
          resolve()
        })
        server.closeIdleConnections()
      }),
  }
}
