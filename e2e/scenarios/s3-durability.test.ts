/**
 * Durability of the node's S3 write path, on real processes:
 * - a 512 MiB object streamed through a node (generated on the fly, never held in memory on either
 *   side) raises the node's peak RSS (`VmHWM`) by far less than its size, on the way in and out;
 * - a node killed (SIGKILL) in the middle of a PUT body comes back on the same data directory without the
 *   object, with empty temp directories, and takes a new upload of the same key;
 * - a multipart upload with parts done before the kill survives it: it is still listed with its parts and
 *   can be completed.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryOf, type NodeProcess, type ProcessMemory, startNode } from '../src/cluster.js'
import {
  checkFraming,
  type Digests,
  describeSdkError,
  deterministicBytes,
  digestOf,
  Hasher,
  isNotFound,
  MiB,
  type PayloadFraming,
  recordPayloadFraming,
  sdkClient,
} from '../src/s3-clients/index.js'

const REGION = 'us-east-1'
const here = dirname(fileURLToPath(import.meta.url))
const REPORT = join(here, '../test-results/s3-durability-report.json')
const report: Record<string, unknown> = {}

async function writeReport(): Promise<void> {
  await mkdir(dirname(REPORT), { recursive: true })
  await writeFile(REPORT, `${JSON.stringify(report, null, 2)}\n`)
}

const started: NodeProcess[] = []
const clients: S3Client[] = []

async function start(name: string, dataDir?: string): Promise<{ node: NodeProcess; s3: S3Client }> {
  const node = await startNode({ name, ...(dataDir ? { dataDir } : {}) })
  started.push(node)
  if (!node.credentials) throw new Error(`${name} printed no development login`)
  const s3 = sdkClient({ s3Url: node.s3Url, credentials: node.credentials, region: REGION })
  clients.push(s3)
  return { node, s3 }
}

afterEach(async () => {
  for (const s3 of clients.splice(0)) s3.destroy()
  // Newest first: a restarted node shares its data directory with the one killed before it.
  for (const node of started.splice(0).reverse()) await node.stop()
  await writeReport()
})

const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10

/** A deterministic body that hashes what the client reads from it. */
function hashedBody(seed: string, size: number, hasher: Hasher): Readable {
  return Readable.from(
    (async function* () {
      for await (const chunk of deterministicBytes(seed, size)) {
        hasher.update(chunk)
        yield chunk
      }
    })(),
  )
}

/**
 * A body announced as `size` bytes of which only the first `pauseAt` are ever produced: then it waits
 * until `release()` and ends. `produced()` says how much the client has read so far.
 */
function stalledBody(seed: string, size: number, pauseAt: number) {
  let produced = 0
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  const stream = Readable.from(
    (async function* () {
      for await (const chunk of deterministicBytes(seed, size)) {
        const room = pauseAt - produced
        if (room <= 0) break
        const piece = chunk.subarray(0, Math.min(room, chunk.length))
        produced += piece.length
        yield piece
      }
      // Released once the node is dead: end quietly, nobody reads on.
      await gate
    })(),
  )
  stream.on('error', () => {})
  return { stream, produced: () => produced, release: () => release() }
}

async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Every file under `dir` (recursively), as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true })
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
}

/** What the node's temp directories hold (`chunks/tmp`, `uploads/tmp`). */
async function tempFiles(dataDir: string): Promise<{ chunks: string[]; uploads: string[] }> {
  return {
    chunks: await readdir(join(dataDir, 'chunks', 'tmp')),
    uploads: await readdir(join(dataDir, 'uploads', 'tmp')),
  }
}

/** Files like the ones a write cut off by a crash leaves in the temp directories. */
async function plantLeftovers(dataDir: string): Promise<void> {
  await writeFile(join(dataDir, 'chunks', 'tmp', 'cut-off-by-crash.tmp'), Buffer.alloc(1024 * 1024, 1))
  await writeFile(join(dataDir, 'uploads', 'tmp', 'cut-off-by-crash.tmp'), '{"partNumber":')
}

async function headOrUndefined(s3: S3Client, bucket: string, key: string) {
  try {
    return await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
  } catch (err) {
    if (isNotFound(err)) return undefined
    throw err
  }
}

async function getDigest(s3: S3Client, bucket: string, key: string): Promise<Digests> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  return digestOf(out.Body as Readable)
}

