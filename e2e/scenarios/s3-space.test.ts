/**
 * Space comes back, on a real node process: beside a group's 64 MiB object that stays, 1 GiB written
 * through the AWS SDK (a versioned bucket keeping every version, an unversioned one overwriting, a
 * multipart upload, an aborted one, server-side copies of a version and of the object that stays),
 * every version then deleted for good (DeleteObjects with version ids), then `aruna gc`: the data
 * directory is back within 5% of its size before the writes, and the object that stayed is whole.
 */
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { afterAll, describe, expect, it } from 'vitest'
import { describeRun, type NodeProcess, runCli, startNode } from '../src/cluster.js'
import { deterministicBytes, deterministicStream, digestOf, MiB, sdkClient } from '../src/s3-clients/index.js'

const REGION = 'us-east-1'
const here = dirname(fileURLToPath(import.meta.url))
const REPORT = join(here, '../test-results/s3-space-report.json')

/** Bytes of every file under `path`. */
async function bytesUnder(path: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      total += (await stat(join(entry.parentPath, entry.name)).catch(() => ({ size: 0 }))).size
  }
  return total
}

let node: NodeProcess | undefined
let s3: S3Client | undefined

afterAll(async () => {
  s3?.destroy()
  await node?.stop()
})

describe('space on one node', () => {
  it('returns within 5% of the data directory before 1 GiB was written, once every version is deleted and collected', async () => {
    node = await startNode({ name: 'space' })
    if (!node.credentials) throw new Error('no development login')
    s3 = sdkClient({ s3Url: node.s3Url, credentials: node.credentials, region: REGION })
    const client = s3
    for (const bucket of ['space-ver', 'space-unv', 'space-keep'])
      await client.send(new CreateBucketCommand({ Bucket: bucket }))
    await client.send(
      new PutBucketVersioningCommand({ Bucket: 'space-ver', VersioningConfiguration: { Status: 'Enabled' } }),
    )
    // The group's data before: one 64 MiB object that stays, and must come back whole at the end.
    await client.send(
      new PutObjectCommand({
        Bucket: 'space-keep',
        Key: 'base.bin',
        Body: deterministicStream('base', 64 * MiB),
        ContentLength: 64 * MiB,
      }),
    )
    const baseDigest = await digestOf(deterministicBytes('base', 64 * MiB))
    const before = await bytesUnder(node.dataDir)

    const put = (bucket: string, key: string, seed: string, size: number) =>
      client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: deterministicStream(seed, size),
          ContentLength: size,
        }),
      )
    let written = 0
    // 512 MiB kept as versions: four keys, two versions each.
    for (let i = 0; i < 8; i++) {
      await put('space-ver', `k${i % 4}`, `ver-${i}`, 64 * MiB)
      written += 64 * MiB
    }
    // 320 MiB to three keys of the unversioned bucket, two overwritten: it keeps one version per key.
    for (let i = 0; i < 5; i++) {
      await put('space-unv', `u${i % 3}`, `unv-${i}`, 64 * MiB)
      written += 64 * MiB
    }
    // 128 MiB in a multipart upload (completed), 64 MiB in one left aborted.
    const upload = await client.send(new CreateMultipartUploadCommand({ Bucket: 'space-ver', Key: 'mp' }))
    const parts = []
    for (let n = 1; n <= 2; n++) {
      const part = await client.send(
        new UploadPartCommand({
          Bucket: 'space-ver',
          Key: 'mp',
          UploadId: upload.UploadId,
          PartNumber: n,
          Body: deterministicStream(`mp-${n}`, 64 * MiB),
          ContentLength: 64 * MiB,
        }),
      )
      parts.push({ PartNumber: n, ETag: part.ETag })
      written += 64 * MiB
    }
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'space-ver',
        Key: 'mp',
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: parts },
      }),
    )
    const aborted = await client.send(new CreateMultipartUploadCommand({ Bucket: 'space-unv', Key: 'gone' }))
    await client.send(
      new UploadPartCommand({
        Bucket: 'space-unv',
        Key: 'gone',
        UploadId: aborted.UploadId,
        PartNumber: 1,
        Body: deterministicStream('aborted', 64 * MiB),
        ContentLength: 64 * MiB,
      }),
    )
    written += 64 * MiB
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: 'space-unv', Key: 'gone', UploadId: aborted.UploadId }),
    )
    // Server-side copies share their sources' chunks: one of a version deleted below, one of the object
    // that stays (deleting the copy must not free the chunks the kept object still uses).
    await client.send(new CopyObjectCommand({ Bucket: 'space-unv', Key: 'copy', CopySource: 'space-ver/k0' }))
    await client.send(
      new CopyObjectCommand({ Bucket: 'space-unv', Key: 'base-copy', CopySource: 'space-keep/base.bin' }),
    )
    const full = await bytesUnder(node.dataDir)
    expect(written).toBe(1024 * MiB)
    // The versioned bucket keeps 640 MiB, the unversioned 192 MiB: at least that is on disk.
    expect(full - before).toBeGreaterThan(832 * MiB)

    // Every version (and delete marker) of both buckets, deleted for good.
    for (const bucket of ['space-ver', 'space-unv']) {
      const listed = await client.send(new ListObjectVersionsCommand({ Bucket: bucket }))
      const objects = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].map((v) => ({
        Key: v.Key,
        VersionId: v.VersionId,
      }))
      expect(listed.IsTruncated).toBe(false)
      const deleted = await client.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }),
      )
      expect(deleted.Errors ?? []).toEqual([])
      const after = await client.send(new ListObjectVersionsCommand({ Bucket: bucket }))
      expect([...(after.Versions ?? []), ...(after.DeleteMarkers ?? [])]).toEqual([])
    }

    const gc = await runCli(['gc', '--data-dir', node.dataDir], { timeoutMs: 120_000 })
    expect(gc.code, describeRun(gc)).toBe(0)
    const after = await bytesUnder(node.dataDir)
    await mkdir(dirname(REPORT), { recursive: true })
    await writeFile(
      REPORT,
      `${JSON.stringify({ beforeBytes: before, fullBytes: full, afterBytes: after, written, gc: gc.stdout.trim() }, null, 2)}\n`,
    )
    expect(after, `before ${before}, full ${full}, after ${after}`).toBeLessThanOrEqual(before * 1.05)
    // The object that stayed is whole.
    const kept = await client.send(new GetObjectCommand({ Bucket: 'space-keep', Key: 'base.bin' }))
    expect(await digestOf(kept.Body as AsyncIterable<Uint8Array>)).toEqual(baseDigest)
  }, 600_000)
})
