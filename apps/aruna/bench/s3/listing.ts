// ListObjectsV2 page time at a small and a large bucket: two single nodes, each with one bucket whose key
// index is filled before the node starts (bench/s3/fill-index.ts; a million keys through S3 would take
// hours here), then pages of 1000 keys (from the start, from the middle with start-after, under a prefix)
// asked of both nodes in turn through signed S3 requests.
import { Agent } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { quantile } from '../../../../scripts/bench-timing.mjs'
import { exchange, presign, type Target } from './client.ts'
import { fillKey } from './fill-index.ts'
import { type ArunaNode, json, launch, startArunaNode, stop } from './processes.ts'

const here = dirname(fileURLToPath(import.meta.url))
const BUCKET = 'list'
const PAGE = 1000

export interface ListedNode {
  readonly keys: number
  readonly node: ArunaNode
  readonly target: Target
  /** Writing the keys into the stopped node's index, ms. */
  readonly fillMs: number
  /** The node's start (spawn to S3 ready) on the filled index, ms. */
  readonly startMs: number
}

/** Starts a node, makes its bucket and one empty object, stops it, fills its index, starts it again. */
export async function filledNode(work: string, keys: number, nodeArgs: string[] = []): Promise<ListedNode> {
  const name = `list-${keys}`
  const dataDir = join(work, name)
  const fresh = await startArunaNode({ name, dataDir, nodeArgs })
  const target = { bases: [fresh.s3], bucket: BUCKET, credentials: fresh.credentials }
  const agent = new Agent({ keepAlive: true })
  for (const [key, body] of [
    ['', undefined],
    ['template', Buffer.alloc(0)],
  ] as const) {
    const answer = await exchange(agent, 'PUT', presign(target, 'PUT', key), body)
    if (answer.status !== 200)
      throw new Error(`${name} PUT /${BUCKET}/${key}: ${answer.status} ${answer.body}`)
  }
  agent.destroy()
  await stop([fresh.process], 30_000)
  const { state } = await launch<{ ms: number }>(
    `${name} fill`,
    [join(here, 'fill-index.ts'), join(dataDir, 'index'), BUCKET, 'template', String(keys)],
    (line, s) => {
      const ms = json(line)?.ms
      if (typeof ms === 'number') s.ms = ms
      return s.ms !== undefined
    },
    600_000,
  )
  const node = await startArunaNode({ name, dataDir, nodeArgs, timeoutMs: 300_000 })
  return {
    keys,
    node,
    target: { bases: [node.s3], bucket: BUCKET, credentials: node.credentials ?? fresh.credentials },
    fillMs: state.ms as number,
    startMs: node.startMs,
  }
}

export interface PageTimes {
  readonly page: string
  readonly keys: number
  readonly p50: number
  readonly p90: number
  readonly samples: number
}

/** Pages of `PAGE` keys, `repeats` times each, asked of every node in turn (order reversed every other time). */
export async function measurePages(nodes: ListedNode[], repeats: number): Promise<PageTimes[]> {
  const kinds = (keys: number): [string, Record<string, string>][] => [
    ['from the start', {}],
    ['from the middle (start-after)', { 'start-after': fillKey(Math.floor(keys / 2)) }],
    ['under a prefix', { prefix: `${fillKey(Math.floor(keys / 2)).split('/')[0]}/` }],
  ]
  const times = new Map<string, number[]>()
  const agent = new Agent({ keepAlive: true })
  for (let r = 0; r < repeats; r++)
    for (const node of r % 2 === 0 ? nodes : [...nodes].reverse())
      for (const [page, query] of kinds(node.keys)) {
        const url = presign(node.target, 'GET', '', 0, {
          'list-type': '2',
          'max-keys': String(PAGE),
          ...query,
        })
        const answer = await exchange(agent, 'GET', url)
        const listed = answer.body.split('<Key>').length - 1
        if (answer.status !== 200 || listed !== PAGE)
          throw new Error(
            `${node.node.name} list ${page}: ${answer.status}, ${listed} keys ${answer.body.slice(0, 300)}`,
          )
        const id = `${node.keys}\n${page}`
        times.set(id, [...(times.get(id) ?? []), answer.ms])
      }
  agent.destroy()
  return [...times].map(([id, ms]) => {
    const [keys, page] = id.split('\n') as [string, string]
    const sorted = ms.sort((a, b) => a - b)
    return {
      page,
      keys: Number(keys),
      p50: quantile(sorted, 0.5),
      p90: quantile(sorted, 0.9),
      samples: ms.length,
    }
  })
}
