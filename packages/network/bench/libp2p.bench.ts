// Loopback throughput and request latency of the libp2p node, over TCP and over QUIC, against a raw
// `node:net` socket pair measured in the same run. Both ends live in this one process, as in the
// tests, so the figures compare the stacks, not the machine. Run with `pnpm bench` after `pnpm build`.
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { Libp2pNetwork, NetworkStream, TransportName } from '../dist/index.js'
import { bytesCodec, defineProtocol } from '../dist/index.js'
import { createLibp2pCluster } from '../dist/testing/libp2p-cluster.js'

const MIB = 1024 * 1024
const STREAM_BYTES = 128 * MIB
const CHUNK = 256 * 1024
const RUNS = 3
const REQUESTS = 2_000
const WARMUP = 200
const PAYLOAD = 64

const SINK = '/aruna/bench-sink/1.0.0'
const PING = defineProtocol({ id: '/aruna/bench-ping/1.0.0', request: bytesCodec, response: bytesCodec })

const chunk = createHash('sha256').update('aruna').digest()
const body = new Uint8Array(CHUNK)
for (let i = 0; i < CHUNK; i++) body[i] = chunk[i % chunk.byteLength] ?? 0

/** The runner passes `--expose-gc`: start each measurement on a collected heap. */
function collectGarbage(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

function mibPerSecond(bytes: number, ms: number): number {
  return bytes / MIB / (ms / 1000)
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

// ---------------------------------------------------------------- raw node:net baseline

async function listen(onSocket: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onSocket)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { server, port: address.port }
}

async function rawThroughput(): Promise<number> {
  const { server, port } = await listen((socket) => {
    let received = 0
    socket.on('data', (data: Buffer) => {
      received += data.byteLength
      if (received === STREAM_BYTES) socket.end('done')
    })
  })
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const started = performance.now()
  const done = once(socket, 'end')
  socket.resume()
  for (let sent = 0; sent < STREAM_BYTES; sent += CHUNK) {
    if (!socket.write(body)) await once(socket, 'drain')
  }
  await done
  const elapsed = performance.now() - started
  socket.destroy()
  server.close()
  return mibPerSecond(STREAM_BYTES, elapsed)
}

async function rawLatency(): Promise<number[]> {
  const { server, port } = await listen((socket) => socket.pipe(socket))
  const socket = connect(port, '127.0.0.1')
  socket.setNoDelay(true)
  await once(socket, 'connect')
  const message = body.subarray(0, PAYLOAD)
  const samples: number[] = []
  let pending: Buffer = Buffer.alloc(0)
  let wake: (() => void) | undefined
  socket.on('data', (data: Buffer) => {
    pending = Buffer.concat([pending, data])
    if (pending.byteLength >= PAYLOAD) wake?.()
  })
  for (let i = 0; i < WARMUP + REQUESTS; i++) {
    const started = performance.now()
    const answered = new Promise<void>((resolve) => {
      wake = resolve
    })
    socket.write(message)
    await answered
    pending = pending.subarray(PAYLOAD)
    if (i >= WARMUP) samples.push(performance.now() - started)
  }
  socket.destroy()
  server.close()
  return samples.sort((x, y) => x - y)
}

// ---------------------------------------------------------------- libp2p node

async function pair(
  transport: TransportName,
): Promise<{ a: Libp2pNetwork; b: Libp2pNetwork; stop: () => Promise<void> }> {
  const cluster = await createLibp2pCluster({
    nodes: 2,
    transports: [transport],
    settings: { livenessTimeoutMs: 10_000, pingIntervalMs: 2_500, discoveryIntervalMs: 30_000 },
  })
  const [a, b] = cluster.nodes
  if (a === undefined || b === undefined) throw new Error('no nodes')
  return { a, b, stop: cluster.stop }
}

async function libp2pThroughput(a: Libp2pNetwork, b: Libp2pNetwork): Promise<number> {
  const stream: NetworkStream = await a.openStream(b.peerId, SINK)
  const started = performance.now()
  for (let sent = 0; sent < STREAM_BYTES; sent += CHUNK) await stream.write(body)
  await stream.closeWrite()
  for await (const _ of stream) {
    // The sink answers once it has read everything.
  }
  return mibPerSecond(STREAM_BYTES, performance.now() - started)
}

async function libp2pLatency(a: Libp2pNetwork, b: Libp2pNetwork): Promise<number[]> {
  const message = body.subarray(0, PAYLOAD)
  const samples: number[] = []
  for (let i = 0; i < WARMUP + REQUESTS; i++) {
    const started = performance.now()
    await a.request(b.peerId, PING, message)
    if (i >= WARMUP) samples.push(performance.now() - started)
  }
  return samples.sort((x, y) => x - y)
}

async function measureLibp2p(transport: TransportName): Promise<{ throughput: number; latency: number[] }> {
  const { a, b, stop } = await pair(transport)
  try {
    b.handle(PING, (request) => request)
    b.handleStream(SINK, async (stream) => {
      let received = 0
      for await (const piece of stream) received += piece.byteLength
      await stream.write(Uint8Array.of(received === STREAM_BYTES ? 1 : 0))
      await stream.closeWrite()
    })
    // Latency first, on a quiet heap; then throughput, which churns through buffers.
    collectGarbage()
    const latency = await libp2pLatency(a, b)
    const throughput: number[] = []
    for (let run = 0; run < RUNS; run++) {
      collectGarbage()
      throughput.push(await libp2pThroughput(a, b))
    }
    return { throughput: Math.max(...throughput), latency }
  } finally {
    await stop()
  }
}

// ---------------------------------------------------------------- report

collectGarbage()
const rawLatencies = await rawLatency()
const rawRuns: number[] = []
for (let run = 0; run < RUNS; run++) {
  collectGarbage()
  rawRuns.push(await rawThroughput())
}
const raw = { throughput: Math.max(...rawRuns), latency: rawLatencies }
const tcp = await measureLibp2p('tcp')
const quic = await measureLibp2p('quic')

const fmt = (value: number, digits = 1): string => value.toFixed(digits)
const ratio = (value: number, base: number): string => `${fmt(value / base, 2)}×`
const rows = [
  ['Stream throughput, MiB/s (best of 3, 128 MiB)', (m: typeof raw) => m.throughput, 1],
  ['Request round trip p50, ms (64 B)', (m: typeof raw) => percentile(m.latency, 50), 3],
  ['Request round trip p99, ms (64 B)', (m: typeof raw) => percentile(m.latency, 99), 3],
] as const

console.log('## libp2p node: loopback throughput and request latency')
console.log('')
console.log(
  `Two nodes in one process on 127.0.0.1. Throughput: one stream, ${STREAM_BYTES / MIB} MiB written in ` +
    `${CHUNK / 1024} KiB chunks, awaiting each write (stream window 1 MiB). Latency: ${REQUESTS} sequential ` +
    `requests of ${PAYLOAD} bytes after ${WARMUP} warm-up ones, each on the peer's call lane (as every request of up to 64 KiB goes). ` +
    'Baseline: a raw `node:net` socket pair in the same run (a plain TCP sink, and a TCP echo with no ' +
    'encryption, multiplexing or framing). Ratios are against the baseline.',
)
console.log('')
console.log('| Measure | node:net baseline | libp2p TCP | vs baseline | libp2p QUIC | vs baseline |')
console.log('| --- | ---: | ---: | ---: | ---: | ---: |')
for (const [name, pick, digits] of rows) {
  const base = pick(raw)
  console.log(
    `| ${name} | ${fmt(base, digits)} | ${fmt(pick(tcp), digits)} | ${ratio(pick(tcp), base)} | ` +
      `${fmt(pick(quic), digits)} | ${ratio(pick(quic), base)} |`,
  )
}
