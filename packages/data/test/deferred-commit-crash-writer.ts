/**
 * The writer that `deferred-commit-crash.test.ts` kills: run in its own Node process straight from
 * `src/` (`--experimental-transform-types`), it opens an object index in `argv[2]/index` and a blob
 * store in `argv[2]/blobs` whose small chunks live in the index's environment (as a node does), and
 * puts small objects through the engine, several in flight, until it is killed, printing `ack <key number> <version id>`
 * once PutObject n has resolved (in a bucket with versioning enabled). Object n: key `k<n % 23>`, 64–1063 random bytes (one small chunk,
 * whose commit the store defers to the version record's).
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import './source-hooks.mjs'

const { LmdbObjectIndex } = await import('../src/lmdb-object-index.js')
const { FsBlobStore } = await import('../src/fs-blob-store.js')
const { ObjectEngine } = await import('../src/engine/object-engine.js')
const { MemoryMultipartStore } = await import('../src/engine/memory-multipart-store.js')
const { HybridLogicalClock } = await import('../src/hlc.js')
const { isDataError } = await import('../src/errors.js')
const [directory, nodeId = 'writer'] = process.argv.slice(2)
if (directory === undefined) throw new Error('usage: deferred-commit-crash-writer <directory> [node id]')

const IN_FLIGHT = 8
const index = await LmdbObjectIndex.open(join(directory, 'index'))
const blobs = await FsBlobStore.open({
  directory: join(directory, 'blobs'),
  smallChunks: index.smallChunkDatabase(),
})
const engine = new ObjectEngine({
  blobs,
  index,
  uploads: new MemoryMultipartStore(),
  clock: new HybridLogicalClock(nodeId),
})
try {
  await engine.createBucket('crash', '01JAAAAAAAAAAAAAAAAAAAAAAA')
} catch (err) {
  if (!isDataError(err, 'BucketAlreadyExists')) throw err
}
// Every version is kept, so that every acknowledged one can be looked for afterwards.
await engine.putBucketVersioning('crash', 'Enabled')

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

async function write(n: number): Promise<void> {
  const bytes = new Uint8Array(randomBytes(64 + (n % 1000)))
  const version = await engine.putObject({ bucket: 'crash', key: `k${n % 23}`, body: once(bytes) })
  process.stdout.write(`ack ${n % 23} ${version.versionId}\n`)
}

let next = 0
const lanes = Array.from({ length: IN_FLIGHT }, async () => {
  for (;;) await write(next++)
})
await Promise.all(lanes)
