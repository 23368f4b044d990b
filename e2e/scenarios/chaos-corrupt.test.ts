/**
 * Chaos: corrupt chunk files on one node's disk. Three real nodes (RF 3, W 2, scrub every minute); 40
 * objects of 96 KiB (each one chunk, a file: larger than data.smallChunkBytes), on all three disks. On node 2, bytes in the middle of 40 chunk files
 * are overwritten while it runs (same size, so only a hash check can tell). Set A (20) is then read through
 * node 2's S3 API: goal 0 corrupt reads served and 0 errors; node 2 must count the corrupt copies found and
 * repaired (`/health` data) and hold good copies again. Set B (20) is never read: the scrub must find and
 * repair it. Counts in the report; logs on a failure: test-results/chaos-corrupt/.
 */
import { randomBytes } from 'node:crypto'
import { open, readFile } from 'node:fs/promises'
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, describe, expect, it } from 'vitest'
import { type NodeProcess, waitUntil } from '../src/cluster.js'
import { errorName } from '../src/load.js'
import {
  chunkPath,
  chunksOnDisk,
  health,
  type Realm,
  rawCid,
  ScenarioRecorder,
  startRealm,
} from '../src/realm.js'
import { sdkClient } from '../src/s3-clients/aws-sdk.js'

const REGION = 'us-east-1'
const BUCKET = 'chaos-corrupt'
const OBJECTS = 40

const rec = new ScenarioRecorder('chaos-corrupt')
let realm: Realm | undefined
const clients: S3Client[] = []

afterAll(async () => {
  for (const c of clients) c.destroy()
  await rec.finish()
  await realm?.stop({ keepDataDirs: rec.failed })
})

/** Overwrites 64 bytes in the middle of a file in place. */
async function corrupt(path: string): Promise<void> {
  const file = await open(path, 'r+')
  try {
    const { size } = await file.stat()
    await file.write(randomBytes(64), 0, 64, Math.max(0, Math.floor(size / 2) - 32))
    await file.sync()
  } finally {
    await file.close()
  }
}

/** Chunk files of `cids` on `node` whose bytes hash to their name. */
async function goodCopies(node: NodeProcess, cids: readonly string[]): Promise<number> {
  let good = 0
  for (const cid of cids) {
    const bytes = await readFile(chunkPath(node.dataDir, cid)).catch(() => undefined)
    if (bytes !== undefined && rawCid(bytes) === cid) good++
  }
  return good
}

