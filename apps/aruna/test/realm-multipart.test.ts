/**
 * Multipart uploads across the realm on the cluster harness (three nodes, real libp2p): an upload
 * created through one node takes parts through the others, is listed by every node, completes through
 * any of them (straight after the last part, too) into an object every node serves, and an abort
 * through any node ends it everywhere. Every wait is for a condition, bounded.
 */
import { createHash, randomBytes } from 'node:crypto'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cluster, type ClusterNode, createCluster } from '../src/testing/cluster.js'
import { operatorClients } from './cluster-s3.js'
import { waitFor } from './wait-for.js'

const BUCKET = 'multipart-realm'
const MIB = 1024 * 1024

/** S3's ETag of a multipart object: the MD5 of the parts' binary MD5s, dash, the part count. */
function multipartEtag(parts: readonly Uint8Array[]): string {
  const md5s = parts.map((part) => createHash('md5').update(part).digest())
  return `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${parts.length}"`
}

describe('multipart uploads across three nodes', () => {
  let cluster: Cluster
  const clients = new Map<number, S3Client>()

  const client = (node: ClusterNode | number): S3Client => {
    const index = typeof node === 'number' ? node : node.index
    const found = clients.get(index)
    if (found === undefined) throw new Error(`no client for node ${index}`)
    return found
  }
  const uploadsListed = async (node: ClusterNode, key: string): Promise<string[]> => {
    const listed = await client(node).send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: key }))
    return (listed.Uploads ?? []).map((upload) => upload.UploadId ?? '')
  }
  const errorName = (promise: Promise<unknown>): Promise<string | undefined> =>
    promise.then(
      () => undefined,
      (err: { name?: string }) => err.name,
    )

  beforeAll(async () => {
    cluster = await createCluster({
      nodes: 3,
      config: { 'data.antiEntropySeconds': 2, 'gc.intervalMinutes': 0 },
    })
    for (const [index, s3] of await operatorClients(cluster)) clients.set(index, s3)
    await client(0).send(new CreateBucketCommand({ Bucket: BUCKET }))
    for (const node of cluster.nodes)
      await waitFor(`node ${node.index} knows the bucket`, async () => {
        await client(node).send(new HeadBucketCommand({ Bucket: BUCKET }))
        return true
      })
  }, 240_000)

  afterAll(async () => {
    for (const s3 of clients.values()) s3.destroy()
    await cluster?.stop()
  })

  it('takes parts through every node, lists them on every node and completes through another', async () => {
    const key = 'runs/assembled.bin'
    const created = await client(0).send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ContentType: 'application/x-run' }),
    )
    const uploadId = created.UploadId as string
    // Parts alternately through nodes 1 and 2, straight after the create on node 0.
    const bodies = [randomBytes(5 * MIB), randomBytes(5 * MIB), randomBytes(1000)]
    const etags: string[] = []
    for (const [i, body] of bodies.entries()) {
      const answer = await client(i % 2 === 0 ? 1 : 2).send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          PartNumber: i + 1,
          Body: body,
        }),
      )
      etags.push(answer.ETag as string)
    }

    for (const node of cluster.nodes) {
      await waitFor(`node ${node.index} lists the three parts`, async () => {
        const parts = await client(node).send(
          new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }),
        )
        return (
          JSON.stringify((parts.Parts ?? []).map((part) => [part.PartNumber, part.ETag, part.Size])) ===
          JSON.stringify(bodies.map((body, i) => [i + 1, etags[i], body.length]))
        )
      })
      expect(await uploadsListed(node, key)).toEqual([uploadId])
    }

    const completed = await client(1).send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    )
    const etag = multipartEtag(bodies)
    expect(completed.ETag).toBe(etag)

    const whole = Buffer.concat(bodies)
    for (const node of cluster.nodes) {
      await waitFor(`node ${node.index} serves the object`, async () => {
        const object = await client(node).send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
        const bytes = await object.Body?.transformToByteArray()
        expect(object.ETag).toBe(etag)
        expect(object.ContentType).toBe('application/x-run')
        return bytes !== undefined && Buffer.from(bytes).equals(whole)
      })
      // The completed upload is gone everywhere and does not come back through anti-entropy.
      await waitFor(
        `node ${node.index} no longer has the upload`,
        async () => (await uploadsListed(node, key)).length === 0,
      )
      expect(
        await errorName(
          client(node).send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })),
        ),
      ).toBe('NoSuchUpload')
    }
  }, 120_000)

  it('completes straight after the last part, through a node that took none of them', async () => {
    const key = 'runs/at-once.bin'
    const created = await client(1).send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }))
    const uploadId = created.UploadId as string
    const bodies = [randomBytes(5 * MIB), randomBytes(2000)]
    const etags = await Promise.all(
      bodies.map(async (body, i) => {
        const answer = await client(i === 0 ? 1 : 2).send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: key,
            UploadId: uploadId,
            PartNumber: i + 1,
            Body: body,
          }),
        )
        return answer.ETag as string
      }),
    )
    const completed = await client(0).send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    )
    expect(completed.ETag).toBe(multipartEtag(bodies))
    const object = await client(0).send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
    const bytes = await object.Body?.transformToByteArray()
    expect(Buffer.from(bytes ?? []).equals(Buffer.concat(bodies))).toBe(true)
  }, 60_000)

  it('ends an upload everywhere when it is aborted through another node', async () => {
    const key = 'runs/abandoned.bin'
    const created = await client(2).send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }))
    const uploadId = created.UploadId as string
    await client(0).send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        PartNumber: 1,
        Body: randomBytes(1000),
      }),
    )
    for (const node of cluster.nodes)
      await waitFor(`node ${node.index} lists the upload`, async () =>
        (await uploadsListed(node, key)).includes(uploadId),
      )

    await client(1).send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }))
    for (const node of cluster.nodes) {
      await waitFor(
        `node ${node.index} no longer lists the upload`,
        async () => (await uploadsListed(node, key)).length === 0,
      )
      expect(
        await errorName(
          client(node).send(
            new UploadPartCommand({
              Bucket: BUCKET,
              Key: key,
              UploadId: uploadId,
              PartNumber: 2,
              Body: randomBytes(10),
            }),
          ),
        ),
      ).toBe('NoSuchUpload')
    }
    // Anti-entropy rounds (every 2 s) pass without bringing it back.
    await new Promise((resolve) => setTimeout(resolve, 2500))
    for (const node of cluster.nodes) expect(await uploadsListed(node, key)).toEqual([])
  }, 60_000)
})
