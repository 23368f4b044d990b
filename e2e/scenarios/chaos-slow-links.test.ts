/**
 * Chaos: slow and lossy links between nodes, through a TCP relay, with no change to the node. Each of three
 * nodes runs in a network namespace of its own (root only; otherwise recorded as not possible and skipped),
 * so its loopback is private: every node listens on 127.0.0.1:400<i> (TCP only), REST 8080 and S3 9000
 * inside its namespace. In each namespace a relay (`src/relay.ts`) listens on the other nodes' p2p ports
 * and carries every connection over a unix socket to the namespace of the node it is for, holding each
 * piece of data DELAY_MS and cutting the connection with a small chance per piece. The addresses in
 * invites and in the node list are the nodes' own (127.0.0.1:400<i>), which in every other namespace lead
 * into the relay: all node-to-node traffic crosses it. The test reaches REST and S3 through a relay in its
 * own namespace. Then: a realm by invite and join over clean links, the delays and cuts switched on (SIGUSR2
 * to the relays), 200 objects PUT through the three nodes, each read back
 * from every node (goal: 0 lost, 0 wrong), with the relay's cuts counted. Logs: test-results/chaos-slow-links/.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3'
import { afterAll, describe, expect, it } from 'vitest'
import { joinNode, type NodeProcess, startNode, waitUntil } from '../src/cluster.js'
import { checkObjects, putLoad } from '../src/load.js'
import type { Health } from '../src/realm.js'
import { ScenarioRecorder } from '../src/realm.js'
import { recordScenarios } from '../src/report.js'
import { sdkClient } from '../src/s3-clients/aws-sdk.js'

const run = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))
const REGION = 'us-east-1'
const BUCKET = 'chaos-links'
const DELAY_MS = Number(process.env.E2E_LINK_DELAY_MS ?? 15)
const DROP_RATE = Number(process.env.E2E_LINK_DROP_RATE ?? 0.002)
const NAME = `chaos: slow, lossy links (relay: ${DELAY_MS} ms per piece, ${DROP_RATE * 100}% cut per piece)`
const root = process.getuid?.() === 0

const rec = new ScenarioRecorder('chaos-slow-links')
const namespaces = [1, 2, 3].map((i) => `ae2e${process.pid}n${i}`)
const relays: { child: ChildProcess; drops: () => number }[] = []
const clients: S3Client[] = []
let scratch: string | undefined

async function startRelay(prefix: readonly string[], routes: unknown[], held = false) {
  const [cmd, ...args] = [...prefix, process.execPath]
  const relayArgs = [join(here, '../src/relay.ts'), JSON.stringify(routes), ...(held ? ['held'] : [])]
  const child = spawn(cmd as string, [...args, '--no-warnings', ...relayArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let drops = 0
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d
    drops += d.split('\n').filter((l) => l === '{"drop":1}').length
  })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    out += d
  })
  relays.push({ child, drops: () => drops })
  const { value } = await waitUntil(
    'the relay listens',
    async () => {
      if (child.exitCode !== null) throw new Error(`relay exited: ${out}`)
      const line = out.split('\n').find((l) => l.startsWith('{"ready"'))
      return line ? (JSON.parse(line) as { ready: number[] }).ready : undefined
    },
    { timeoutMs: 15_000, intervalMs: 50, describe: () => out },
  )
  return value
}

afterAll(async () => {
  for (const c of clients) c.destroy()
  if (root) await rec.finish()
  else
    await recordScenarios('chaos-slow-links', {
      [NAME]: {
        outcome: 'failed',
        failure: 'not possible here: network namespaces need root (skipped)',
        startedAt: new Date().toISOString(),
        durationMs: 0,
        counts: {},
        timings: {},
        notes: [],
      },
    })
  for (const r of relays) r.child.kill('SIGKILL')
  for (const ns of namespaces) await run('ip', ['netns', 'del', ns]).catch(() => {})
  if (scratch && !rec.failed) await rm(scratch, { recursive: true, force: true })
})

describe('chaos: slow and lossy links between the nodes', { timeout: 300_000 }, () => {
  it.skipIf(!root)(
    'loses no acknowledged object when every node-to-node connection is slow and sometimes cut',
    async () => {
      await rec.run(NAME, async (f) => {
        scratch = await mkdtemp(join(tmpdir(), 'aruna-e2e-links-'))
        const dir = scratch
        const sock = (kind: string, i: number) => join(dir, `${kind}-${i + 1}.sock`)
        for (const ns of namespaces) {
          await run('ip', ['netns', 'add', ns])
          await run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'])
        }
        const inNs = (i: number) => ['ip', 'netns', 'exec', namespaces[i] as string]
        for (let i = 0; i < 3; i++) {
          const routes: unknown[] = [
            { listen: { unix: sock('p2p', i) }, to: { tcp: `127.0.0.1:${4001 + i}` } },
            { listen: { unix: sock('rest', i) }, to: { tcp: '127.0.0.1:8080' } },
            { listen: { unix: sock('s3', i) }, to: { tcp: '127.0.0.1:9000' } },
          ]
          for (let j = 0; j < 3; j++)
            if (j !== i)
              routes.push({
                listen: { tcp: 4001 + j },
                to: { unix: sock('p2p', j) },
                delayMs: DELAY_MS,
                dropRate: DROP_RATE,
              })
          await startRelay(inNs(i), routes, true)
        }
        const hostPorts = await startRelay(
          [],
          [0, 1, 2].flatMap((i) => [
            { listen: { tcp: 0 }, to: { unix: sock('rest', i) } },
            { listen: { tcp: 0 }, to: { unix: sock('s3', i) } },
          ]),
        )
        const restUrl = (i: number) => `http://127.0.0.1:${hostPorts[2 * i]}`
        const s3Url = (i: number) => `http://127.0.0.1:${hostPorts[2 * i + 1]}`

        const config = (i: number) => ({
          ...(i === 0 ? { dev: { login: true } } : {}),
          data: {
            writeQuorum: 2,
            downAfterSeconds: 30,
            repairIntervalSeconds: 2,
            antiEntropySeconds: 2,
            scrubIntervalMinutes: 0,
          },
        })
        const args = async (i: number) => {
          const file = join(dir, `node-${i + 1}.json`)
          await writeFile(file, JSON.stringify(config(i)))
          return [
            '--config',
            file,
            '--listen',
            `/ip4/127.0.0.1/tcp/${4001 + i}`,
            '--port',
            '8080',
            '--s3-port',
            '9000',
          ]
        }
        const nodes: NodeProcess[] = []
        const first = await f.timed('node 1 start (namespace 1)', async () =>
          startNode({ name: 'links-1', dataDir: join(dir, 'node-1'), prefix: inNs(0), args: await args(0) }),
        )
        nodes.push(first)
        rec.processes.push(first)
        const admin = first.credentials
        if (!admin) throw new Error('no development login')
        for (let i = 1; i < 3; i++) {
          const made = await rec.cli(['invite', '--data-dir', first.dataDir, '--json'], { prefix: inNs(0) })
          if (made.code !== 0) throw new Error(made.stderr)
          const { invite } = JSON.parse(made.stdout) as { invite: string }
          expect(invite).toBeTruthy()
          const joined = await f.timed(`node ${i + 1} join through the relay`, async () =>
            joinNode({
              invite,
              name: `links-${i + 1}`,
              dataDir: join(dir, `node-${i + 1}`),
              prefix: inNs(i),
              args: await args(i),
              startTimeoutMs: 60_000,
            }),
          )
          nodes.push(joined)
          rec.processes.push(joined)
        }
        let last: unknown
        const live = await waitUntil(
          'all three nodes live through the relays',
          async () => {
            const hs = await Promise.all(
              [0, 1, 2].map(async (i) => (await (await fetch(`${restUrl(i)}/health`)).json()) as Health),
            )
            last = hs.map((h) => h.data)
            return hs.every((h) => h.data?.nodesLive === 3 && h.peers === 2) ? true : undefined
          },
          { timeoutMs: 60_000, describe: () => JSON.stringify(last) },
        )
        f.timings['all three live (poll)'] = live.ms

        // The realm formed over clean links; from here on every node-to-node connection is slow and lossy.
        for (const r of relays.slice(0, 3)) r.child.kill('SIGUSR2')

        const s3 = [0, 1, 2].map((i) => {
          const c = sdkClient({ s3Url: s3Url(i), credentials: admin, region: REGION }, 'WHEN_REQUIRED')
          clients.push(c)
          return c
        })
        await (s3[0] as S3Client).send(new CreateBucketCommand({ Bucket: BUCKET }))
        await waitUntil(
          'the bucket and the key on every node',
          async () => {
            for (const c of s3) await c.send(new HeadBucketCommand({ Bucket: BUCKET }))
            return true
          },
          { timeoutMs: 60_000 },
        )
        const load = await f.timed('200 PUTs (1-32 KiB) through the three nodes', () =>
          putLoad({
            bucket: BUCKET,
            clients: s3,
            count: 200,
            concurrency: 6,
            prefix: 'links',
            minSize: 1024,
            maxSize: 32 * 1024,
          }),
        )
        f.counts['PUTs acknowledged'] = load.acknowledged.size
        f.counts['PUTs refused or failed'] = load.attempted - load.acknowledged.size
        for (const [name, n] of Object.entries(load.errors)) f.counts[`PUT error: ${name}`] = n
        let lost = 0
        for (const [i, c] of s3.entries()) {
          const check = await f.timed(`read every acknowledged object from node ${i + 1}`, () =>
            checkObjects(c, BUCKET, load.acknowledged, 6),
          )
          f.counts[`node ${i + 1}: acknowledged not returned at the first read`] = check.missing.length
          f.counts[`node ${i + 1}: acknowledged returned wrong`] = check.wrong.length
          if (check.missing.length > 0)
            f.notes.push(`node ${i + 1}, first read: ${JSON.stringify(check.errors)}`)
          // A read cut short is an error the client sees; lost is what a second read cannot return either.
          const again = await checkObjects(
            c,
            BUCKET,
            new Map(check.missing.map((k) => [k, load.acknowledged.get(k) as Buffer])),
            6,
          )
          f.counts[`node ${i + 1}: acknowledged lost (not returned at a second read)`] = again.missing.length
          lost += again.missing.length + check.wrong.length + again.wrong.length
        }
        f.counts['node-to-node connections cut by the relays'] = relays
          .slice(0, 3)
          .reduce((a, r) => a + r.drops(), 0)
        f.notes.push(
          'each node in its own network namespace; node-to-node traffic crosses a relay that delays every piece and cuts connections at random; no node setting changed',
        )
        const relayDeaths = relays.filter(
          (r) => r.child.exitCode !== null || r.child.signalCode !== null,
        ).length
        expect(relayDeaths, 'relays that died (the links themselves must hold)').toBe(0)
        expect(load.acknowledged.size, 'PUTs acknowledged').toBeGreaterThan(0)
        expect(lost, 'acknowledged objects lost or wrong').toBe(0)
      })
    },
  )
})
