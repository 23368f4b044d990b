// ObjectEngine.collectGarbage over the durable stack (FsBlobStore, FsMultipartStore, LmdbObjectIndex):
// a bucket of OBJECTS objects of one 1 KiB chunk each, half of them purged, then one run. Baseline from
// the same run: the least any collection must do on this data — read every version record, list every
// stored chunk, and unlink the garbage files directly (no pins, no lock, no stat).
// Run by scripts/bench.mjs.
import { createHash } from 'node:crypto'
import { mkdtemp, rm, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  FsBlobStore,
  FsMultipartStore,
  HybridLogicalClock,
  LmdbObjectIndex,
  ObjectEngine,
} from '../dist/index.js'

const OBJECTS = 2000
const ROUNDS = 5
const GROUP = '01JAAAAAAAAAAAAAAAAAAAAAAA'

async function* body(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

async function setup(dir: string) {
  const blobs = await FsBlobStore.open({ directory: join(dir, 'blobs') })
  const uploads = await FsMultipartStore.open({ directory: join(dir, 'uploads') })
  const index = await LmdbObjectIndex.open(join(dir, 'index'))
  const engine = new ObjectEngine({ index, blobs, uploads, clock: new HybridLogicalClock('bench') })
  await engine.createBucket('bkt', GROUP)
  await engine.putBucketVersioning('bkt', 'Enabled')
  const versions = []
  for (let i = 0; i < OBJECTS; i += 100) {
    const batch = []
    for (let j = i; j < Math.min(OBJECTS, i + 100); j++) {
      const bytes = Buffer.alloc(1024, createHash('sha256').update(`${j}`).digest())
      batch.push(engine.putObject({ bucket: 'bkt', key: `dir${j % 10}/obj${j}`, body: body(bytes) }))
    }
    versions.push(...(await Promise.all(batch)))
  }
  const doomed = versions.filter((_, i) => i % 2 === 0)
  await Promise.all(doomed.map((v) => engine.deleteVersion('bkt', v.key, v.versionId)))
  return { engine, blobs, index, doomed }
}

const runs: Array<{ gc: number; baseline: number; freed: number }> = []
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of ['gc', 'baseline'] as const) {
    const dir = await mkdtemp(join(tmpdir(), 'aruna-gc-bench-'))
    try {
      const { engine, blobs, index, doomed } = await setup(dir)
      const started = performance.now()
      if (mode === 'gc') {
        const result = await engine.collectGarbage()
        runs[round] = {
          ...(runs[round] ?? { baseline: 0 }),
          gc: performance.now() - started,
          freed: result.chunksFreed,
        }
      } else {
        const live = new Set<string>()
        for await (const v of index.listVersions('bkt'))
          if (v.deleteMarker !== true) for (const c of v.manifest.chunks) live.add(c.cid)
        const garbage: string[] = []
        for await (const cid of blobs.list()) if (!live.has(cid)) garbage.push(cid)
        for (const cid of garbage) await unlink(blobs.chunkPath(cid))
        if (garbage.length !== doomed.length) throw new Error(`baseline freed ${garbage.length}`)
        runs[round] = { ...(runs[round] ?? { gc: 0, freed: 0 }), baseline: performance.now() - started }
      }
      await index.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!
const gc = median(runs.map((r) => r.gc))
const baseline = median(runs.map((r) => r.baseline))
const ratio = median(runs.map((r) => r.gc / r.baseline))
console.log(`## Garbage collection (mark and sweep)

${OBJECTS} objects of one 1 KiB chunk in an Enabled bucket, half of them purged, one \`collectGarbage\` run
over FsBlobStore + LMDB index (medians of ${ROUNDS} rounds, each on a fresh directory; the ratio is the median of the rounds' ratios). Baseline: scan the version records, list the chunks and
unlink the garbage files directly.

| | time | chunks freed | ratio to baseline |
|---|---|---|---|
| collectGarbage | ${gc.toFixed(0)} ms | ${runs[0]!.freed} | ${ratio.toFixed(2)}x |
| baseline | ${baseline.toFixed(0)} ms | ${OBJECTS / 2} | 1.00x |
`)
