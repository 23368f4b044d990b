// LmdbObjectIndex: a ListObjectsV2 page of 1000 over buckets of 10 000 and 100 000 keys (the page
// should cost the same), and putVersion per second, each against a baseline from the same run.
// Run by scripts/bench.mjs.
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { open } from 'lmdb'
import { chunkCidOf, formatVersionId, LmdbObjectIndex, MemoryObjectIndex } from '../dist/index.js'

const SMALL = 10_000
const LARGE = 100_000
/** The group (a ULID) that owns the benchmark's buckets. */
const GROUP = '01JAAAAAAAAAAAAAAAAAAAAAAA'
const PAGES = 60
const SEQUENTIAL = 500
const BATCHED = 30_000
const EPOCH = Date.UTC(2025, 0, 1)
const cid = chunkCidOf(new Uint8Array(1024))

type Version = Parameters<LmdbObjectIndex['putVersion']>[0]

function record(bucket: string, key: string, n: number, node = 'bench'): Version {
  const md5 = createHash('md5').update(`${key}/${n}`).digest('hex')
  return {
    bucket,
    key,
    versionId: formatVersionId({ wallTime: EPOCH + n, counter: 0, nodeId: node }),
    createdAt: new Date(EPOCH + n).toISOString(),
    manifest: {
      chunks: [{ cid, size: 1024 }],
      size: 1024,
      contentType: 'application/octet-stream',
      userMetadata: {},
      checksums: { md5 },
      etag: `"${md5}"`,
    },
  }
}

/** `dir<00..99>/file<n>`: a realistic spread, 100 common prefixes under `/`. */
function keyOf(i: number): string {
  return `dir${String(i % 100).padStart(2, '0')}/file${String(i).padStart(7, '0')}`
}

type Index = LmdbObjectIndex | MemoryObjectIndex

