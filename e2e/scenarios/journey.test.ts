/**
 * The whole user journey on three real `aruna` processes (issue #17): node 1 `aruna start`, nodes 2 and 3
 * `aruna join` with invites from `aruna invite`; data replication factor 3 (the realm default), write
 * quorum 2, a 5 s grace period and a repair sweep every second (configuration files).
 *
 * Logins: the administrator with `aruna login` at node 1's development issuer (the node's built-in
 * `oidc-provider`, which needs no browser); alice and bob with `aruna login --issuer` at a second, real
 * `oidc-provider` process with test users (`src/test-idp-server.ts`), the test playing their browser for
 * the device flow. Then: a group and a bucket, alice's data through the AWS SDK on exactly 3 holders (chunk
 * files on every node's disk, `/health`), one resource edited concurrently through two nodes (both edits
 * everywhere; one property edited on both settles on one value everywhere), search as alice and bob with
 * different rights on every node, bob's role revoked (refused on every node: search, metadata, S3), and a
 * holder killed with SIGKILL: reads go on through the others, byte-identical, and writes still reach the
 * quorum. Every wait is a bounded poll for a condition. Logs on a failure: test-results/journey/.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { GetObjectCommand, PutObjectCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3'
import { afterAll, describe, expect, it } from 'vitest'
import { type CliRun, describeRun, type NodeProcess, type S3Credentials, waitUntil } from '../src/cluster.js'
import { chunksOnDisk, health, type Realm, rawCid, ScenarioRecorder, startRealm } from '../src/realm.js'
import { describeSdkError, sdkClient } from '../src/s3-clients/aws-sdk.js'
import { startTestIdp, type TestIdp } from '../src/test-idp.js'

const REGION = 'us-east-1'
const SETTLE_MS = 30_000
const CHUNK = 4 * 1024 * 1024

const rec = new ScenarioRecorder('journey')
let realm: Realm | undefined
let idp: TestIdp | undefined
const clients: S3Client[] = []

interface User {
  name: string
  id: string
  token: string
  key?: S3Credentials
}
const users: Record<string, User> = {}
let realmId = ''
let group = ''
let bucket = ''
const objects = new Map<string, Buffer>()
let openResource = ''
let secretResource = ''
let bobRole = ''

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === '') throw new Error(`an earlier step failed: no ${what}`)
  return value
}
const node = (i: number): NodeProcess => need(realm?.nodes[i], `node ${i + 1}`)
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** The CLI as `user` (its realm token), never as a node's operator. */
async function cliAs(user: User | undefined, args: readonly string[]): Promise<CliRun> {
  return rec.cli(args, {
    env: {
      ARUNA_DATA_DIR: join(need(realm, 'realm').root, 'no-operator'),
      ...(user ? { ARUNA_TOKEN: user.token } : {}),
    },
  })
}
async function cliJsonAs<T>(user: User, args: readonly string[]): Promise<T> {
  const run = await cliAs(user, [...args, '--json'])
  if (run.code !== 0) throw new Error(describeRun(run))
  return JSON.parse(run.stdout) as T
}

async function rest<T>(n: NodeProcess, method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${n.restUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T }
}

/** `aruna login` at `issuer` through node 1; `browser` completes the sign-in when the CLI prints its URL. */
async function login(name: string, issuer: string, browser?: (url: string) => Promise<void>): Promise<User> {
  const n1 = node(0)
  const credentials = join(need(realm, 'realm').root, `${name}-credentials.json`)
  let printed = ''
  let signIn: Promise<void> | undefined
  const run = await rec.cli(['login', '--url', n1.restUrl, '--issuer', issuer], {
    env: { ARUNA_CREDENTIALS: credentials, ARUNA_DATA_DIR: join(need(realm, 'realm').root, 'no-operator') },
    timeoutMs: 60_000,
    onStdout: (chunk) => {
      printed += chunk
      const url = /\(or open (\S+)\)/.exec(printed)?.[1]
      if (url && browser && !signIn) signIn = browser(url)
    },
  })
  await signIn
  expect(run.code, describeRun(run)).toBe(0)
  expect(run.stdout).toMatch(/^Logged in to /m)
  const file = JSON.parse(await readFile(credentials, 'utf8')) as {
    nodes: Record<string, { token: string; userId: string }>
  }
  const saved = Object.values(file.nodes)[0]
  return { name, id: need(saved?.userId, `${name}'s user id`), token: need(saved?.token, `${name}'s token`) }
}

