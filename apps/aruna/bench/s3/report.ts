// The S3 bench's report (BENCHMARKS.md): every table of the run, the goals of issue 18 with their
// measured ratios, and bench/s3/NOTES.md. Missing parts (a partial run) show as dashes.
import type { FailoverFigures } from './failover.ts'
import { SLOW_MS } from './failover.ts'
import type { GcFigures } from './gc.ts'
import type { ListedNode, PageTimes } from './listing.ts'
import { type MultipartResult, PART_BYTES, PARTS, PARTS_IN_FLIGHT } from './multipart.ts'
import type { Realm } from './realm.ts'
import { MiB, type Result } from './workloads.ts'

export interface Figures {
  readonly results: Result[]
  readonly rf: Result[]
  readonly realm: Realm | undefined
  readonly failover: FailoverFigures | undefined
  /** The killed node's restart to every node seeing the others again, then to none catching up, ms. */
  readonly restarted: { backMs: number; caughtUpMs: number } | undefined
  readonly multipart: MultipartResult[]
  readonly gc: GcFigures[]
  readonly listed: ListedNode[]
  readonly pages: PageTimes[]
  readonly idleRss: number
  readonly endRss: number
  /** RSS at the end of the bench, the node quiet for `REST_MS` since its last request. */
  readonly restRss: number
  readonly startMs: number
  readonly rounds: number
  /** Seconds per phase of the run. */
  readonly seconds: Record<string, number>
  readonly totalSeconds: number
  readonly notes: string
}

const fmt = (n: number | undefined, digits = 1) =>
  n === undefined || Number.isNaN(n) || !Number.isFinite(n) ? '—' : n.toFixed(digits)
const x = (value: number) => (Number.isNaN(value) ? '—' : `${value.toFixed(2)}×`)

/** How long the single node is left quiet before its RSS at the end of the bench is read. */
export const REST_MS = 8000

export function report(f: Figures): string {
  return [
    singleNode(f),
    multipart(f),
    replicated(f),
    failover(f),
    listing(f),
    garbage(f),
    node(f),
    `### Goals (issue 18)\n\n| goal | measured | met |\n| --- | ---: | :---: |\n${goals(f).join('\n')}`,
    duration(f),
    f.notes.trim(),
  ]
    .filter((section) => section !== '')
    .join('\n\n')
}

function by(results: Result[], server: string, workload: string): Result | undefined {
  return results.find((r) => r.server === server && r.workload === workload)
}

function singleNode(f: Figures): string {
  const workloads = [...new Set(f.results.map((r) => r.workload))]
  const rows = workloads.map((workload) => {
    const a = by(f.results, 'aruna', workload)
    const c = by(f.results, 'ceiling', workload)
    const s = by(f.results, 's3rver', workload)
    const ratio = (b: Result | undefined) =>
      a === undefined || b === undefined ? Number.NaN : a.objPerS / b.objPerS
    const cpu = Math.max(a?.clientCpu ?? 0, c?.clientCpu ?? 0, s?.clientCpu ?? 0)
    return `| ${workload} | ${fmt(a?.objPerS, 0)} | ${fmt(a?.mibPerS)} | ${fmt(a?.p50)} / ${fmt(a?.p90)} / ${fmt(a?.p99)} | ${fmt(a?.ttfbP50)} | ${fmt(c?.objPerS, 0)} | ${fmt(s?.objPerS, 0)} | ${fmt(ratio(c), 2)} | ${fmt(ratio(s), 2)} | ${fmt(cpu * 100, 0)}% | ${fmt(a?.serverCpuMsPerOp, 2)} / ${fmt(c?.serverCpuMsPerOp, 2)} / ${fmt(s?.serverCpuMsPerOp, 2)} |`
  })
  return `## The S3 API against a ceiling and s3rver (single node, 2-core machine)

Each server in its own process on loopback; the client (node:http, presigned URLs signed before the
clock starts, one pool of keep-alive connections per server and workload, opened by the warm-up) runs the same bounded workloads against each: random data, one prefix per
worker, each workload first warmed up on every server without measuring (objects up to 1 MiB: as many
operations again, at most 1000), then cut into ${f.rounds} slices that run on the servers in turn (order
reversed every other round), so that the servers share whatever else the machine does alike. Server CPU is the
process's user + system time per operation (from /proc).
The ceiling is a bare Node HTTP server that streams each PUT to a file, fdatasyncs and renames it
(without syncing the directory after), and streams GETs back: less than a durable server must do; s3rver 3.7.1
writes files without fsync. Ratios are ops/s of Aruna over the baseline in the same run.

| workload | Aruna obj/s | Aruna MiB/s | Aruna p50 / p90 / p99 ms | GET TTFB p50 ms | ceiling obj/s | s3rver obj/s | × ceiling | × s3rver | client CPU (max) | server CPU ms/op (Aruna / ceiling / s3rver) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}`
}