async function fill(index: Index, bucket: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 2000) {
    const batch = []
    for (let j = i; j < Math.min(count, i + 2000); j++)
      batch.push(index.putVersion(record(bucket, keyOf(j), j)))
    await Promise.all(batch)
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Median ms of a page of 1000 from start keys spread over the small and the large bucket, the two
 * interleaved page by page so that whatever else the machine does slows both alike. Each page is
 * read once untimed first, so the small bucket's pages are not the only ones found in the CPU caches.
 */
async function pageTimes(index: Index, delimiter?: string): Promise<{ small: number; large: number }> {
  collectGarbage()
  const times = { small: [] as number[], large: [] as number[] }
  for (let p = 0; p < PAGES; p++) {
    for (const [bucket, count] of [
      ['small', SMALL],
      ['large', LARGE],
    ] as const) {
      // Start-after keys spread over the bucket, in its first 90% so each page is full.
      const after = keyOf(Math.floor(((p * 7919) % PAGES) * ((count * 0.9) / PAGES)))
      const options = { startAfter: after, maxKeys: 1000, ...(delimiter === undefined ? {} : { delimiter }) }
      await index.list(bucket, options)
      const start = performance.now()
      const page = await index.list(bucket, options)
      times[bucket].push(performance.now() - start)
      if (delimiter === undefined && page.keyCount !== 1000) throw new Error(`short page: ${page.keyCount}`)
    }
  }
  return { small: median(times.small), large: median(times.large) }
}

function collectGarbage(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

async function rate(count: number, put: (n: number) => Promise<unknown>, inFlight: number): Promise<number> {
  collectGarbage()
  const start = performance.now()
  for (let i = 0; i < count; i += inFlight) {
    const batch = []
    for (let j = i; j < Math.min(count, i + inFlight); j++) batch.push(put(j))
    await Promise.all(batch)
  }
  return count / ((performance.now() - start) / 1000)
}

const root = await mkdtemp(join(tmpdir(), 'aruna-bench-lmdb-'))
const index = await LmdbObjectIndex.open(join(root, 'index'))
await index.createBucket('small', { group: GROUP })
await index.createBucket('large', { group: GROUP })
const fillStart = performance.now()
await fill(index, 'small', SMALL)
await fill(index, 'large', LARGE)
const fillMs = performance.now() - fillStart

await pageTimes(index)
const lmdbPage = await pageTimes(index)
const lmdbDelimited = await pageTimes(index, '/')
const readsBefore = index.stats().entriesRead
await index.list('large', { maxKeys: 1000 })
const readsPerPage = index.stats().entriesRead - readsBefore

// putVersion: one at a time (each its own commit, so its own fdatasync) and 1000 in flight (sharing
// commits), against raw lmdb-js puts of the same encoded record size with the same durability.
const rawEnv = open({ path: join(root, 'raw'), maxDbs: 2, overlappingSync: false })
const raw = rawEnv.openDB<Buffer, Buffer>('raw', { keyEncoding: 'binary', encoding: 'binary' })
const recordBytes = Buffer.from(JSON.stringify(record('writes', keyOf(0), 0)))
/** Keys spread like ours (100 directories), so both sides insert all over the B-tree. */
const rawKey = (side: string, n: number) => Buffer.from(`${side}\u0000${keyOf(n)}`)
await index.createBucket('writes', { group: GROUP })
let serial = LARGE
const oursSequential = await rate(
  SEQUENTIAL,
  () => index.putVersion(record('writes', keyOf(serial), serial++)),
  1,
)
const rawSequential = await rate(SEQUENTIAL, (n) => raw.put(rawKey('s', n), recordBytes), 1)
const oursBatched = await rate(
  BATCHED,
  () => index.putVersion(record('writes', keyOf(serial), serial++)),
  1000,
)
const rawBatched = await rate(BATCHED, (n) => raw.put(rawKey('b', n), recordBytes), 1000)
await index.close()
await rawEnv.close()
await rm(root, { recursive: true, force: true })

// The in-memory index over the same keys, as a floor for what a page costs without a store.
const memory = new MemoryObjectIndex()
await memory.createBucket('small', { group: GROUP })
await memory.createBucket('large', { group: GROUP })
await fill(memory, 'small', SMALL)
await fill(memory, 'large', LARGE)
await pageTimes(memory)
const memoryPage = await pageTimes(memory)

const ms = (value: number) => value.toFixed(2)
const perSecond = (value: number) => Math.round(value).toLocaleString('en-US')
const pageRow = (name: string, { small, large }: { small: number; large: number }) =>
  `| ${name} | ${ms(small)} ms | ${ms(large)} ms | ${(large / small).toFixed(2)} |`
console.log(`## LmdbObjectIndex: ListObjectsV2 pages and putVersion

One LMDB index (sync on every commit) holding a bucket of ${SMALL.toLocaleString('en-US')} and one of ${LARGE.toLocaleString('en-US')} keys
(\`dir00/…\` to \`dir99/…\`; filling both took ${(fillMs / 1000).toFixed(1)} s, ${perSecond(((SMALL + LARGE) * 1000) / fillMs)} putVersion/s
in batches of 2000 concurrent puts).
A page is \`list(bucket, { startAfter, maxKeys: 1000 })\` from ${PAGES} start keys spread over the bucket, the two
buckets' pages interleaved, each read once untimed before the timed read; figures are median ms per page. A full page read ${readsPerPage} entries from LMDB in either bucket.

| page of 1000 | ${SMALL.toLocaleString('en-US')} keys (baseline) | ${LARGE.toLocaleString('en-US')} keys | ratio ${LARGE / 1000}k / ${SMALL / 1000}k |
|---|---:|---:|---:|
${pageRow('LmdbObjectIndex, plain page', lmdbPage)}
${pageRow('LmdbObjectIndex, delimiter `/` (up to 100 common prefixes, one seek each)', lmdbDelimited)}
${pageRow('MemoryObjectIndex (sorted arrays), plain page', memoryPage)}

LMDB against memory for a page of 1000 in the ${LARGE.toLocaleString('en-US')}-key bucket: ${(lmdbPage.large / memoryPage.large).toFixed(2)}× the time.

putVersion against raw lmdb-js \`put\` of a value of the same size (${recordBytes.byteLength} bytes) under keys
spread the same way, into a fresh sub-database with the same durability (no \`overlappingSync\`, sync on commit). Ours validates the
record, reads the key's newest version, writes the record and moves the current pointer in a child transaction.

| writes | ours (per s) | raw put (per s) | ratio |
|---|---:|---:|---:|
| one at a time (a commit + fdatasync each) | ${perSecond(oursSequential)} | ${perSecond(rawSequential)} | ${(oursSequential / rawSequential).toFixed(2)} |
| 1000 in flight (commits shared) | ${perSecond(oursBatched)} | ${perSecond(rawBatched)} | ${(oursBatched / rawBatched).toFixed(2)} |`)