describe('peak memory while streaming', () => {
  it('streams a 512 MiB object in and out with the node peak RSS growing far less than the object', async () => {
    const SIZE = 512 * MiB
    const BOUND = 256 * MiB
    const bucket = 'e2e-rss'
    const key = 'large/512 MiB streamed &+-é".bin'
    const { node, s3 } = await start('rss')
    const framings: PayloadFraming[] = []
    recordPayloadFraming(s3, framings)
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    // Warm up the write and read paths, so the baseline includes the code they load.
    const warmHasher = new Hasher()
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'warm-up',
        Body: hashedBody('warm-up', 8 * MiB, warmHasher),
        ContentLength: 8 * MiB,
      }),
    )
    await getDigest(s3, bucket, 'warm-up')

    const before = await memoryOf(node.pid)
    const testBefore = process.memoryUsage().rss
    let sampledMax = before.rss
    const sampler = setInterval(() => {
      memoryOf(node.pid).then(
        (m) => {
          sampledMax = Math.max(sampledMax, m.rss)
        },
        () => {},
      )
    }, 100)
    let afterPut: ProcessMemory
    let afterGet: ProcessMemory
    const sent = new Hasher()
    let got: Digests
    const t0 = Date.now()
    let putMs: number
    try {
      // A stream body with a known length: the SDK's default mode sends it aws-chunked with a CRC32 trailer.
      await s3
        .send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: hashedBody('512 MiB', SIZE, sent),
            ContentLength: SIZE,
          }),
        )
        .catch((err: unknown) => {
          throw new Error(`PutObject of 512 MiB failed: ${describeSdkError(err)}`)
        })
      putMs = Date.now() - t0
      // The body went out aws-chunked with a CRC32 trailer: the node decoded it as it streamed.
      checkFraming('WHEN_SUPPORTED', 'stream', framings.at(-1), 'PutObject of 512 MiB')
      afterPut = await memoryOf(node.pid)
      got = await getDigest(s3, bucket, key)
      afterGet = await memoryOf(node.pid)
    } finally {
      clearInterval(sampler)
    }
    const getMs = Date.now() - t0 - putMs
    const expected = sent.digests()
    const testAfter = process.memoryUsage().rss
    report.peakRss = {
      objectMiB: mib(SIZE),
      boundMiB: mib(BOUND),
      nodeRssBeforeMiB: mib(before.rss),
      nodePeakBeforeMiB: mib(before.peakRss),
      nodePeakAfterPutMiB: mib(afterPut.peakRss),
      nodePeakAfterGetMiB: mib(afterGet.peakRss),
      nodePeakGrowthPutMiB: mib(afterPut.peakRss - before.peakRss),
      nodePeakGrowthGetMiB: mib(afterGet.peakRss - afterPut.peakRss),
      nodeRssSampledMaxMiB: mib(sampledMax),
      testRssBeforeMiB: mib(testBefore),
      testRssAfterMiB: mib(testAfter),
      putMs,
      getMs,
      putMiBps: Math.round(SIZE / MiB / (putMs / 1000)),
      getMiBps: Math.round(SIZE / MiB / (getMs / 1000)),
    }
    console.log('peak RSS while streaming 512 MiB:', report.peakRss)

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    expect(head.ContentLength).toBe(SIZE)
    expect(head.ETag).toBe(`"${expected.md5}"`)
    expect({ size: got.size, sha256: got.sha256 }).toEqual({ size: SIZE, sha256: expected.sha256 })
    expect(afterPut.peakRss - before.peakRss, 'node peak RSS growth during the 512 MiB PUT').toBeLessThan(
      BOUND,
    )
    expect(afterGet.peakRss - before.peakRss, 'node peak RSS growth during PUT and GET').toBeLessThan(BOUND)
  }, 300_000)
})

