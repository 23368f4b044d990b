/**
 * Chaos: kill -9 of every node at once, in the middle of writes, then all restarted on the same data
 * directories. Three real nodes (RF 3, W 2). While 900 small PUTs (AWS SDK, retries off) go through all
 * three S3 endpoints and metadata edits (PATCH /v1/resources, one new property each) go through all three
 * REST APIs, all three processes get SIGKILL at the same moment. After the restart, every acknowledged
 * object is read from every node (byte for byte) and every acknowledged edit is looked for on every node.
 * Goal: 0 missing. The figures at the first read and after a bounded wait for anti-entropy are both
 * recorded. Logs on a failure: test-results/chaos-restart-all/.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import { afterAll, describe, expect, it } from 'vitest'
import type { NodeProcess } from '../src/cluster.js'
import { checkObjects, errorName, putLoad } from '../src/load.js'
import { bucketOnEveryNode, type Realm, ScenarioRecorder, startRealm } from '../src/realm.js'
import { sdkClient } from '../src/s3-clients/aws-sdk.js'

const REGION = 'us-east-1'
const BUCKET = 'chaos-restart'
const OBJECTS = 900
const KILL_AFTER = 350
const CONVERGE_MS = 60_000

const rec = new ScenarioRecorder('chaos-restart-all')
let realm: Realm | undefined
const clients: S3Client[] = []

afterAll(async () => {
  for (const c of clients) c.destroy()
  await rec.finish()
  await realm?.stop({ keepDataDirs: rec.failed })
})

/** Node 1's operator token (the realm's administrator), as the node last wrote it. */
async function operatorToken(node: NodeProcess): Promise<string> {
  return (JSON.parse(await readFile(join(node.dataDir, 'operator.json'), 'utf8')) as { token: string }).token
}

async function rest<T>(node: NodeProcess, method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${node.restUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T }
}

type Crate = { crate: { '@graph': Record<string, unknown>[] } }

