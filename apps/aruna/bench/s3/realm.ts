// Three Aruna nodes on loopback forming one realm, as an operator makes one (and as e2e/src/realm.ts
// does): node 1 `aruna start` (a new realm, development login), nodes 2 and 3 `aruna join <invite>` with an
// invite from node 1's `aruna invite`. Ready once every node sees the other two live, and once the bucket
// made through node 1 and the operator's S3 key (both spread by replication) work on every node.
import { Agent } from 'node:http'
import { join } from 'node:path'
import { exchange, presign } from './client.ts'
import { type ArunaNode, runCli, type Server, startArunaNode, waitFor } from './processes.ts'

export interface Realm extends Server {
  readonly nodes: readonly ArunaNode[]
  /** The realm's data replication factor as node 1's `/health` reports it. */
  readonly replicationFactor: number
  /** Spawn of node 1 to every node live and the bucket usable through each, ms. */
  readonly readyMs: number
  /**
   * From ready to no node catching up any more (each has finished an anti-entropy round with every
   * other; until then a PUT's miss pulls the bucket's records from the others), ms; NaN if not within 2 min.
   */
  readonly caughtUpMs: number
}

interface Health {
  peers: number
  data?: { replicationFactor: number; nodesLive: number; catchingUp?: boolean }
}

async function health(node: ArunaNode): Promise<Health> {
  const res = await fetch(`${node.rest}/health`, { signal: AbortSignal.timeout(3000) })
  if (res.status !== 200) throw new Error(`${node.name} /health answered ${res.status}`)
  return (await res.json()) as Health
}

/** Waits (bounded) until every node sees all the others live and connected. */
async function waitLive(nodes: readonly ArunaNode[]): Promise<void> {
  await waitFor(
    `${nodes.length} realm nodes see each other live`,
    async () => {
      const all = await Promise.all(nodes.map(health))
      return all.every((h) => h.data?.nodesLive === nodes.length && h.peers === nodes.length - 1)
        ? true
        : undefined
    },
    60_000,
    200,
  )
}

/** Waits (bounded, 2 min) until no node is catching up; the time it took (ms), NaN if it did not happen. */
async function waitCaughtUp(nodes: readonly ArunaNode[]): Promise<number> {
  const t0 = performance.now()
  return waitFor(
    'no realm node catching up',
    async () => {
      const all = await Promise.all(nodes.map(health))
      return all.every((h) => h.data?.catchingUp === false) ? performance.now() - t0 : undefined
    },
    120_000,
    250,
  ).catch(() => Number.NaN)
}

/**
 * Starts node `index` of the realm again on its data directory (`aruna start`, after a kill) and waits
 * until every node sees all the others again (`backMs`) and none is catching up any more (`caughtUpMs`,
 * after that); returns the realm with the new process.
 */
export async function restartNode(
  realm: Realm,
  index: number,
  nodeArgs: string[] = [],
): Promise<{ realm: Realm; backMs: number; caughtUpMs: number }> {
  const old = realm.nodes[index]
  if (old === undefined) throw new Error(`no realm node ${index + 1}`)
  const t0 = performance.now()
  const node = await startArunaNode({ name: old.name, dataDir: old.dataDir, devLogin: index === 0, nodeArgs })
  const nodes = realm.nodes.map((n, i) => (i === index ? node : n))
  await waitLive(nodes)
  const backMs = performance.now() - t0
  return {
    realm: { ...realm, nodes, bases: nodes.map((n) => n.s3), processes: nodes.map((n) => n.process) },
    backMs,
    caughtUpMs: await waitCaughtUp(nodes),
  }
}

export async function startRealm(
  work: string,
  bucket: string,
  count: number,
  nodeArgs: string[] = [],
): Promise<Realm> {
  const t0 = performance.now()
  const nodes: ArunaNode[] = []
  const first = await startArunaNode({ name: 'realm-1', dataDir: join(work, 'realm-1'), nodeArgs })
  nodes.push(first)
  const credentials = first.credentials
  if (credentials === undefined) throw new Error('realm node 1 printed no development login')
  for (let i = 2; i <= count; i++) {
    const { invite } = JSON.parse(await runCli(['invite', '--data-dir', first.dataDir, '--json'])) as {
      invite: string
    }
    nodes.push(
      await startArunaNode({ name: `realm-${i}`, dataDir: join(work, `realm-${i}`), invite, nodeArgs }),
    )
  }
  await waitLive(nodes)
  const realm = {
    name: `aruna ×${count}`,
    bases: nodes.map((n) => n.s3),
    bucket,
    credentials,
    processes: nodes.map((n) => n.process),
    startMs: first.startMs,
  }
  const agent = new Agent({ keepAlive: true })
  const made = await exchange(agent, 'PUT', presign(realm, 'PUT', ''))
  if (made.status !== 200) throw new Error(`creating bucket ${bucket}: ${made.status} ${made.body}`)
  // The operator's key and the bucket reach nodes 2 and 3 by replication: wait until each serves them.
  await waitFor(
    'the bucket and the key on every realm node',
    async () => {
      for (let entry = 0; entry < count; entry++) {
        const answer = await exchange(agent, 'HEAD', presign(realm, 'HEAD', '', entry))
        if (answer.status !== 200) return undefined
      }
      return true
    },
    60_000,
    200,
  )
  agent.destroy()
  const readyMs = performance.now() - t0
  const { data } = await health(first)
  // Measure the realm as it runs, not while its nodes still catch up with each other after forming.
  const caughtUpMs = await waitCaughtUp(nodes)
  return {
    ...realm,
    nodes,
    replicationFactor: data?.replicationFactor ?? Number.NaN,
    readyMs,
    caughtUpMs,
  }
}
