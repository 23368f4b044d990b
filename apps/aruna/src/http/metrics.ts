/**
 * The REST API's Prometheus metrics (`prom-client`): requests, their latency per route (the declared
 * route pattern, so ids never become labels), bytes in and out, whether the node serves and since
 * when; plus the process's default metrics, collected once per process (several nodes may run in one
 * process, as in the cluster harness, and share one process).
 */

import type { GcTotals, S3RequestRecord } from '@aruna/data'
import type { MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

let processRegistry: Registry | undefined

/** The process metrics (CPU, memory, event loop, GC), registered once per process. */
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

export interface RestMetricsInit {
  /** Whether the node serves now. */
  up(): boolean
  /** Live realm peers now, this node excluded (absent: not reported). */
  peers?(): number | undefined
  /** Garbage collection totals (absent: not reported). */
  gcTotals?(): GcTotals
  /** Resources in this node's search index (absent: not reported). */
  searchDocuments?(): number | undefined
  /** How this node's data fares in the realm (absent, or undefined: not reported). */
  dataHealth?(): DataHealthFigures | undefined
  /** Storage used per group with its quota (absent, or undefined: not reported). */
  groupUsage?(): Promise<readonly GroupUsageFigures[]> | undefined
}

/** One group's usage as `/metrics` reports it. */
export interface GroupUsageFigures {
  readonly group: string
  readonly bytes: number
  readonly objects: number
  readonly quotaBytes?: number
  readonly warning: boolean
}

/** The replication figures `/metrics` reports (a node's `DataStatus`). */
export interface DataHealthFigures {
  readonly chunks: number
  readonly underReplicated: number
  readonly nodesLive: number
  readonly nodesDown: number
  readonly copiesMade: number
  readonly copiesDropped: number
  readonly corruptFound: number
  readonly corruptRepaired: number
  readonly remoteReads: number
  readonly readRepairs: number
}

export class RestMetrics {
  readonly #registry = new Registry()
  readonly #requests: Counter
  readonly #duration: Histogram<'method' | 'route' | 'status'>
  readonly #bytesIn: Counter
  readonly #bytesOut: Counter
  readonly #s3Requests: Counter<'operation' | 'status'>
  readonly #s3Duration: Histogram<'operation'>
  readonly #s3BytesIn: Counter
  readonly #s3BytesOut: Counter
  readonly #metadataEvents: Counter<'type' | 'origin'>
  readonly #syncLag: Histogram

  constructor(init: RestMetricsInit) {
    const registers = [this.#registry]
    const started = Date.now()
    new Gauge({
      name: 'aruna_up',
      help: 'Whether the node is serving (1) or starting/stopping (0).',
      registers,
      collect() {
        this.set(init.up() ? 1 : 0)
      },
    })
    new Gauge({
      name: 'aruna_uptime_seconds',
      help: 'Seconds since the REST API started.',
      registers,
      collect() {
        this.set((Date.now() - started) / 1000)
      },
    })
    new Gauge({
      name: 'aruna_realm_peers',
      help: 'Live realm peers, this node excluded.',
      registers,
      collect() {
        this.set(init.peers?.() ?? 0)
      },
    })
    if (init.searchDocuments !== undefined) {
      const documents = init.searchDocuments
      new Gauge({
        name: 'aruna_search_documents',
        help: 'Resources in this node’s search index (the documents it holds).',
        registers,
        collect() {
          this.set(documents() ?? 0)
        },
      })
    }
    if (init.dataHealth !== undefined) {
      const health = init.dataHealth
      const gauges = [
        ['aruna_data_chunks', 'Chunks stored on this node (at the last repair sweep).', 'chunks'],
        [
          'aruna_data_chunks_under_replicated',
          'Chunks on this node whose holders had not all confirmed a copy at the last repair sweep.',
          'underReplicated',
        ],
        [
          'aruna_data_nodes_live',
          'Realm nodes placement counts as live (in reach, or within the grace period).',
          'nodesLive',
        ],
        ['aruna_data_nodes_down', 'Realm nodes out of reach longer than the grace period.', 'nodesDown'],
      ] as const
      for (const [name, help, field] of gauges)
        new Gauge({
          name,
          help,
          registers,
          collect() {
            this.set(health()?.[field] ?? 0)
          },
        })
      const counters = [
        [
          'aruna_data_copies_made_total',
          'Chunk copies the repair sweep sent to holders since start.',
          'copiesMade',
        ],
        [
          'aruna_data_copies_dropped_total',
          'Local chunk copies dropped after placement moved, since start.',
          'copiesDropped',
        ],
        ['aruna_data_corrupt_found_total', 'Corrupt local chunk copies found since start.', 'corruptFound'],
        [
          'aruna_data_corrupt_repaired_total',
          'Corrupt local chunk copies replaced with good ones since start.',
          'corruptRepaired',
        ],
        ['aruna_data_remote_reads_total', 'Chunks read from another node since start.', 'remoteReads'],
        [
          'aruna_data_read_repairs_total',
          'Local chunk copies restored by read-repair since start.',
          'readRepairs',
        ],
      ] as const
      for (const [name, help, field] of counters)
        new Counter({
          name,
          help,
          registers,
          collect() {
            this.reset()
            this.inc(health()?.[field] ?? 0)
          },
        })
    }
    if (init.groupUsage !== undefined) {
      const usage = init.groupUsage
      const read = async (): Promise<readonly GroupUsageFigures[]> => (await usage()) ?? []
      const perGroup = [
        [
          'aruna_group_usage_bytes',
          'Bytes a group stores (every version once, however many copies).',
          (g: GroupUsageFigures) => g.bytes,
        ],
        ['aruna_group_usage_objects', 'Object versions a group stores.', (g: GroupUsageFigures) => g.objects],
        [
          'aruna_group_quota_bytes',
          'A group’s storage quota in bytes (groups with one).',
          (g: GroupUsageFigures) => g.quotaBytes,
        ],
        [
          'aruna_group_quota_warning',
          'Whether a group is at its quota’s warning threshold (1) or not (0).',
          (g: GroupUsageFigures) => (g.warning ? 1 : 0),
        ],
      ] as const
      for (const [name, help, value] of perGroup)
        new Gauge({
          name,
          help,
          labelNames: ['group'],
          registers,
          async collect() {
            this.reset()
            for (const group of await read()) {
              const figure = value(group)
              if (figure !== undefined) this.set({ group: group.group }, figure)
            }
          },
        })
    }
    if (init.gcTotals !== undefined) {
      const totals = init.gcTotals
      for (const [name, help, field] of [
        ['aruna_gc_runs_total', 'Garbage collection runs finished since start.', 'runs'],
        ['aruna_gc_chunks_freed_total', 'Unreferenced chunks freed since start.', 'chunksFreed'],
        ['aruna_gc_bytes_freed_total', 'Bytes of unreferenced chunks freed since start.', 'bytesFreed'],
      ] as const) {
        new Counter({
          name,
          help,
          registers,
          collect() {
            this.reset()
            this.inc(totals()[field])
          },
        })
      }
    }
    this.#requests = new Counter({
      name: 'aruna_http_requests_total',
      help: 'REST requests received since start.',
      registers,
    })
    this.#duration = new Histogram({
      name: 'aruna_http_request_duration_seconds',
      help: 'REST request latency by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    })
    this.#bytesIn = new Counter({
      name: 'aruna_http_request_bytes_total',
      help: 'REST request body bytes received (as declared by Content-Length).',
      registers,
    })
    this.#bytesOut = new Counter({
      name: 'aruna_http_response_bytes_total',
      help: 'REST response body bytes sent.',
      registers,
    })
    this.#s3Requests = new Counter({
      name: 'aruna_s3_requests_total',
      help: 'S3 requests by operation (or "unknown" before one was recognised) and status.',
      labelNames: ['operation', 'status'],
      registers,
    })
    this.#s3Duration = new Histogram({
      name: 'aruna_s3_request_duration_seconds',
      help: 'S3 request latency by operation, from arrival to the end of the answer body.',
      labelNames: ['operation'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    })
    this.#s3BytesIn = new Counter({
      name: 'aruna_s3_request_bytes_total',
      help: 'S3 request body bytes read.',
      registers,
    })
    this.#s3BytesOut = new Counter({
      name: 'aruna_s3_response_bytes_total',
      help: 'S3 response body bytes sent.',
      registers,
    })
    this.#metadataEvents = new Counter({
      name: 'aruna_metadata_changes_total',
      help: 'Metadata changes seen by this node: made here (local) or arrived by sync (remote).',
      labelNames: ['type', 'origin'],
      registers,
    })
    this.#syncLag = new Histogram({
      name: 'aruna_metadata_sync_lag_seconds',
      help: 'From a metadata change on another node (its clock) to its arrival here (sampled per resource).',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    })
  }

  /** Counts and times one S3 request (the S3 server's access-log record). */
  observeS3(record: S3RequestRecord): void {
    const operation = record.operation ?? 'unknown'
    this.#s3Requests.inc({ operation, status: String(record.status) })
    this.#s3Duration.observe({ operation }, record.durationMs / 1000)
    this.#s3BytesIn.inc(record.bytesIn)
    this.#s3BytesOut.inc(record.bytesOut)
  }

  /** Counts one metadata change event. */
  observeMetadataChange(type: string, origin: string): void {
    this.#metadataEvents.inc({ type, origin })
  }

  /** One measured delay between a change made elsewhere and its arrival here, in seconds. */
  observeSyncLag(seconds: number): void {
    if (Number.isFinite(seconds)) this.#syncLag.observe(Math.max(0, seconds))
  }

  /** Counts and times every request; mount it first. */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const start = performance.now()
      this.#requests.inc()
      this.#bytesIn.inc(contentLength(c.req.header('content-length')))
      try {
        await next()
      } finally {
        const route = matchedRoutes(c).findLast((r) => r.method !== 'ALL')?.path ?? 'unmatched'
        this.#duration.observe(
          { method: c.req.method, route, status: String(c.res.status) },
          (performance.now() - start) / 1000,
        )
        this.#bytesOut.inc(await responseBytes(c.res))
      }
    }
  }

  /** The exposition text: this API's metrics, then the process's. */
  async text(): Promise<string> {
    return `${await this.#registry.metrics()}\n${await processMetrics().metrics()}`
  }

  get contentType(): string {
    return this.#registry.contentType
  }
}

/** The kinds of answer small enough to measure by reading a copy. */
const SMALL_BODIES = /^(application\/(problem\+)?json|text\/(plain|html))\b/i

/**
 * The response body's size: its Content-Length, else (the JSON and text answers hono makes carry none)
 * the size of a copy of the body for the small kinds of answer (JSON, problems, text, the docs page);
 * a stream (events, archives) is never read here.
 */
async function responseBytes(response: Response): Promise<number> {
  const declared = response.headers.get('content-length')
  if (declared !== null) return contentLength(declared)
  if (response.body === null || !SMALL_BODIES.test(response.headers.get('content-type') ?? '')) return 0
  return (await response.clone().arrayBuffer()).byteLength
}

function contentLength(value: string | undefined): number {
  const n = Number(value)
  return Number.isSafeInteger(n) && n > 0 ? n : 0
}