function multipart(f: Figures): string {
  if (f.multipart.length === 0) return ''
  const get = (server: string) => f.multipart.find((m) => m.server === server)
  const a = get('aruna')
  const onePut = by(f.results, 'aruna', 'PUT 64 MiB c=1')
  const rows = f.multipart.map(
    (m) =>
      `| ${m.server} | ${m.how} | ${fmt(m.objPerS, 2)} | ${fmt(m.mibPerS)} | ${fmt(m.p50, 0)} | ${fmt(m.serverCpuMsPerObject, 0)} |`,
  )
  const ratio = (b: { objPerS: number } | undefined) =>
    a === undefined || b === undefined ? Number.NaN : a.objPerS / b.objPerS
  return `## A 64 MiB object as a multipart upload

${PARTS} parts of ${PART_BYTES / MiB} MiB, ${PARTS_IN_FLIGHT} in flight, between CreateMultipartUpload and
CompleteMultipartUpload (both timed), ${a?.objects ?? '—'} objects per server, interleaved. The ceiling has
no multipart API and takes the 64 MiB as one streamed PUT (what it would store either way).

| server | how | obj/s | MiB/s | p50 ms | server CPU ms/object |
| --- | --- | ---: | ---: | ---: | ---: |
${rows.join('\n')}

Aruna multipart: ${x(ratio(get('ceiling')))} the ceiling, ${x(ratio(get('s3rver')))} s3rver, ${x(ratio(onePut))} Aruna's own single 64 MiB PUT (c=1, above).`
}

function replicated(f: Figures): string {
  if (f.rf.length === 0 || f.realm === undefined) return ''
  const realm = f.realm
  const workloads = [...new Set(f.rf.map((r) => r.workload))]
  const rows = workloads.map((workload) => {
    const one = by(f.rf, 'aruna', workload)
    const three = by(f.rf, realm.name, workload)
    return `| ${workload} | ${fmt(one?.objPerS, 0)} | ${fmt(three?.objPerS, 0)} | ${x(one && three ? three.objPerS / one.objPerS : Number.NaN)} | ${fmt(three?.p50)} / ${fmt(three?.p99)} | ${fmt(one?.serverCpuMsPerOp, 2)} / ${fmt(three?.serverCpuMsPerOp, 2)} | ${fmt(one?.othersCpuMsPerOp, 2)} / ${fmt(three?.othersCpuMsPerOp, 2)} |`
  })
  return `## Three nodes, RF=3 (W=2), against the single node

Three \`aruna\` processes on loopback form one realm (node 1 \`aruna start\`, nodes 2 and 3 \`aruna join\`
with an invite from \`aruna invite\`; default configuration). Node 1's \`/health\` reports the data
replication factor ${realm.replicationFactor}; the write quorum is its majority (2). Spawn of node 1 to all
three live and the bucket and key usable on each: ${fmt(realm.readyMs / 1000, 1)} s; then
${fmt(realm.caughtUpMs / 1000, 1)} s more until no node was catching up (each has finished an anti-entropy
round with the others; the workloads start after that, see the notes). Request i enters
through node i mod 3 (PUT) or node (i + 1) mod 3 (GET, so never the node its PUT entered). With RF=3 on
three nodes every node holds every chunk: a PUT's entry node stores the chunk and sends it to both
others, and a GET is read from the entry node's own copy. The same workloads run interleaved with the
single node of the first table (the same process, its own keys), each warmed up first as above (the
three nodes are fresh processes, the single node has run every workload before), on the same 2 cores: three nodes
share them here, as they would not in a real deployment. The last column shows how much CPU the side
not being measured used meanwhile (background work such as replication catching up after the slice).

| workload | 1 node obj/s | 3 nodes obj/s | 3 ÷ 1 | 3 nodes p50 / p99 ms | server CPU ms/op (1 node / 3 nodes together) | the other's CPU meanwhile ms/op (3 nodes during 1 / 1 during 3) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}`
}

