/**
 * Small-object loads for the chaos scenarios: PUTs spread over several S3 endpoints with the AWS SDK
 * (retries off, so an error is the node's answer, not hidden by a retry), remembering exactly which
 * objects were acknowledged, and a reader that checks every acknowledged object byte for byte.
 */
import { createHash, randomBytes } from 'node:crypto'
import { GetObjectCommand, PutObjectCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3'

export interface LoadResult {
  /** Key → bytes of every PUT the node acknowledged (200). */
  readonly acknowledged: Map<string, Buffer>
  /** Error name (S3 code or network error) → how many PUTs got it. */
  readonly errors: Record<string, number>
  readonly attempted: number
  readonly ms: number
}

export function errorName(err: unknown): string {
  if (err instanceof S3ServiceException) return `${err.name} (${err.$metadata.httpStatusCode ?? '?'})`
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code ?? (err.cause as NodeJS.ErrnoException | undefined)?.code
    return code ?? err.name
  }
  return String(err)
}

export interface LoadOptions {
  readonly bucket: string
  /** PUTs go round-robin to these clients (one per entry node). */
  readonly clients: readonly S3Client[]
  readonly count: number
  readonly concurrency: number
  readonly prefix: string
  /** Object sizes are drawn from [min, max] bytes. */
  readonly minSize?: number
  readonly maxSize?: number
  /** Called after each finished PUT with the number finished so far. */
  readonly onProgress?: (done: number) => void
  /** Stops issuing new PUTs once it returns true. */
  readonly stop?: () => boolean
}

export async function putLoad(options: LoadOptions): Promise<LoadResult> {
  const acknowledged = new Map<string, Buffer>()
  const errors: Record<string, number> = {}
  const min = options.minSize ?? 512
  const max = options.maxSize ?? 4096
  let next = 0
  let done = 0
  const t0 = Date.now()
  const worker = async () => {
    for (;;) {
      if (options.stop?.()) return
      const i = next++
      if (i >= options.count) return
      const key = `${options.prefix}/${String(i).padStart(5, '0')}.bin`
      const body = randomBytes(min + Math.floor(Math.random() * (max - min + 1)))
      const client = options.clients[i % options.clients.length] as S3Client
      try {
        await client.send(
          new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: body, ContentLength: body.length }),
        )
        acknowledged.set(key, body)
      } catch (err) {
        const name = errorName(err)
        errors[name] = (errors[name] ?? 0) + 1
      }
      options.onProgress?.(++done)
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  return { acknowledged, errors, attempted: Math.min(next, options.count), ms: Date.now() - t0 }
}

export interface ReadCheck {
  /** Acknowledged objects the node could not return at all (404 or an error). */
  readonly missing: string[]
  /** Acknowledged objects returned with other bytes. */
  readonly wrong: string[]
  readonly errors: Record<string, number>
}

/** Reads every acknowledged object through `client` (`concurrency` at a time) and compares the bytes. */
export async function checkObjects(
  client: S3Client,
  bucket: string,
  objects: ReadonlyMap<string, Buffer>,
  concurrency = 16,
): Promise<ReadCheck> {
  const missing: string[] = []
  const wrong: string[] = []
  const errors: Record<string, number> = {}
  const keys = [...objects.keys()]
  let next = 0
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
  const worker = async () => {
    for (;;) {
      const key = keys[next++]
      if (key === undefined) return
      try {
        const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
        const bytes = (await got.Body?.transformToByteArray()) ?? new Uint8Array()
        if (sha(bytes) !== sha(objects.get(key) as Buffer)) wrong.push(key)
      } catch (err) {
        missing.push(key)
        const name = errorName(err)
        errors[name] = (errors[name] ?? 0) + 1
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { missing, wrong, errors }
}
