/** S3 clients for every node of a test cluster, as the realm's operator. */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import { expect } from 'vitest'
import type { Cluster } from '../src/testing/cluster.js'
import { waitFor } from './wait-for.js'

/**
 * Makes an access key for the operator on node 0 and an AWS SDK client per node, by node index; returns
 * once every node knows the key (it travels in the realm document).
 */
export async function operatorClients(cluster: Cluster): Promise<Map<number, S3Client>> {
  const key = await cluster
    .node(0)
    .rest<{ accessKeyId: string; secretAccessKey: string }>('POST', '/v1/keys', {})
  expect(key.status).toBe(201)
  const clients = new Map<number, S3Client>()
  for (const node of cluster.nodes) clients.set(node.index, await node.s3Client(key.body))
  for (const node of cluster.nodes)
    await waitFor(`node ${node.index} knows the access key`, async () => {
      await (clients.get(node.index) as S3Client)
        .send(new ListObjectsV2Command({ Bucket: 'no-such-bucket-here' }))
        .catch((err) => {
          if (err.name !== 'NoSuchBucket') throw err
        })
      return true
    })
  return clients
}