function failover(f: Figures): string {
  if (f.failover === undefined) return ''
  const rows = f.failover.loops.map(
    (l) =>
      `| ${l.loop} | ${fmt(l.before.p50)} / ${fmt(l.before.p99)} | ${fmt(l.slowMs, 0)} | ${l.after.count} / ${l.after.failed} / ${l.after.slow} | ${fmt(l.longestGapMs, 0)} | ${l.recovered ? fmt(l.recoveredMs, 0) : `not within ${fmt(f.failover?.runMs, 0)}`} |`,
  )
  return `## A node killed under load (three nodes, RF=3)

On the realm above, a GET loop (the objects of its PUT 1 KiB c=20 workload) through node 1 and a PUT
loop through node 2 run together; after 2 s ${f.failover.victim} (a holder of every chunk) gets SIGKILL and
the loops go on until answers have been good for 3 s (at least 6 s, at most 30 s). A failed answer is
any status but 200 or no answer within 5 s; a slow one takes ${SLOW_MS} ms or more, or twice the loop's
p99 before the kill when that is longer (the "slow" column). The longest gap is the
longest time after the kill without a good answer (from the kill to the first, or between two);
"good again" is when the last failed or slow request ended, counted from the kill (0: none).

| loop | before the kill p50 / p99 ms | slow ms | answers after (all / failed / slow) | longest gap ms | good again after ms |
| --- | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}`
}

function listing(f: Figures): string {
  if (f.pages.length === 0) return ''
  const [small, large] = [...new Set(f.pages.map((p) => p.keys))].sort((a, b) => a - b)
  const kinds = [...new Set(f.pages.map((p) => p.page))]
  const rows = kinds.map((kind) => {
    const s = f.pages.find((p) => p.page === kind && p.keys === small)
    const l = f.pages.find((p) => p.page === kind && p.keys === large)
    return `| ${kind} | ${fmt(s?.p50)} / ${fmt(s?.p90)} | ${fmt(l?.p50)} / ${fmt(l?.p90)} | ${x(s && l ? l.p50 / s.p50 : Number.NaN)} |`
  })
  const fills = f.listed.map(
    (l) =>
      `${l.keys.toLocaleString('en')} keys written in ${fmt(l.fillMs / 1000, 1)} s, the node then started in ${fmt(l.startMs / 1000, 2)} s`,
  )
  return `## ListObjectsV2 at ${small?.toLocaleString('en')} and ${large?.toLocaleString('en')} keys

Two single nodes, each with one bucket. Its keys (\`d<dir>/k<n>\`, 1000 per dir) are written into the
stopped node's key index with \`LmdbObjectIndex\` of \`@aruna/data\` (bench/s3/fill-index.ts), each a copy
of the version record of an empty object the node stored through S3 (same shape, no chunk), since
creating a million keys through S3 would take hours here; then the node starts again on it. Pages of
1000 keys through signed S3 requests, ${f.pages[0]?.samples ?? '—'} of each kind per node, the nodes in turn.
${fills.join('; ')}.

| page of 1000 keys | ${small?.toLocaleString('en')} keys p50 / p90 ms | ${large?.toLocaleString('en')} keys p50 / p90 ms | large ÷ small (p50) |
| --- | ---: | ---: | ---: |
${rows.join('\n')}`
}

function garbage(f: Figures): string {
  if (f.gc.length === 0) return ''
  const rows = f.gc.flatMap((g) =>
    g.runs.map((r) => {
      const s = r.gcMs / 1000
      return `| ${g.where} | ${g.objectsDeleted} | ${fmt(g.deletesPerS, 0)} | ${r.node} | ${r.chunksFreed} | ${fmt(r.bytesFreed / MiB)} | ${fmt(s, 2)} (${fmt(r.cliMs / 1000, 2)}) | ${fmt(r.chunksFreed / s, 0)} | ${fmt(r.bytesFreed / MiB / s)} | ${r.chunksLive} |`
    }),
  )
  return `## Garbage collection

Every object of the bucket deleted with DELETE, 8 in flight (on three nodes through each in turn), then
\`aruna gc --data-dir\` (POST /v1/gc) on each node in turn: a node frees a chunk once every other node
answers that nothing of theirs references it. On three nodes: the objects of the RF=3 workloads and
the node-kill loop, after the killed node was started again${f.restarted === undefined ? '' : ` (back and connected to both others in ${fmt(f.restarted.backMs / 1000, 1)} s, no node catching up ${fmt(f.restarted.caughtUpMs / 1000, 1)} s later)`}; on the single node: everything the first
table and the multipart uploads wrote. Throughput is chunks and bytes freed over the node's own time
for the collection.

| where | objects deleted | deletes/s | gc on | chunks freed | MiB freed | gc s (CLI run s) | chunks/s | MiB/s | chunks left in use |
| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}`
}