describe('chaos: every node killed at once, then restarted', { timeout: 300_000 }, () => {
  it('keeps every acknowledged object and metadata edit', async () => {
    await rec.run('chaos: kill -9 of all three nodes during writes, restart', async (f) => {
      const r = await f.timed('three nodes live', () =>
        startRealm({
          name: 'chaos-all',
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
      const token = await operatorToken(r.nodes[0] as NodeProcess)
      const groups = await rest<{ groups: { id: string; name: string }[] }>(
        r.nodes[0] as NodeProcess,
        'GET',
        '/v1/groups',
        token,
      )
      const group = groups.body.groups[0]?.id
      if (!group) throw new Error(`no group: ${JSON.stringify(groups.body)}`)
      const resources: string[] = []
      for (let i = 0; i < 3; i++) {
        const made = await rest<{ resourceId: string }>(
          r.nodes[i] as NodeProcess,
          'POST',
          '/v1/resources',
          token,
          {
            name: `restart-all ${i}`,
            group,
          },
        )
        expect(made.status, JSON.stringify(made.body)).toBe(201)
        resources.push(made.body.resourceId)
      }

      // Writes and edits until every node is killed at once.
      let killed = false
      let kill: Promise<unknown> | undefined
      const killAll = () => {
        killed = true
        kill = Promise.all(r.nodes.map((n) => n.kill('SIGKILL')))
      }
      const edits: { resource: string; property: string; value: string }[] = []
      const editErrors: Record<string, number> = {}
      let editSeq = 0
      const editor = async (worker: number) => {
        while (!killed) {
          const n = editSeq++
          const resource = resources[n % resources.length] as string
          const property = `e2eEdit${n}`
          const value = `value ${n} via node ${(worker % 3) + 1}`
          try {
            const res = await rest(
              r.nodes[worker % 3] as NodeProcess,
              'PATCH',
              `/v1/resources/${resource}`,
              token,
              {
                edits: [{ op: 'set', entity: './', property, value }],
              },
            )
            if (res.status === 200) edits.push({ resource, property, value })
            else editErrors[`HTTP ${res.status}`] = (editErrors[`HTTP ${res.status}`] ?? 0) + 1
          } catch (err) {
            editErrors[errorName(err)] = (editErrors[errorName(err)] ?? 0) + 1
          }
        }
      }
      const editing = Promise.all([0, 1, 2].map(editor))
      const load = await f.timed('PUT load until the kill', () =>
        putLoad({
          bucket: BUCKET,
          clients: s3,
          count: OBJECTS,
          concurrency: 9,
          prefix: 'all',
          onProgress: (done) => {
            if (done >= KILL_AFTER && !killed) killAll()
          },
        }),
      )
      await editing
      await kill
      f.counts['PUTs attempted'] = load.attempted
      f.counts['PUTs acknowledged'] = load.acknowledged.size
      for (const [name, n] of Object.entries(load.errors)) f.counts[`PUT error: ${name}`] = n
      f.counts['edits acknowledged'] = edits.length
      for (const [name, n] of Object.entries(editErrors)) f.counts[`edit error: ${name}`] = n

      await f.timed('all three restarted (at once)', () => Promise.all([0, 1, 2].map((i) => r.restart(i))))
      f.timings['all three live again (poll)'] = await r.waitLive(3, undefined, 60_000)
      const readers = r.nodes.map((n) => {
        const c = sdkClient({ s3Url: n.s3Url, credentials: r.admin, region: REGION }, 'WHEN_REQUIRED')
        clients.push(c)
        return c
      })
      const token2 = await operatorToken(r.nodes[0] as NodeProcess)

      const missingEdits = async (node: NodeProcess) => {
        const roots = new Map<string, Record<string, unknown>>()
        for (const id of resources) {
          const got = await rest<Crate>(node, 'GET', `/v1/resources/${id}`, token2)
          roots.set(
            id,
            got.status === 200 ? (got.body.crate['@graph'].find((e) => e['@id'] === './') ?? {}) : {},
          )
        }
        return edits.filter((e) => roots.get(e.resource)?.[e.property] !== e.value).length
      }

      let lostFinal = 0
      for (const [i, c] of readers.entries()) {
        const node = r.nodes[i] as NodeProcess
        const first = await checkObjects(c, BUCKET, load.acknowledged)
        f.counts[`node ${i + 1}: objects missing at first read`] = first.missing.length
        f.counts[`node ${i + 1}: objects wrong`] = first.wrong.length
        f.counts[`node ${i + 1}: edits missing at first read`] = await missingEdits(node)
        // Anti-entropy may still be bringing this node's index up to date: wait (bounded) for the rest.
        let missing = first.missing
        let editsMissing = f.counts[`node ${i + 1}: edits missing at first read`] ?? 0
        const t0 = Date.now()
        while ((missing.length > 0 || editsMissing > 0) && Date.now() - t0 < CONVERGE_MS) {
          await new Promise((res) => setTimeout(res, 1000))
          missing = (
            await checkObjects(
              c,
              BUCKET,
              new Map(missing.map((k) => [k, load.acknowledged.get(k) as Buffer])),
            )
          ).missing
          editsMissing = await missingEdits(node)
        }
        f.counts[`node ${i + 1}: objects missing after ${CONVERGE_MS / 1000} s`] = missing.length
        f.counts[`node ${i + 1}: edits missing after ${CONVERGE_MS / 1000} s`] = editsMissing
        if (missing.length > 0)
          f.notes.push(`node ${i + 1} never returned e.g. ${missing.slice(0, 3).join(', ')}`)
        lostFinal += missing.length + first.wrong.length + editsMissing
      }
      expect(load.acknowledged.size, 'PUTs acknowledged before the kill').toBeGreaterThan(KILL_AFTER / 2)
      expect(edits.length, 'edits acknowledged before the kill').toBeGreaterThan(0)
      expect(lostFinal, 'acknowledged objects and edits missing after the restart').toBe(0)
    })
  })
})