function s3For(n: NodeProcess, key: S3Credentials): S3Client {
  const client = sdkClient({ s3Url: n.s3Url, credentials: key, region: REGION }, 'WHEN_REQUIRED')
  clients.push(client)
  return client
}

async function getBytes(client: S3Client, key: string): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  return Buffer.from(await need(got.Body, 'body').transformToByteArray())
}

/** The chunk ids of an object written in 4 MiB chunks. */
function chunkIds(bytes: Buffer): string[] {
  const ids: string[] = []
  for (let at = 0; at < bytes.length; at += CHUNK) ids.push(rawCid(bytes.subarray(at, at + CHUNK)))
  return ids
}

interface SearchAnswer {
  hits: { resourceId: string }[]
  partial: boolean
  missing: string[]
}
async function searchIds(n: NodeProcess, user: User, q: string): Promise<string[] | undefined> {
  const answer = await rest<SearchAnswer>(n, 'GET', `/v1/search?q=${encodeURIComponent(q)}`, user.token)
  if (answer.status !== 200) throw new Error(`search on ${n.name} answered ${answer.status}`)
  if (answer.body.partial) return undefined
  return answer.body.hits.map((h) => h.resourceId).sort()
}

afterAll(async () => {
  for (const c of clients) c.destroy()
  await rec.finish()
  await realm?.stop({ keepDataDirs: rec.failed })
  await idp?.stop()
})