describe('a node killed in the middle of an upload', () => {
  it('comes back without the half-written object, with empty temp directories, and takes the key again', async () => {
    const bucket = 'e2e-crash-put'
    const key = 'crash/half written &+-é".bin'
    const first = await start('crash-put')
    await first.s3.send(new CreateBucketCommand({ Bucket: bucket }))
    const chunkDir = join(first.node.dataDir, 'chunks', 'chunks')
    const chunksBefore = (await filesUnder(chunkDir)).length

    // 256 MiB announced, 40 MiB sent, then the body stalls: the node holds a PUT in the middle of its body.
    const body = stalledBody('crash put', 256 * MiB, 40 * MiB)
    const abort = new AbortController()
    const upload = first.s3
      .send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body.stream, ContentLength: 256 * MiB }), {
        abortSignal: abort.signal,
      })
      .then(
        () => 'completed',
        (err: unknown) => describeSdkError(err),
      )
    await until('40 MiB read from the body', () => body.produced() >= 40 * MiB)
    // Several 4 MiB chunks of this body are on disk: the node is mid-body, not before or after it.
    await until(
      'chunks of the stalled body on disk',
      async () => (await filesUnder(chunkDir)).length >= chunksBefore + 5,
    )
    const tempAtKill = await tempFiles(first.node.dataDir)
    const killed = await first.node.kill('SIGKILL')
    expect(killed.signal).toBe('SIGKILL')
    abort.abort()
    body.release()
    const clientSaw = await upload
    expect(clientSaw).not.toBe('completed')

    // Whatever the kill left in the temp directories, leave more there (a temp file cut off mid-write):
    // a restart must clear them.
    await plantLeftovers(first.node.dataDir)
    const second = await start('crash-put-restarted', first.node.dataDir)
    const tempAfter = await tempFiles(second.node.dataDir)
    report.crashDuringPut = {
      chunksOnDiskAtKill: (await filesUnder(chunkDir)).length - chunksBefore,
      tempFilesAtKill: tempAtKill,
      tempFilesAfterRestart: tempAfter,
      clientError: clientSaw,
    }
    console.log('crash during PUT:', report.crashDuringPut)

    expect(await headOrUndefined(second.s3, bucket, key), 'HeadObject after the restart').toBeUndefined()
    const listed = await second.s3.send(new ListObjectsV2Command({ Bucket: bucket }))
    expect((listed.Contents ?? []).map((o) => o.Key)).not.toContain(key)
    expect(tempAfter).toEqual({ chunks: [], uploads: [] })

    // The key takes a new upload, which reads back intact.
    const sent = new Hasher()
    await second.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: hashedBody('after the crash', 24 * MiB, sent),
        ContentLength: 24 * MiB,
      }),
    )
    const expected = sent.digests()
    expect(await getDigest(second.s3, bucket, key)).toEqual(expected)
    expect(
      (await second.s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((o) => o.Key),
    ).toEqual([key])
  }, 180_000)

  it('keeps a multipart upload and its finished parts, which can then be completed', async () => {
    const bucket = 'e2e-crash-multipart'
    const key = 'crash/multipart &+-é" 日本.bin'
    const PART = 5 * MiB
    const first = await start('crash-mpu')
    await first.s3.send(new CreateBucketCommand({ Bucket: bucket }))
    const { UploadId } = await first.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))
    if (!UploadId) throw new Error('CreateMultipartUpload returned no UploadId')

    // Parts 1 and 2 finish before the kill; part 3 is killed mid-body.
    const partSeed = (n: number) => `multipart part ${n}`
    const done: { PartNumber: number; ETag: string; digests: Digests }[] = []
    for (const PartNumber of [1, 2]) {
      const hasher = new Hasher()
      const out = await first.s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          PartNumber,
          Body: hashedBody(partSeed(PartNumber), PART, hasher),
          ContentLength: PART,
        }),
      )
      done.push({ PartNumber, ETag: out.ETag ?? '', digests: hasher.digests() })
    }
    const chunkDir = join(first.node.dataDir, 'chunks', 'chunks')
    const chunksBefore = (await filesUnder(chunkDir)).length
    const stalled = stalledBody(partSeed(3), 64 * MiB, 12 * MiB)
    const abort = new AbortController()
    const part3 = first.s3
      .send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          PartNumber: 3,
          Body: stalled.stream,
          ContentLength: 64 * MiB,
        }),
        { abortSignal: abort.signal },
      )
      .then(
        () => 'completed',
        (err: unknown) => describeSdkError(err),
      )
    await until('12 MiB of part 3 read', () => stalled.produced() >= 12 * MiB)
    await until(
      'chunks of part 3 on disk',
      async () => (await filesUnder(chunkDir)).length >= chunksBefore + 2,
    )
    await first.node.kill('SIGKILL')
    abort.abort()
    stalled.release()
    expect(await part3).not.toBe('completed')

    await plantLeftovers(first.node.dataDir)
    const second = await start('crash-mpu-restarted', first.node.dataDir)
    const tempAfter = await tempFiles(second.node.dataDir)
    const uploads = await second.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))
    const parts = await second.s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }))
    report.crashDuringMultipart = {
      uploadsAfterRestart: (uploads.Uploads ?? []).map((u) => ({ key: u.Key, uploadId: u.UploadId })),
      partsAfterRestart: (parts.Parts ?? []).map((p) => ({ part: p.PartNumber, size: p.Size, etag: p.ETag })),
      tempFilesAfterRestart: tempAfter,
    }
    console.log('crash during multipart:', report.crashDuringMultipart)

    expect((uploads.Uploads ?? []).map((u) => [u.Key, u.UploadId])).toEqual([[key, UploadId]])
    expect((parts.Parts ?? []).map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual(
      done.map((p) => [p.PartNumber, PART, p.ETag]),
    )
    expect(tempAfter).toEqual({ chunks: [], uploads: [] })
    expect(await headOrUndefined(second.s3, bucket, key)).toBeUndefined()

    // Part 3 again, whole this time (the last part may be short), then complete.
    const last = new Hasher()
    const LAST = 3 * MiB
    const out3 = await second.s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: 3,
        Body: hashedBody(partSeed(3), LAST, last),
        ContentLength: LAST,
      }),
    )
    const completed = await second.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: {
          Parts: [
            ...done.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })),
            { PartNumber: 3, ETag: out3.ETag },
          ],
        },
      }),
    )
    expect(completed.ETag).toMatch(/^"[0-9a-f]{32}-3"$/)
    const whole = await digestOf(
      (async function* () {
        for (const n of [1, 2]) yield* deterministicBytes(partSeed(n), PART)
        yield* deterministicBytes(partSeed(3), LAST)
      })(),
    )
    expect(await getDigest(second.s3, bucket, key)).toEqual(whole)
    const after = await second.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))
    expect(after.Uploads ?? []).toEqual([])
  }, 180_000)
})
