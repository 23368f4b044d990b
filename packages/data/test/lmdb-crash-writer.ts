/**
 * The writer that `lmdb-crash.test.ts` kills: run in its own Node process straight from `src/`
 * (`--experimental-transform-types`), it opens the index in `argv[2]` and puts version records with
 * several in flight until it is killed, printing `ack <n>` once record n's write has resolved.
 * Record n: key `k<n % 37>`, version id n on node `argv[3]`; every fifth a delete marker.
 */
import './source-hooks.mjs'

// Only the modules the index needs, not the whole package: the writer starts fast and stays clear of
// unrelated sources.
const { LmdbObjectIndex } = await import('../src/lmdb-object-index.js')
const { chunkCidOf } = await import('../src/chunk-id.js')
const { formatVersionId } = await import('../src/hlc.js')
const { isDataError } = await import('../src/errors.js')
const [directory, nodeId = 'writer'] = process.argv.slice(2)
if (directory === undefined) throw new Error('usage: lmdb-crash-writer <directory> [node id]')

const EPOCH = Date.UTC(2025, 0, 1)
const IN_FLIGHT = 8
const index = await LmdbObjectIndex.open(directory)
try {
  await index.createBucket('crash', { group: '01JAAAAAAAAAAAAAAAAAAAAAAA' })
} catch (err) {
  if (!isDataError(err, 'BucketAlreadyExists')) throw err
}

async function write(n: number): Promise<void> {
  const bucket = 'crash'
  const key = `k${n % 37}`
  const versionId = formatVersionId({ wallTime: EPOCH + n, counter: 0, nodeId })
  const createdAt = new Date(EPOCH + n).toISOString()
  if (n % 5 === 4) {
    await index.putVersion({ bucket, key, versionId, createdAt, deleteMarker: true })
  } else {
    const bytes = new TextEncoder().encode(`${key}/${versionId}`)
    const manifest = {
      chunks: [{ cid: chunkCidOf(bytes), size: bytes.byteLength }],
      size: bytes.byteLength,
      contentType: 'text/plain',
      userMetadata: { n: String(n) },
      checksums: { md5: '0'.repeat(32) },
      etag: `"${'0'.repeat(32)}"`,
    }
    await index.putVersion({ bucket, key, versionId, createdAt, manifest })
  }
  process.stdout.write(`ack ${n}\n`)
}

let next = 0
const lanes = Array.from({ length: IN_FLIGHT }, async () => {
  for (;;) await write(next++)
})
await Promise.all(lanes)