describe('the user journey on three nodes (RF 3, W 2)', { timeout: 120_000 }, () => {
  it('starts a test OIDC provider and a realm of three nodes joined by invites', async () => {
    await rec.run('journey 1: realm of three nodes', async (f) => {
      idp = await f.timed('test OIDC provider: start', () => startTestIdp(['alice', 'bob']))
      const provider = idp
      realm = await f.timed('three nodes: start, invite, join, all live', () =>
        startRealm({
          name: 'journey',
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
            oidc: {
              issuers: [
                { issuer: provider.issuer, audiences: [provider.clientId], clientId: provider.clientId },
              ],
            },
          },
        }),
      )
      for (let i = 0; i < 3; i++) {
        const h = await health(node(i))
        expect(h.data, `node ${i + 1} /health data`).toMatchObject({ replicationFactor: 3, nodesLive: 3 })
        realmId ||= h.realmId
        expect(h.realmId).toBe(realmId)
      }
      f.notes.push(
        'RF 3 is the realm default (orga); W 2, downAfterSeconds 5, repairIntervalSeconds 1 from config files',
      )
    })
  })

  it('logs in the administrator (development issuer) and alice and bob (test provider, device flow)', async () => {
    await rec.run('journey 2: logins', async (f) => {
      const dev = /"issuer":"([^"]+)","msg":"development login/.exec(node(0).output())?.[1]
      users.admin = await f.timed('aruna login (development issuer)', () =>
        login('admin', need(dev, 'development issuer')),
      )
      const provider = need(idp, 'test provider')
      for (const name of ['alice', 'bob'])
        users[name] = await f.timed(`aruna login ${name} (test provider)`, () =>
          login(name, provider.issuer, (url) => provider.signIn(url, name)),
        )
      expect(new Set([users.admin?.id, users.alice?.id, users.bob?.id]).size).toBe(3)
      f.notes.push(
        'the administrator logs in at the node’s built-in development issuer (an oidc-provider); alice and bob at a separate oidc-provider process with test users, their browser played by the test',
      )
    })
  })

  it('creates a group and a bucket; alice gets WRITE in the group, bob READ on one resource and the bucket', async () => {
    await rec.run('journey 3: group, bucket, roles', async (f) => {
      const admin = need(users.admin, 'admin')
      const alice = need(users.alice, 'alice')
      const bob = need(users.bob, 'bob')
      const made = await f.timed('aruna group create', () =>
        cliJsonAs<{ id: string }>(admin, ['group', 'create', 'glaciology', '--url', node(0).restUrl]),
      )
      group = made.id
      for (const user of [alice, bob]) {
        const run = await cliAs(admin, ['member', 'add', group, user.id, '--url', node(0).restUrl])
        expect(run.code, describeRun(run)).toBe(0)
      }
      const role = await cliJsonAs<{ id: string }>(admin, [
        'role',
        'create',
        'glaciology-writers',
        '--group',
        group,
        '--rule',
        `WRITE:/${realmId}/g/${group}/**`,
        '--url',
        node(1).restUrl,
      ])
      const assign = await cliAs(admin, ['role', 'assign', role.id, alice.id, '--url', node(1).restUrl])
      expect(assign.code, describeRun(assign)).toBe(0)

      bucket = 'journey-data'
      const created = await rest(node(0), 'POST', '/v1/buckets', admin.token, { name: bucket, group })
      expect(created.status, JSON.stringify(created.body)).toBe(201)

      // Two resources alice makes: bob will be allowed the open one only.
      const open = await cliJsonAs<{ resourceId: string }>(alice, [
        'meta',
        'create',
        'Sea ice thickness',
        '--group',
        group,
        '--description',
        'moraine survey, open',
        '--url',
        node(1).restUrl,
      ])
      const secret = await cliJsonAs<{ resourceId: string }>(alice, [
        'meta',
        'create',
        'Sea ice cores',
        '--group',
        group,
        '--description',
        'moraine survey, embargoed',
        '--url',
        node(2).restUrl,
      ])
      openResource = open.resourceId
      secretResource = secret.resourceId
      const bobs = await cliJsonAs<{ id: string }>(admin, [
        'role',
        'create',
        'open-readers',
        '--group',
        group,
        '--rule',
        `READ:/${realmId}/g/${group}/meta/${openResource}`,
        '--rule',
        `READ:/${realmId}/g/${group}/data/${bucket}/**`,
        '--url',
        node(0).restUrl,
      ])
      bobRole = bobs.id
      const assigned = await cliAs(admin, ['role', 'assign', bobRole, bob.id, '--url', node(0).restUrl])
      expect(assigned.code, describeRun(assigned)).toBe(0)
      for (const user of [alice, bob]) {
        const key = await cliJsonAs<S3Credentials>(user, ['keys', 'create', '--url', node(0).restUrl])
        user.key = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }
      }
    })
  })

  it("puts alice's data through node 2 with the AWS SDK: every chunk on exactly 3 holders, read back from every node", async () => {
    await rec.run('journey 4: data on exactly 3 holders', async (f) => {
      const alice = need(users.alice, 'alice')
      const s3 = s3For(node(1), need(alice.key, "alice's key"))
      // A new key may take a moment to reach node 2's organisation replica.
      await waitUntil(
        "alice's key accepted on node 2",
        async () => {
          try {
            await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'probe.txt', Body: 'probe' }))
            return true
          } catch (err) {
            if (err instanceof S3ServiceException && err.name === 'InvalidAccessKeyId') return undefined
            throw new Error(describeSdkError(err))
          }
        },
        { timeoutMs: SETTLE_MS },
      )
      objects.set('probe.txt', Buffer.from('probe'))
      const sizes = [1, 64 * 1024, 300 * 1024, 9 * 1024 * 1024 + 17]
      await f.timed('PutObject ×4 (node 2)', async () => {
        for (const [i, size] of sizes.entries()) {
          const body = randomBytes(size)
          const key = `survey/run-${i}.bin`
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: size }))
          objects.set(key, body)
        }
      })
      const wanted = new Set([...objects.values()].flatMap(chunkIds))
      f.counts.objects = objects.size
      f.counts.chunks = wanted.size
      // The quorum (2) acknowledged; the third copy follows: wait for it, then count every copy on disk.
      let holders = new Map<string, number>()
      const { ms } = await waitUntil(
        'every chunk on 3 nodes’ disks',
        async () => {
          holders = new Map([...wanted].map((cid) => [cid, 0]))
          for (let i = 0; i < 3; i++) {
            const onDisk = await chunksOnDisk(node(i).dataDir)
            for (const cid of wanted) if (onDisk.has(cid)) holders.set(cid, (holders.get(cid) ?? 0) + 1)
          }
          return [...holders.values()].every((n) => n === 3) ? true : undefined
        },
        { timeoutMs: SETTLE_MS, describe: () => JSON.stringify(Object.fromEntries(holders)) },
      )
      f.timings['third copies on disk (poll)'] = ms
      f.counts['chunk copies on disk'] = [...holders.values()].reduce((a, b) => a + b, 0)
      for (let i = 0; i < 3; i++) {
        const onDisk = await chunksOnDisk(node(i).dataDir)
        for (const cid of wanted) expect(onDisk.get(cid), `${cid} on node ${i + 1}`).toBeGreaterThan(0)
      }
      await waitUntil(
        '/health of every node: nothing under-replicated',
        async () => {
          const all = await Promise.all([0, 1, 2].map((i) => health(node(i))))
          return all.every((h) => h.data?.underReplicated === 0 && (h.data?.chunks ?? 0) >= wanted.size)
            ? true
            : undefined
        },
        { timeoutMs: SETTLE_MS },
      )
      for (let i = 0; i < 3; i++) {
        const reader = s3For(node(i), need(alice.key, "alice's key"))
        for (const [key, body] of objects)
          expect(sha(await getBytes(reader, key)), `${key} from node ${i + 1}`).toBe(sha(body))
      }
    })
  })

  it('keeps two concurrent edits of one resource made through two nodes, on every node', async () => {
    await rec.run('journey 5: concurrent metadata edits', async (f) => {
      const alice = need(users.alice, 'alice')
      const id = openResource
      const [a, b, c, d] = await f.timed('aruna meta set ×4 concurrently (nodes 1 and 3)', () =>
        Promise.all([
          cliAs(alice, ['meta', 'set', id, 'keywords', '["sea ice","moraine"]', '--url', node(0).restUrl]),
          cliAs(alice, [
            'meta',
            'set',
            id,
            'license',
            '{"@id": "https://spdx.org/licenses/CC-BY-4.0"}',
            '--url',
            node(2).restUrl,
          ]),
          cliAs(alice, ['meta', 'set', id, 'version', '"1.0-node1"', '--url', node(0).restUrl]),
          cliAs(alice, ['meta', 'set', id, 'version', '"1.0-node3"', '--url', node(2).restUrl]),
        ]),
      )
      for (const run of [a, b, c, d]) expect(run?.code, run && describeRun(run)).toBe(0)
      const rootOf = (crate: { '@graph': Record<string, unknown>[] }) =>
        crate['@graph'].find((e) => e['@id'] === './') ?? {}
      let seen: unknown[] = []
      const { ms, value: versions } = await waitUntil(
        'both edits on every node, one version everywhere',
        async () => {
          const roots = await Promise.all(
            [0, 1, 2].map(async (i) => {
              const got = await rest<{ crate: { '@graph': Record<string, unknown>[] } }>(
                node(i),
                'GET',
                `/v1/resources/${id}`,
                alice.token,
              )
              return got.status === 200 ? rootOf(got.body.crate) : { status: got.status }
            }),
          )
          seen = roots
          const complete = roots.every(
            (r) =>
              JSON.stringify(r.keywords) === JSON.stringify(['sea ice', 'moraine']) &&
              JSON.stringify(r.license) === JSON.stringify({ '@id': 'https://spdx.org/licenses/CC-BY-4.0' }),
          )
          const versions = new Set(roots.map((r) => JSON.stringify(r.version)))
          return complete && versions.size === 1 ? [...versions] : undefined
        },
        { timeoutMs: SETTLE_MS, describe: () => JSON.stringify(seen) },
      )
      f.timings['edits converged on 3 nodes (poll)'] = ms
      expect(['"1.0-node1"', '"1.0-node3"']).toContain(versions[0])
      f.notes.push(`the same property set on nodes 1 and 3 settled on ${versions[0]} everywhere`)
    })
  })

  it('searches as alice and bob on every node: each sees what their roles allow', async () => {
    await rec.run('journey 6: search with different rights', async (f) => {
      const alice = need(users.alice, 'alice')
      const bob = need(users.bob, 'bob')
      const both = [openResource, secretResource].sort()
      let last: unknown
      const { ms } = await waitUntil(
        'alice finds both resources and bob only the open one, on every node',
        async () => {
          const answers = await Promise.all(
            [0, 1, 2].flatMap((i) => [
              searchIds(node(i), alice, 'moraine'),
              searchIds(node(i), bob, 'moraine'),
            ]),
          )
          last = answers
          return answers.every(
            (ids, k) => JSON.stringify(ids) === JSON.stringify(k % 2 === 0 ? both : [openResource]),
          )
            ? true
            : undefined
        },
        { timeoutMs: SETTLE_MS, describe: () => JSON.stringify(last) },
      )
      f.timings['search answers right on 3 nodes (poll)'] = ms
      f.counts['searches checked'] = 6
    })
  })

  it("revokes bob's role: refused on every node (search, metadata, S3)", async () => {
    await rec.run('journey 7: revocation', async (f) => {
      const admin = need(users.admin, 'admin')
      const bob = need(users.bob, 'bob')
      // Before: bob reads the bucket through every node.
      const bobS3 = [0, 1, 2].map((i) => s3For(node(i), need(bob.key, "bob's key")))
      const probe = [...objects.keys()][1] as string
      await waitUntil(
        "bob's key reads on every node",
        async () => {
          for (const s3 of bobS3) await getBytes(s3, probe)
          return true
        },
        { timeoutMs: SETTLE_MS },
      )
      const run = await cliAs(admin, ['role', 'revoke', bobRole, bob.id, '--url', node(2).restUrl])
      expect(run.code, describeRun(run)).toBe(0)
      let last: unknown
      const { ms } = await waitUntil(
        'bob refused everywhere',
        async () => {
          const states = await Promise.all(
            [0, 1, 2].map(async (i) => {
              const ids = await searchIds(node(i), bob, 'moraine')
              const meta = (await rest(node(i), 'GET', `/v1/resources/${openResource}`, bob.token)).status
              const s3 = await getBytes(bobS3[i] as S3Client, probe).then(
                () => 'read',
                (err: unknown) => (err instanceof S3ServiceException ? err.name : String(err)),
              )
              return { ids, meta, s3 }
            }),
          )
          last = states
          return states.every(
            (s) => JSON.stringify(s.ids) === '[]' && s.meta === 404 && s.s3 === 'AccessDenied',
          )
            ? true
            : undefined
        },
        { timeoutMs: SETTLE_MS, describe: () => JSON.stringify(last) },
      )
      f.timings['refused on 3 nodes (poll)'] = ms
      f.counts['nodes refusing'] = 3
    })
  })

  it('SIGKILL of a holder: reads go on through the other nodes, byte-identical, and writes reach the quorum', async () => {
    await rec.run('journey 8: a holder killed', async (f) => {
      const alice = need(users.alice, 'alice')
      const victim = node(1)
      const killed = await victim.kill('SIGKILL')
      expect(killed.signal).toBe('SIGKILL')
      let reads = 0
      await f.timed('every object from nodes 1 and 3', async () => {
        for (const i of [0, 2]) {
          const reader = s3For(node(i), need(alice.key, "alice's key"))
          for (const [key, body] of objects) {
            expect(sha(await getBytes(reader, key)), `${key} from node ${i + 1}`).toBe(sha(body))
            reads++
          }
        }
      })
      f.counts['reads after the kill'] = reads
      const writer = s3For(node(0), need(alice.key, "alice's key"))
      const body = randomBytes(128 * 1024)
      await f.timed('PutObject with one node down', () =>
        writer.send(new PutObjectCommand({ Bucket: bucket, Key: 'after-kill.bin', Body: body })),
      )
      expect(sha(await getBytes(s3For(node(2), need(alice.key, "alice's key")), 'after-kill.bin'))).toBe(
        sha(body),
      )
      const h = await waitUntil(
        'node 1 counts the killed node down after the grace period',
        async () => {
          const now = await health(node(0))
          return now.data?.nodesDown === 1 ? now : undefined
        },
        { timeoutMs: SETTLE_MS },
      )
      f.timings['killed node counted down (poll)'] = h.ms
      f.counts['under-replicated chunks on node 1 (2 nodes left for RF 3)'] =
        h.value.data?.underReplicated ?? -1
    })
  })
})
