/**
 * Chaos: a node frozen with SIGSTOP for longer than the liveness timeout, then SIGCONT. Three real nodes
 * (RF 3, W 2, grace period 5 s). While node 3 is stopped, PUTs go on through nodes 1 and 2 until both count
 * node 3 down (`/health` data.nodesDown, a bounded wait, not a sleep); then SIGCONT, and once all three are
 * live again: every object (before, during, after) is read from every node including node 3, and new PUTs
 * go through every node. Goal: no error after it returns. Logs on a failure: test-results/chaos-sigstop/.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import { afterAll, describe, expect, it } from 'vitest'
import { type NodeProcess, waitUntil } from '../src/cluster.js'
import { checkObjects, type LoadResult, putLoad } from '../src/load.js'
import { bucketOnEveryNode, health, type Realm, ScenarioRecorder, startRealm } from '../src/realm.js'

const REGION = 'us-east-1'
const BUCKET = 'chaos-stop'

const rec = new ScenarioRecorder('chaos-sigstop')
let realm: Realm | undefined
const clients: S3Client[] = []

afterAll(async () => {
  for (const c of clients) c.destroy()
  // A node still stopped would ignore SIGTERM.
  for (const n of realm?.nodes ?? []) if (n.child.exitCode === null) n.child.kill('SIGCONT')
  await rec.finish()
  await realm?.stop({ keepDataDirs: rec.failed })
})

describe('chaos: SIGSTOP past the liveness timeout, then SIGCONT', { timeout: 240_000 }, () => {
  it('answers every request without error once the node is back', async () => {
    await rec.run('chaos: SIGSTOP then SIGCONT (RF 3, W 2, grace 5 s)', async (f) => {
      const r = await f.timed('three nodes live', () =>
        startRealm({
          name: 'chaos-stop',
          nodes: 3,
          recorder: rec,
          config: {
            data: {
              writeQuorum: 2,
              downAfterSeconds: 5,
              repairIntervalSeconds: 1,
              antiEntropySeconds: 2,
              scrubIntervalMinutes: 0,
            },
          },
        }),
      )
      realm = r
      const s3 = await bucketOnEveryNode(r, BUCKET, REGION)
      clients.push(...s3)
      const [c1, c2, c3] = s3 as [S3Client, S3Client, S3Client]
      const before = await putLoad({
        bucket: BUCKET,
        clients: s3,
        count: 60,
        concurrency: 6,
        prefix: 'before',
      })
      f.counts['PUTs before, acknowledged'] = before.acknowledged.size
      expect(before.errors).toEqual({})

      const victim = r.nodes[2]
      if (!victim) throw new Error('no node 3')
      victim.child.kill('SIGSTOP')
      const stoppedAt = Date.now()
      let down = false
      const during = putLoad({
        bucket: BUCKET,
        clients: [c1, c2],
        count: 100_000,
        concurrency: 4,
        prefix: 'during',
        stop: () => down,
      })
      const seenDown = await waitUntil(
        'nodes 1 and 2 count node 3 down',
        async () => {
          const hs = await Promise.all([health(r.nodes[0] as NodeProcess), health(r.nodes[1] as NodeProcess)])
          return hs.every((h) => h.data?.nodesDown === 1) ? true : undefined
        },
        { timeoutMs: 90_000, intervalMs: 250 },
      )
      down = true
      const duringLoad: LoadResult = await during
      f.timings['stopped until counted down (poll)'] = seenDown.ms
      f.counts['PUTs while stopped, attempted'] = duringLoad.attempted
      f.counts['PUTs while stopped, acknowledged'] = duringLoad.acknowledged.size
      for (const [name, n] of Object.entries(duringLoad.errors)) f.counts[`error while stopped: ${name}`] = n
      victim.child.kill('SIGCONT')
      f.timings['stopped for'] = Date.now() - stoppedAt
      f.timings['all three live again (poll)'] = await r.waitLive(3, undefined, 60_000)

      // After it returns: every object from every node, and new writes through every node.
      const all = new Map([...before.acknowledged, ...duringLoad.acknowledged])
      let errors = 0
      for (const [i, c] of [c1, c2, c3].entries()) {
        const check = await f.timed(`read all ${all.size} objects from node ${i + 1}`, () =>
          checkObjects(c, BUCKET, all),
        )
        f.counts[`node ${i + 1}: objects not returned`] = check.missing.length
        f.counts[`node ${i + 1}: objects returned wrong`] = check.wrong.length
        if (check.missing.length > 0)
          f.notes.push(
            `node ${i + 1} after SIGCONT: ${JSON.stringify(check.errors)} e.g. ${check.missing.slice(0, 3).join(', ')}`,
          )
        errors += check.missing.length + check.wrong.length
      }
      const after = await f.timed('PUTs through every node after SIGCONT', () =>
        putLoad({ bucket: BUCKET, clients: s3, count: 60, concurrency: 6, prefix: 'after' }),
      )
      f.counts['PUTs after, acknowledged'] = after.acknowledged.size
      for (const [name, n] of Object.entries(after.errors)) f.counts[`error after: ${name}`] = n
      errors += after.attempted - after.acknowledged.size
      const readBack = await checkObjects(c3, BUCKET, after.acknowledged)
      f.counts['node 3: new objects not returned'] = readBack.missing.length
      errors += readBack.missing.length + readBack.wrong.length
      f.counts['errors after SIGCONT'] = errors
      expect(duringLoad.acknowledged.size, 'writes went on while node 3 was stopped').toBeGreaterThan(0)
      expect(errors, 'errors after the node returned').toBe(0)
    })
  })
})
