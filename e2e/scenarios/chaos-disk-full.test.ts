/**
 * Chaos: the data disk fills up. One real node whose data directory is a 64 MiB tmpfs mounted by the test
 * (needs root: without it the scenario is recorded as not possible, and skipped). With an object stored,
 * a filler file takes every free byte (ENOSPC); then a PUT must be refused with a clear S3 error (an S3
 * error document naming the condition, not a dropped connection or an InternalError), the stored object
 * must still read, list and HEAD, and once the filler is removed PUTs must succeed again (a bounded wait).
 * Logs on a failure: test-results/chaos-disk-full/.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, open, rm, rmdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3'
import { afterAll, describe, expect, it } from 'vitest'
import { startNode, waitUntil } from '../src/cluster.js'
import { ScenarioRecorder } from '../src/realm.js'
import { recordScenarios } from '../src/report.js'
import { sdkClient } from '../src/s3-clients/aws-sdk.js'

const run = promisify(execFile)
const REGION = 'us-east-1'
const BUCKET = 'chaos-full'
const NAME = 'chaos: data disk full (64 MiB tmpfs), then space again'
const root = process.getuid?.() === 0

const rec = new ScenarioRecorder('chaos-disk-full')
let mountPoint: string | undefined
let mounted = false
let s3: S3Client | undefined

afterAll(async () => {
  s3?.destroy()
  if (root) await rec.finish()
  else
    await recordScenarios('chaos-disk-full', {
      [NAME]: {
        outcome: 'failed',
        failure: 'not possible here: mounting a small filesystem needs root (skipped)',
        startedAt: new Date().toISOString(),
        durationMs: 0,
        counts: {},
        timings: {},
        notes: [],
      },
    })
  if (mounted && mountPoint)
    await run('umount', [mountPoint]).catch(() => run('umount', ['-l', mountPoint as string]))
  if (mountPoint) await rmdir(mountPoint).catch(() => {})
})

/** Writes `path` until the filesystem refuses (ENOSPC); returns the bytes written. */
async function fill(path: string): Promise<number> {
  const file = await open(path, 'w')
  const block = Buffer.alloc(256 * 1024, 0x5a)
  let written = 0
  try {
    for (;;) {
      try {
        const { bytesWritten } = await file.write(block)
        written += bytesWritten
        if (bytesWritten < block.length) break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break
        throw err
      }
    }
    // The last partial block: byte by byte would be slow; small writes take what is left.
    const small = Buffer.alloc(512, 0x5a)
    for (;;) {
      try {
        written += (await file.write(small)).bytesWritten
      } catch {
        break
      }
    }
  } finally {
    await file.close().catch(() => {})
  }
  return written
}

function s3Error(err: unknown): { name: string; status: number | undefined; message: string } {
  if (err instanceof S3ServiceException)
    return { name: err.name, status: err.$metadata.httpStatusCode, message: err.message }
  return {
    name: `not an S3 error: ${err instanceof Error ? err.message : String(err)}`,
    status: undefined,
    message: '',
  }
}

describe('chaos: the data disk fills up', { timeout: 180_000 }, () => {
  it.skipIf(!root)(
    'refuses writes with a clear S3 error, keeps serving reads, and writes again once space returns',
    async () => {
      await rec.run(NAME, async (f) => {
        mountPoint = await mkdtemp(join(tmpdir(), 'aruna-e2e-full-'))
        await run('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mountPoint])
        mounted = true
        const node = await f.timed('node start on the tmpfs', () =>
          startNode({ name: 'chaos-full', dataDir: join(mountPoint as string, 'node') }),
        )
        rec.processes.push(node)
        if (!node.credentials) throw new Error('no development login')
        s3 = sdkClient({ s3Url: node.s3Url, credentials: node.credentials, region: REGION }, 'WHEN_REQUIRED')
        const client = s3
        await client.send(new CreateBucketCommand({ Bucket: BUCKET }))
        const kept = randomBytes(1024 * 1024)
        await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'kept.bin', Body: kept }))

        const filler = join(mountPoint, 'filler')
        f.counts['filler bytes (every free byte)'] = await f.timed('fill the disk', () => fill(filler))

        // Writes: refused, with an S3 error. Small and larger bodies, a few times each.
        const refusals: Record<string, number> = {}
        let accepted = 0
        for (const size of [4 * 1024, 256 * 1024, 5 * 1024 * 1024]) {
          for (let i = 0; i < 3; i++) {
            try {
              await client.send(
                new PutObjectCommand({
                  Bucket: BUCKET,
                  Key: `full-${size}-${i}.bin`,
                  Body: randomBytes(size),
                }),
              )
              accepted++
            } catch (err) {
              const e = s3Error(err)
              const label = `${e.name} (${e.status ?? 'no status'})`
              refusals[label] = (refusals[label] ?? 0) + 1
              if (!f.notes.some((n) => n.startsWith(label))) f.notes.push(`${label}: ${e.message}`)
            }
          }
        }
        f.counts['PUTs accepted while full'] = accepted
        for (const [label, n] of Object.entries(refusals)) f.counts[`PUT refused: ${label}`] = n

        // Reads go on.
        let readsOk = 0
        const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'kept.bin' }))
        if (Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(kept)) readsOk++
        const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'kept.bin' }))
        if (head.ContentLength === kept.length) readsOk++
        const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }))
        if ((listed.Contents ?? []).some((o) => o.Key === 'kept.bin')) readsOk++
        f.counts['reads while full that succeeded (GET, HEAD, LIST)'] = readsOk

        // Space returns.
        await rm(filler)
        const body = randomBytes(256 * 1024)
        const back = await waitUntil(
          'a PUT succeeds once space returns',
          async () => {
            try {
              await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'after.bin', Body: body }))
              return true
            } catch {
              return undefined
            }
          },
          { timeoutMs: 30_000, intervalMs: 500 },
        )
        f.timings['writes again after the filler is removed (poll)'] = back.ms
        const again = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'after.bin' }))
        expect(Buffer.from((await again.Body?.transformToByteArray()) ?? []).equals(body)).toBe(true)
        const serverFaults = node
          .output()
          .split('\n')
          .filter((l) => l.includes('"level":50')).length
        f.counts['error lines in the node log'] = serverFaults

        expect(accepted, 'PUTs accepted while the disk was full').toBe(0)
        for (const label of Object.keys(refusals)) {
          expect(label, 'an S3 error document, not a dropped connection').not.toMatch(/^not an S3 error/)
          expect(label, 'a code that names the condition, not InternalError').not.toMatch(
            /^(InternalError|Unknown)/,
          )
        }
        expect(readsOk, 'GET, HEAD and LIST while full').toBe(3)
      })
    },
  )
})
