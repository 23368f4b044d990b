// The S3 bench's client: presigned URLs (SigV4 query auth, UNSIGNED-PAYLOAD) made before the clock starts,
// and requests over node:http with keep-alive agents. Light on purpose, so that the servers are measured.
import { createHash, createHmac } from 'node:crypto'
import { type Agent, request } from 'node:http'

/** Where a request goes: one of the server's S3 entry points, its bucket, and its key if it checks SigV4. */
export interface Target {
  /** The S3 base URLs a client may enter through (one per node). */
  readonly bases: readonly string[]
  readonly bucket: string
  readonly credentials?: { accessKeyId: string; secretAccessKey: string }
}

const encode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
const signingKeys = new Map<string, Buffer>()

/**
 * A presigned URL for `method` on `key` (the bucket itself when empty) through entry point `entry`
 * (taken modulo the number of entry points), with `query` parameters signed along.
 */
export function presign(
  target: Target,
  method: string,
  key: string,
  entry = 0,
  query: Record<string, string> = {},
): string {
  const base = target.bases[entry % target.bases.length] as string
  const url = new URL(key === '' ? `${base}/${target.bucket}` : `${base}/${target.bucket}/${key}`)
  const path = url.pathname
    .split('/')
    .map((segment) => encode(decodeURIComponent(segment)))
    .join('/')
  const credentials = target.credentials
  const extra = Object.entries(query)
  if (credentials === undefined) {
    const plain = extra.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')
    return `${url.origin}${path}${plain === '' ? '' : `?${plain}`}`
  }
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const date = amzDate.slice(0, 8)
  const scope = `${date}/us-east-1/s3/aws4_request`
  const params: [string, string][] = [
    ...extra,
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', '3600'],
    ['X-Amz-SignedHeaders', 'host'],
  ]
  const canonicalQuery = params
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .sort()
    .join('&')
  const canonical = [method, path, canonicalQuery, `host:${url.host}\n`, 'host', 'UNSIGNED-PAYLOAD'].join(
    '\n',
  )
  const toSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n')
  let signing = signingKeys.get(`${credentials.secretAccessKey}/${date}`)
  if (signing === undefined) {
    const kDate = createHmac('sha256', `AWS4${credentials.secretAccessKey}`).update(date).digest()
    const kRegion = createHmac('sha256', kDate).update('us-east-1').digest()
    const kService = createHmac('sha256', kRegion).update('s3').digest()
    signing = createHmac('sha256', kService).update('aws4_request').digest()
    signingKeys.set(`${credentials.secretAccessKey}/${date}`, signing)
  }
  const signature = createHmac('sha256', signing).update(toSign).digest('hex')
  return `${url.origin}${path}?${canonicalQuery}&X-Amz-Signature=${signature}`
}

export interface Sample {
  ms: number
  ttfbMs: number
}

/** One request whose answer is drained unread; rejects on a status of 300 or more. */
export function send(agent: Agent, method: string, url: string, body?: Buffer): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const req = request(
      url,
      { method, agent, headers: body === undefined ? {} : { 'content-length': body.length } },
      (res) => {
        const ttfb = performance.now() - start
        res.on('data', () => {})
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300)
            reject(new Error(`${method} ${url.split('?')[0]}: ${res.statusCode}`))
          else resolve({ ms: performance.now() - start, ttfbMs: ttfb })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

export interface Answer extends Sample {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/**
 * One request whose answer is read whole (as text) and returned whatever its status; rejects only when
 * the exchange fails or takes longer than `timeoutMs`.
 */
export function exchange(
  agent: Agent,
  method: string,
  url: string,
  body?: Buffer,
  timeoutMs = 30_000,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const req = request(
      url,
      { method, agent, headers: body === undefined ? {} : { 'content-length': body.length } },
      (res) => {
        const ttfb = performance.now() - start
        const parts: Buffer[] = []
        res.on('data', (part: Buffer) => parts.push(part))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(parts).toString('utf8'),
            ms: performance.now() - start,
            ttfbMs: ttfb,
          }),
        )
        res.on('error', reject)
      },
    )
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url.split('?')[0]}: timed out`)))
    req.on('error', reject)
    req.end(body)
  })
}