function node(f: Figures): string {
  const large = f.listed.at(-1)
  return `| node | value |
| --- | ---: |
| Aruna start (process spawn to S3 ready, new realm) | ${fmt(f.startMs / 1000, 2)} s |
| Aruna start on an index of ${large?.keys.toLocaleString('en') ?? '—'} keys | ${fmt((large?.startMs ?? Number.NaN) / 1000, 2)} s |
| Aruna RSS idle / right after the single-node workloads | ${fmt(f.idleRss, 0)} / ${fmt(f.endRss, 0)} MiB |
| Aruna RSS at the end of the bench, ${REST_MS / 1000} s after its last request | ${fmt(f.restRss, 0)} MiB |`
}

/** Issue 18's goals that this run measures, as table rows: goal, measured value, met or not. */
function goals(f: Figures): string[] {
  const ratio = (workload: string, baseline: string) => {
    const a = by(f.results, 'aruna', workload)
    const b = by(f.results, baseline, workload)
    return a === undefined || b === undefined ? Number.NaN : a.objPerS / b.objPerS
  }
  const row = (goal: string, value: number, shown: string, met: boolean) =>
    `| ${goal} | ${Number.isNaN(value) ? '—' : shown} | ${Number.isNaN(value) ? '—' : met ? 'yes' : 'no'} |`
  const smallPut = ratio('PUT 1 KiB c=20', 'ceiling')
  const smallPutS3rver = ratio('PUT 1 KiB c=20', 's3rver')
  const smallGet = ratio('GET 1 KiB c=20', 'ceiling')
  const smallGetP99 = by(f.results, 'aruna', 'GET 1 KiB c=20')?.p99 ?? Number.NaN
  const largePut = ratio('PUT 64 MiB c=1', 'ceiling')
  const largeGet = ratio('GET 64 MiB c=1', 'ceiling')
  const one = by(f.rf, 'aruna', 'PUT 1 KiB c=20')
  const three = f.realm === undefined ? undefined : by(f.rf, f.realm.name, 'PUT 1 KiB c=20')
  const rfPut = one === undefined || three === undefined ? Number.NaN : three.objPerS / one.objPerS
  const [small, large] = [...new Set(f.pages.map((p) => p.keys))].sort((a, b) => a - b)
  const listRatios = [...new Set(f.pages.map((p) => p.page))].map((kind) => {
    const s = f.pages.find((p) => p.page === kind && p.keys === small)
    const l = f.pages.find((p) => p.page === kind && p.keys === large)
    return { kind, ratio: s && l ? l.p50 / s.p50 : Number.NaN }
  })
  const worst = listRatios.reduce((w, r) => (Number.isNaN(w.ratio) || r.ratio > w.ratio ? r : w), {
    kind: '',
    ratio: Number.NaN,
  })
  const largeLabel = large === 1_000_000 ? '1 M' : (large?.toLocaleString('en') ?? '1 M')
  return [
    row('small PUT (1 KiB, c=20) ≥ 1.0× the ceiling', smallPut, x(smallPut), smallPut >= 1),
    row('small PUT (1 KiB, c=20) ≥ 3× s3rver', smallPutS3rver, x(smallPutS3rver), smallPutS3rver >= 3),
    row('small GET (1 KiB, c=20) ≥ 0.8× the ceiling', smallGet, x(smallGet), smallGet >= 0.8),
    row('small GET (1 KiB, c=20) p99 < 10 ms', smallGetP99, `${smallGetP99.toFixed(1)} ms`, smallGetP99 < 10),
    row('large PUT (64 MiB) ≥ 0.9× the ceiling', largePut, x(largePut), largePut >= 0.9),
    row('large GET (64 MiB) ≥ 1.0× the ceiling', largeGet, x(largeGet), largeGet >= 1),
    row('RF=3 PUT (1 KiB, c=20, 3 nodes) ≥ 0.3× a single node', rfPut, x(rfPut), rfPut >= 0.3),
    row(
      `ListObjectsV2 page at ${largeLabel} keys ≤ 2× at 10 k (p50, worst page: ${worst.kind || '—'})`,
      worst.ratio,
      x(worst.ratio),
      worst.ratio <= 2,
    ),
    row('idle RSS < 150 MB', f.idleRss, `${f.idleRss.toFixed(0)} MiB`, f.idleRss < 150),
    row(
      'RSS at the end of the bench < 300 MB (read right after the single-node workloads)',
      f.endRss,
      `${f.endRss.toFixed(0)} MiB`,
      f.endRss < 300,
    ),
    row('start < 2 s', f.startMs, `${(f.startMs / 1000).toFixed(2)} s`, f.startMs < 2000),
  ]
}

function duration(f: Figures): string {
  const phases = Object.entries(f.seconds)
    .map(([phase, s]) => `${phase} ${fmt(s, 0)} s`)
    .join(', ')
  return `The bench ran for ${fmt(f.totalSeconds / 60, 1)} min (without the build before it): ${phases}.`
}
