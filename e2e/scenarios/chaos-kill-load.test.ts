/**
 * Chaos: SIGKILL of a node during a PUT load. Three real nodes (RF 3, W 2); 1000 small objects PUT with
 * the AWS SDK (retries off) through all three S3 endpoints, 12 at a time; node 3 is killed once 350 have
 * finished. Every acknowledged object is then read from both surviving nodes and compared byte for byte
 * (goal: 0 lost, 0 wrong), and again from node 3 after it restarts on its data directory. Counts go to the
 * report (e2e/report/latest.*); logs on a failure: test-results/chaos-kill-load/.
 */
import type { S3Client } from '@aws-sdk/client-s3'
import { afterAll, describe, expect, it } from 'vitest'
import { checkObjects, putLoad } from '../src/load.js'
import { bucketOnEveryNode, type Realm, ScenarioRecorder, startRealm } from '../src/realm.js'
import { sdkClient } from '../src/s3-clients/aws-sdk.js'

const REGION = 'us-east-1'
const OBJECTS = 1000
const KILL_AFTER = 350
const BUCKET = 'chaos-load'

const rec = new ScenarioRecorder('chaos-kill-load')
let realm: Realm | undefined
const clients: S3Client[] = []

afterAll(async () => {
  for (const c of clients) c.destroy()
  await rec.finish()
  await realm?.stop({ keepDataDirs: rec.failed })
})

describe('chaos: a node killed during a PUT load', { timeout: 240_000 }, () => {
  it('loses no acknowledged object (read from every surviving node, then from the restarted one)', async () => {
    await rec.run('chaos: SIGKILL during 1000 PUTs (RF 3, W 2)', async (f) => {
      const r = await f.timed('three nodes live', () =>
        startRealm({
          name: 'chaos-kill',
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

      const victim = r.nodes[2]
      if (!victim) throw new Error('no node 3')
      let killedAt = -1
      let kill: Promise<unknown> | undefined
      const load = await f.timed('PUT load', () =>
        putLoad({
          bucket: BUCKET,
          clients: s3,
          count: OBJECTS,
          concurrency: 12,
          prefix: 'load',
          onProgress: (done) => {
            if (done >= KILL_AFTER && kill === undefined) {
              killedAt = done
              kill = victim.kill('SIGKILL')
            }
          },
        }),
      )
      await kill
      f.counts.attempted = load.attempted
      f.counts.acknowledged = load.acknowledged.size
      f.counts['refused or failed'] = load.attempted - load.acknowledged.size
      f.counts['finished PUTs when node 3 was killed'] = killedAt
      for (const [name, n] of Object.entries(load.errors)) f.counts[`error: ${name}`] = n
      f.notes.push(`PUTs round-robin over the three S3 endpoints, 12 in flight, AWS SDK maxAttempts 1`)

      let lost = 0
      for (const i of [0, 1]) {
        const check = await f.timed(`read every acknowledged object from node ${i + 1}`, () =>
          checkObjects(s3[i] as S3Client, BUCKET, load.acknowledged),
        )
        f.counts[`acknowledged lost on node ${i + 1}`] = check.missing.length
        f.counts[`acknowledged wrong on node ${i + 1}`] = check.wrong.length
        lost += check.missing.length + check.wrong.length
        if (check.missing.length > 0)
          f.notes.push(
            `node ${i + 1} could not return e.g. ${check.missing.slice(0, 3).join(', ')}: ${JSON.stringify(check.errors)}`,
          )
      }

      const back = await f.timed('node 3 restarted', () => r.restart(2))
      const c3 = sdkClient({ s3Url: back.s3Url, credentials: r.admin, region: REGION }, 'WHEN_REQUIRED')
      clients.push(c3)
      await f.timed('all three live again', () => r.waitLive(3))
      const after = await f.timed('read every acknowledged object from the restarted node 3', () =>
        checkObjects(c3, BUCKET, load.acknowledged),
      )
      f.counts['acknowledged lost on restarted node 3'] = after.missing.length
      f.counts['acknowledged wrong on restarted node 3'] = after.wrong.length
      if (after.missing.length > 0)
        f.notes.push(
          `restarted node 3 could not return e.g. ${after.missing.slice(0, 3).join(', ')}: ${JSON.stringify(after.errors)}`,
        )

      // How long the restarted node takes to return what it answered 404 for (anti-entropy every 2 s).
      let still = after.missing
      if (still.length > 0) {
        const t0 = Date.now()
        while (still.length > 0 && Date.now() - t0 < 60_000) {
          const subset = new Map(still.map((k) => [k, load.acknowledged.get(k) as Buffer]))
          still = (await checkObjects(c3, BUCKET, subset)).missing
          if (still.length > 0) await new Promise((r) => setTimeout(r, 1000))
        }
        f.counts['acknowledged still missing on node 3 60 s after its restart'] = still.length
        if (still.length === 0) f.timings['node 3 returns every acknowledged object (poll)'] = Date.now() - t0
      }

      expect(load.acknowledged.size, 'most PUTs acknowledged').toBeGreaterThan(OBJECTS / 2)
      expect(lost, 'acknowledged objects lost or wrong on the surviving nodes').toBe(0)
      expect(
        after.missing.length + after.wrong.length,
        'acknowledged objects lost or wrong on node 3 after its restart',
      ).toBe(0)
    })
  })
})
