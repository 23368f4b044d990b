// Garbage collection throughput: every object of a bucket deleted (DELETE, 8 in flight, through the
// target's entry points in turn), then `aruna gc` on each node in turn (POST /v1/gc with the operator's
// credential from its data directory): the chunks and bytes each frees per second of its own run.
import { Agent } from 'node:http'
import { exchange, presign, type Target } from './client.ts'
import { type ArunaNode, runCli } from './processes.ts'

export interface GcRun {
  readonly node: string
  readonly chunksFreed: number
  readonly bytesFreed: number
  readonly chunksLive: number
  /** The node's own time for the collection (the CLI's `durationMs`). */
  readonly gcMs: number
  /** The CLI run, process start to exit. */
  readonly cliMs: number
}

export interface GcFigures {
  /** Where: `single node` or the realm's name. */
  readonly where: string
  readonly objectsDeleted: number
  readonly deletesPerS: number
  readonly runs: GcRun[]
}

async function keysOf(agent: Agent, target: Target): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  for (;;) {
    const query: Record<string, string> = { 'list-type': '2', 'max-keys': '1000' }
    if (token !== undefined) query['continuation-token'] = token
    const answer = await exchange(agent, 'GET', presign(target, 'GET', '', 0, query))
    if (answer.status !== 200)
      throw new Error(`listing for gc: ${answer.status} ${answer.body.slice(0, 300)}`)
    for (const match of answer.body.matchAll(/<Key>([^<]*)<\/Key>/g))
      keys.push((match[1] as string).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'))
    token = /<NextContinuationToken>([^<]+)<\/NextContinuationToken>/.exec(answer.body)?.[1]
    if (token === undefined) return keys
  }
}

export async function measureGc(
  where: string,
  nodes: readonly ArunaNode[],
  target: Target,
): Promise<GcFigures> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 * target.bases.length })
  const keys = await keysOf(agent, target)
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (;;) {
        const i = next++
        const key = keys[i]
        if (key === undefined) return
        const answer = await exchange(agent, 'DELETE', presign(target, 'DELETE', key, i))
        if (answer.status !== 204 && answer.status !== 200)
          throw new Error(`DELETE ${key}: ${answer.status} ${answer.body.slice(0, 300)}`)
      }
    }),
  )
  const deleteMs = performance.now() - t0
  agent.destroy()
  const runs: GcRun[] = []
  for (const node of nodes) {
    const t1 = performance.now()
    const result = JSON.parse(await runCli(['gc', '--data-dir', node.dataDir, '--json'], 600_000)) as {
      chunksFreed: number
      bytesFreed: number
      chunksLive: number
      durationMs: number
    }
    runs.push({
      node: node.name,
      chunksFreed: result.chunksFreed,
      bytesFreed: result.bytesFreed,
      chunksLive: result.chunksLive,
      gcMs: result.durationMs,
      cliMs: performance.now() - t1,
    })
  }
  return { where, objectsDeleted: keys.length, deletesPerS: keys.length / (deleteMs / 1000), runs }
}
