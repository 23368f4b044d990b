/**
 * A small stream relay for the slow-links scenario, run as its own process (Node's type stripping), often
 * inside a network namespace: `node relay.ts '<json>'` where the JSON is a list of routes
 * `{ "listen": { "tcp": port } | { "unix": path }, "to": { "tcp": "host:port" } | { "unix": path },
 *    "delayMs"?: n, "dropRate"?: p }`. Each route accepts connections and pipes them both ways; `delayMs`
 * holds every piece of data that long (order kept), and `dropRate` is the chance, per piece, that the
 * connection is cut on both sides (a lost link). Unix sockets cross namespaces, so a route can carry a
 * connection from one namespace's loopback to another's. With a second argument `held` the delays and cuts
 * wait for SIGUSR2. Prints `{"ready":[ports…]}` once listening and
 * `{"drop":1}` per cut connection.
 */
import { connect, createServer, type Socket } from 'node:net'

interface End {
  readonly tcp?: number | string
  readonly unix?: string
}
interface Route {
  readonly listen: End
  readonly to: End
  readonly delayMs?: number
  readonly dropRate?: number
}

const routes = JSON.parse(process.argv[2] ?? '[]') as Route[]
/** `held`: delays and cuts start off and come on with SIGUSR2 (e.g. once a realm has formed). */
let impaired = process.argv[3] !== 'held'
process.on('SIGUSR2', () => {
  impaired = true
  process.stdout.write('{"impaired":true}\n')
})

function dial(end: End): Socket {
  if (end.unix !== undefined) return connect(end.unix)
  const [host, port] = String(end.tcp).split(':')
  return connect(Number(port), host)
}

/** Copies `from` to `to`, each piece `delayMs` after it arrived, in order; cuts both at `dropRate`. */
function pipe(from: Socket, to: Socket, route: Route, cut: () => void): void {
  let chain = Promise.resolve()
  from.on('data', (piece: Buffer) => {
    if (impaired && (route.dropRate ?? 0) > 0 && Math.random() < (route.dropRate ?? 0)) return cut()
    const due = Date.now() + (impaired ? (route.delayMs ?? 0) : 0)
    chain = chain
      .then(() => new Promise<void>((r) => setTimeout(r, Math.max(0, due - Date.now()))))
      .then(() => {
        if (!to.destroyed && !to.write(piece)) from.pause()
      })
  })
  to.on('drain', () => from.resume())
  from.on('end', () => void chain.then(() => to.end()))
}

/** A TCP reset where the socket is TCP; unix sockets have none and are just closed. */
function hardClose(socket: Socket): void {
  try {
    socket.resetAndDestroy()
  } catch {
    socket.destroy()
  }
}

const ports: (number | string)[] = []
for (const route of routes) {
  const server = createServer((inbound) => {
    const outbound = dial(route.to)
    let cutDone = false
    const cut = () => {
      if (cutDone) return
      cutDone = true
      process.stdout.write('{"drop":1}\n')
      hardClose(inbound)
      hardClose(outbound)
    }
    const close = () => {
      inbound.destroy()
      outbound.destroy()
    }
    inbound.on('error', close)
    outbound.on('error', close)
    inbound.on('close', () => outbound.destroy())
    outbound.on('close', () => inbound.destroy())
    pipe(inbound, outbound, route, cut)
    pipe(outbound, inbound, route, cut)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    if (route.listen.unix !== undefined) server.listen(route.listen.unix, resolve)
    else server.listen(Number(route.listen.tcp), '127.0.0.1', resolve)
  })
  const address = server.address()
  ports.push(typeof address === 'object' && address !== null ? address.port : String(address))
}
process.stdout.write(`${JSON.stringify({ ready: ports })}\n`)
process.on('SIGTERM', () => process.exit(0))
