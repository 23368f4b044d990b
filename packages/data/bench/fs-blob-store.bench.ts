// FsBlobStore against plain file I/O on the same disk, in the same run: `put` of 4 MiB chunks
// (hash, temp file, fsync, rename, directory fsync) against `writeFile` + fsync of the same bytes,
// and `get` (read plus sha2-256 verification) against a plain `readFile`. Run by scripts/bench.mjs.
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, open, readFile, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chunkCidOf, FsBlobStore } from '../dist/index.js'

const CHUNK = 4 * 1024 * 1024
const CHUNKS = 80
const MIB = 1024 * 1024
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

const root = await mkdtemp(join(tmpdir(), 'aruna-bench-blobs-'))
const plainDir = join(root, 'plain')
const renamedDir = join(root, 'renamed')
await mkdir(plainDir)
await mkdir(renamedDir)
// A store that has been running a while has all its 1024 shard directories; a new one creates
// (and fsyncs the parent of) each on first use. Measure the steady state, and a fresh store apart.
const warmDir = join(root, 'warm')
for (const a of BASE32) {
  for (const b of BASE32) {
    await mkdir(join(warmDir, 'chunks', a + b), { recursive: true })
    await mkdir(join(renamedDir, a + b))
  }
}
const warm = await FsBlobStore.open({ directory: warmDir })
const fresh = await FsBlobStore.open({ directory: join(root, 'fresh') })

/** Fresh bytes per chunk: a store keeps the first copy of equal bytes and would skip the write. */
const base = randomBytes(CHUNK)
let serial = 0
function nextChunk(): Uint8Array {
  const bytes = Buffer.from(base)
  bytes.writeBigUInt64BE(BigInt(serial++), 0)
  return bytes
}

async function plainWrite(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'w')
  try {
    await handle.writeFile(bytes)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * The store's protocol by hand, without hashing: temp file, fsync, rename into one of 1024 shard
 * directories (spread as chunk ids spread them), fsync that directory.
 */
async function renamedWrite(i: number, bytes: Uint8Array): Promise<void> {
  const temp = join(renamedDir, `chunk-${i}.tmp`)
  const shard = join(renamedDir, BASE32[(i * 37) % 32]! + BASE32[(i * 101) % 32]!)
  await plainWrite(temp, bytes)
  await rename(temp, join(shard, `chunk-${i}`))
  const dir = await open(shard, 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now()
  await run()
  return performance.now() - start
}

/** Milliseconds per chunk of each side, one sample per chunk. */
const samples = {
  put: [] as number[],
  fresh: [] as number[],
  plainWrite: [] as number[],
  renamedWrite: [] as number[],
  hash: [] as number[],
  get: [] as number[],
  plainRead: [] as number[],
}
const cids: string[] = []
const paths: string[] = []

// Every side in turn chunk by chunk, so drift in the disk's speed hits all alike.
for (let i = 0; i < CHUNKS; i++) {
  const bytes = nextChunk()
  const path = join(plainDir, `chunk-${i}`)
  samples.plainWrite.push(await timed(() => plainWrite(path, bytes)))
  samples.renamedWrite.push(await timed(() => renamedWrite(i, bytes)))
  samples.hash.push(await timed(async () => chunkCidOf(bytes)))
  samples.put.push(await timed(async () => cids.push((await warm.put(bytes)).cid)))
  const other = nextChunk()
  samples.fresh.push(await timed(() => fresh.put(other)))
  paths.push(path)
}
for (let i = 0; i < CHUNKS; i++) {
  let plain = 0
  let ours = 0
  samples.plainRead.push(await timed(async () => (plain = (await readFile(paths[i]!)).byteLength)))
  samples.get.push(await timed(async () => (ours = (await warm.get(cids[i]!)).byteLength)))
  if (ours !== plain) throw new Error('read back a different size')
}
await rm(root, { recursive: true, force: true })

/** Medians: a shared disk has outliers, and one slow fsync should not move a whole figure. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
const ms = Object.fromEntries(
  Object.entries(samples).map(([name, values]) => [name, median(values)]),
) as Record<keyof typeof samples, number>
const mibs = (perChunk: number) => (CHUNK / MIB / (perChunk / 1000)).toFixed(0)
const cell = (perChunk: number) => `${mibs(perChunk)} (${perChunk.toFixed(1)} ms)`
const row = (name: string, ours: number, baseline: number) =>
  `| ${name} | ${cell(ours)} | ${cell(baseline)} | ${(baseline / ours).toFixed(2)} |`
console.log(`## FsBlobStore: 4 MiB chunks against plain file I/O

${CHUNKS} chunks of 4 MiB (${(CHUNKS * CHUNK) / MIB} MiB) per side, every side in turn chunk by chunk, one at a
time; figures from the median time per chunk. \`put\`: hash (sha2-256 CID), write a temp file, fsync, rename,
fsync the shard directory, into a store whose shard directories exist. Baselines: \`writeFile\` + fsync of
the same bytes into a fresh file; the store's protocol by hand without the hash. \`get\`: read and verify the
hash; baseline \`readFile\` of the same bytes (both from the page cache, as just written).
Ratio = our throughput / the baseline's.

| operation | ours, MiB/s (per chunk) | baseline, MiB/s (per chunk) | ratio |
|---|---:|---:|---:|
${row('put vs writeFile + fsync', ms.put, ms.plainWrite)}
${row('put vs the same protocol by hand (temp, fsync, rename into a shard, fsync it; no hash)', ms.put, ms.renamedWrite)}
${row('put into a fresh store (creates shard dirs) vs writeFile + fsync', ms.fresh, ms.plainWrite)}
${row('get (verified) vs readFile', ms.get, ms.plainRead)}

For reference: computing a 4 MiB chunk's id (sha2-256) in memory takes ${ms.hash.toFixed(1)} ms here
(${mibs(ms.hash)} MiB/s); \`put\` and \`get\` each hash every byte once.`)