describe('chaos: corrupt chunk files on one node', { timeout: 240_000 }, () => {
  it('never serves a corrupt copy, and repairs every one (read-repair and scrub)', async () => {
    await rec.run('chaos: corrupt chunk files on one node (RF 3)', async (f) => {
      const r = await f.timed('three nodes live', () =>
        startRealm({
          name: 'chaos-corrupt',
          nodes: 3,
          recorder: rec,
          config: {
            data: {
              writeQuorum: 2,
              downAfterSeconds: 5,
              repairIntervalSeconds: 1,
              antiEntropySeconds: 2,
              scrubIntervalMinutes: 1,
            },
          },
        }),
      )
      realm = r
      const startedAt = Date.now()
      const [n1, n2] = r.nodes as [NodeProcess, NodeProcess, NodeProcess]
      const s1 = sdkClient({ s3Url: n1.s3Url, credentials: r.admin, region: REGION }, 'WHEN_REQUIRED')
      const s2 = sdkClient({ s3Url: n2.s3Url, credentials: r.admin, region: REGION }, 'WHEN_REQUIRED')
      clients.push(s1, s2)
      await s1.send(new CreateBucketCommand({ Bucket: BUCKET }))
      await waitUntil(
        'the bucket and the key on node 2',
        async () => {
          await s2.send(new HeadBucketCommand({ Bucket: BUCKET }))
          return true
        },
        { timeoutMs: 30_000 },
      )
      const objects = new Map<string, { body: Buffer; cid: string }>()
      for (let i = 0; i < OBJECTS; i++) {
        const body = randomBytes(96 * 1024)
        const key = `obj-${String(i).padStart(2, '0')}.bin`
        await s1.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }))
        objects.set(key, { body, cid: rawCid(body) })
      }
      const cids = [...objects.values()].map((o) => o.cid)
      await waitUntil(
        'every chunk on all three disks',
        async () => {
          for (const n of r.nodes) {
            const onDisk = await chunksOnDisk(n.dataDir)
            if (!cids.every((c) => onDisk.has(c))) return undefined
          }
          return true
        },
        { timeoutMs: 30_000 },
      )
      const before = await health(n2)
      const keys = [...objects.keys()]
      const setA = keys.slice(0, OBJECTS / 2)
      const setB = keys.slice(OBJECTS / 2)
      const cidsOf = (ks: readonly string[]) => ks.map((k) => objects.get(k)?.cid as string)
      for (const cid of cids) await corrupt(chunkPath(n2.dataDir, cid))
      f.counts['chunk files corrupted on node 2'] = cids.length
      expect(await goodCopies(n2, cids)).toBe(0)

      // Set A through node 2: every read must be the original bytes.
      let corruptServed = 0
      let readErrors = 0
      const errors: Record<string, number> = {}
      await f.timed('read set A through node 2', async () => {
        for (const key of setA) {
          try {
            const got = await s2.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
            const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? [])
            if (!bytes.equals(objects.get(key)?.body as Buffer)) corruptServed++
          } catch (err) {
            readErrors++
            errors[errorName(err)] = (errors[errorName(err)] ?? 0) + 1
          }
        }
      })
      f.counts['set A: corrupt reads served'] = corruptServed
      f.counts['set A: read errors'] = readErrors
      if (readErrors > 0) f.notes.push(`read errors: ${JSON.stringify(errors)}`)
      let last = before
      const repairedA = await waitUntil(
        'node 2 holds good copies of set A again',
        async () => {
          const good = await goodCopies(n2, cidsOf(setA))
          return good === setA.length ? good : undefined
        },
        { timeoutMs: 30_000, describe: () => `good copies: ${setA.length} wanted` },
      )
      f.timings['set A repaired on disk (poll)'] = repairedA.ms
      f.counts['set A: good copies on node 2 after'] = repairedA.value
      // The counters may trail the repair by a moment: a bounded wait, then what they say.
      await waitUntil(
        'node 2 /health counts set A found and repaired',
        async () => {
          last = await health(n2)
          const found = (last.data?.corruptFound ?? 0) - (before.data?.corruptFound ?? 0)
          const repaired = (last.data?.corruptRepaired ?? 0) - (before.data?.corruptRepaired ?? 0)
          return found >= setA.length && repaired >= setA.length ? true : undefined
        },
        { timeoutMs: 5_000 },
      ).catch(() => undefined)
      f.counts['node 2 /health corruptFound after set A'] =
        (last.data?.corruptFound ?? 0) - (before.data?.corruptFound ?? 0)
      f.counts['node 2 /health corruptRepaired after set A'] =
        (last.data?.corruptRepaired ?? 0) - (before.data?.corruptRepaired ?? 0)

      // Set B is never read: the scrub (every minute) must find and replace it.
      const repairedB = await waitUntil(
        'the scrub finds and repairs set B on node 2',
        async () => {
          last = await health(n2)
          const good = await goodCopies(n2, cidsOf(setB))
          return good === setB.length ? good : undefined
        },
        { timeoutMs: 150_000, intervalMs: 1000, describe: () => JSON.stringify(last.data) },
      )
      f.timings['set B repaired by the scrub, from node start (poll)'] = Date.now() - startedAt
      f.counts['set B: good copies on node 2 after'] = repairedB.value
      const after = await health(n2)
      f.counts['node 2 /health corruptFound'] =
        (after.data?.corruptFound ?? 0) - (before.data?.corruptFound ?? 0)
      f.counts['node 2 /health corruptRepaired'] =
        (after.data?.corruptRepaired ?? 0) - (before.data?.corruptRepaired ?? 0)
      for (const key of setB) {
        const got = await s2.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
        const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? [])
        if (!bytes.equals(objects.get(key)?.body as Buffer)) corruptServed++
      }
      f.counts['corrupt reads served (sets A and B)'] = corruptServed
      expect(corruptServed, 'corrupt reads served').toBe(0)
      expect(readErrors, 'read errors while copies were corrupt').toBe(0)
      expect(f.counts['node 2 /health corruptFound after set A'], '/health counts read-repairs (found)').toBe(
        setA.length,
      )
      expect(
        f.counts['node 2 /health corruptRepaired after set A'],
        '/health counts read-repairs (repaired)',
      ).toBe(setA.length)
      expect(f.counts['node 2 /health corruptFound']).toBeGreaterThanOrEqual(OBJECTS)
      expect(f.counts['node 2 /health corruptRepaired']).toBeGreaterThanOrEqual(OBJECTS)
    })
  })
})
