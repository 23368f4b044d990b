import { once } from 'node:events'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { MemoryAuthorizer } from '@aruna/auth'
import { S3Client } from '@aws-sdk/client-s3'
import {
  createS3App,
  FsBlobStore,
  FsMultipartStore,
  HybridLogicalClock,
  MemoryObjectIndex,
  ObjectEngine,
  type ObjectEngineInit,
  type S3AppInit,
} from '../src/index.js'
import { FakeSigV4Authenticator } from '../src/testing/index.js'

export const REALM = 'realm1'
/** The group (a ULID) that owns the buckets the SDK creates: the app's `defaultGroup`. */
export const GROUP = '01JAAAAAAAAAAAAAAAAAAAAAAA'
export const ACCESS_KEY = 'AKIDALICE'
export const READER_KEY = 'AKIDBOB'

/** The node request goes along as `env.incoming`, as `@hono/node-server` passes it. */
type NodeEnv = { incoming: IncomingMessage; outgoing: ServerResponse }
type FetchApp = { fetch: (request: Request, env: NodeEnv) => Response | Promise<Response> }

/**
 * A tiny node:http adapter for a fetch-style app, as `@hono/node-server` does it: the Node request
 * goes along as `env.incoming` so the app can read the raw request target. `idle()` resolves when no
 * request is being handled, so a test can look at the disk after the server gave up on a request.
 */
export interface Served {
  endpoint: string
  /** Method, target and headers of every request received, in order. */
  requests: Array<{ method: string; url: string; headers: Record<string, string | string[] | undefined> }>
  idle(): Promise<void>
  close(): Promise<void>
}

export async function serve(app: FetchApp): Promise<Served> {
  const requests: Served['requests'] = []
  let inFlight = 0
  let waiters: Array<() => void> = []
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } })
    inFlight++
    void handle(app, req, res).finally(() => {
      inFlight--
      if (inFlight === 0) for (const wake of waiters.splice(0)) wake()
    })
  })
  // Node closes idle keep-alive connections after 5 s; on a loaded machine a test can pause longer than
  // that between two calls, and a client reusing the socket as it closes gets ECONNRESET (the SDK here
  // does not retry). Idle connections stay open for the fixture's life; close() cuts them all.
  server.keepAliveTimeout = 10 * 60_000
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
    close: async () => {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
      waiters = []
    },
  }
}

async function handle(app: FetchApp, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const headers = new Headers()
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!)
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
    const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url}`, {
      method: req.method,
      headers,
      body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : null,
      duplex: 'half',
    } as RequestInit)
    const response = await app.fetch(request, { incoming: req, outgoing: res })
    // The app has answered on the Node response itself, as @hono/node-server lets it.
    if (response.headers.get('x-hono-already-sent') !== null) return
    response.headers.forEach((value, name) => {
      res.setHeader(name, value)
    })
    res.writeHead(response.status)
    if (response.body === null || req.method === 'HEAD') res.end()
    // pipeline ends the response, and gives up (destroying both sides) when the client goes away.
    else await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), res)
  } catch (err) {
    res.destroy(err as Error)
  }
}

export interface S3Fixture {
  dir: string
  blobs: FsBlobStore
  uploads: FsMultipartStore
  index: MemoryObjectIndex
  engine: ObjectEngine
  authorizer: MemoryAuthorizer
  endpoint: string
  requests: Served['requests']
  idle(): Promise<void>
  /** Files left in the blob store's and the multipart store's temp directories. */
  tempFiles(): Promise<string[]>
  close(): Promise<void>
}

/** One node's S3 API on loopback over real files in a temp directory and a memory index. */
export async function startS3(
  options: Partial<ObjectEngineInit> = {},
  app: Pick<S3AppInit, 'onRequest' | 'onInternalError'> = {},
): Promise<S3Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'aruna-s3-'))
  const blobs = await FsBlobStore.open({ directory: join(dir, 'blobs') })
  const uploads = await FsMultipartStore.open({ directory: join(dir, 'uploads') })
  const index = new MemoryObjectIndex()
  const engine = new ObjectEngine({
    index,
    blobs,
    uploads,
    clock: new HybridLogicalClock('node-a'),
    ...options,
  })
  const authorizer = new MemoryAuthorizer()
    .allow('alice', 'WRITE', `/${REALM}/g/${GROUP}/**`)
    .allow('bob', 'READ', `/${REALM}/g/${GROUP}/**`)
  const s3App = createS3App({
    engine,
    authorizer,
    authenticator: new FakeSigV4Authenticator({ users: { [ACCESS_KEY]: 'alice', [READER_KEY]: 'bob' } }),
    realm: REALM,
    defaultGroup: () => GROUP,
    ...app,
  })
  const server = await serve(s3App)
  return {
    dir,
    blobs,
    uploads,
    index,
    engine,
    authorizer,
    endpoint: server.endpoint,
    requests: server.requests,
    idle: server.idle,
    tempFiles: async () => [
      ...(await readdir(join(dir, 'blobs', 'tmp'))),
      ...(await readdir(join(dir, 'uploads', 'tmp'))),
    ],
    close: async () => {
      await server.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export function sdkClient(
  endpoint: string,
  options: { whenRequired?: boolean; accessKeyId?: string } = {},
): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: {
      accessKeyId: options.accessKeyId ?? ACCESS_KEY,
      secretAccessKey: 'not-checked-by-the-test-double',
    },
    ...(options.whenRequired === true
      ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
    maxAttempts: 1,
  })
}

/** A valid-looking SigV4 header set for raw requests (the test double checks shape only). */
export function rawAuthHeaders(accessKey = ACCESS_KEY): Record<string, string> {
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${accessKey}/20250101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    'x-amz-date': '20250101T000000Z',
  }
}
