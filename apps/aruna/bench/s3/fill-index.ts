// Fills a stopped node's key index (`<dataDir>/index`, the `LmdbObjectIndex` the node opens) with `count`
// keys in one bucket, for the ListObjectsV2 part of the S3 bench: creating a million keys through S3 would
// take far longer than the bench may. Each key gets a copy of one version record the node wrote itself
// (`templateKey`, PUT through S3 before the node was stopped), with its own key and version id, so the
// records have exactly the node's shape and point at the template's chunks (none for an empty object).
//
// node fill-index.ts <indexDir> <bucket> <templateKey> <count>; prints {"count","ms"} as one JSON line.
// Keys are `d<dir, 4 digits>/k<i, 7 digits>`, 1000 per dir, so a prefix of one dir fills one page.
import type { ContentVersion } from '@aruna/data'

/** Records put before their promises are awaited: lmdb-js commits the writes of one event turn together. */
const BATCH = 5000

export function fillKey(i: number): string {
  return `d${String(Math.floor(i / 1000)).padStart(4, '0')}/k${String(i).padStart(7, '0')}`
}

async function fill(indexDir: string, bucket: string, templateKey: string, count: number): Promise<void> {
  // Loaded here, so that the bench, which imports `fillKey`, does not load LMDB.
  const { formatVersionId, LmdbObjectIndex, parseVersionId } = await import('@aruna/data')
  const started = performance.now()
  const index = await LmdbObjectIndex.open(indexDir)
  try {
    const template: ContentVersion = await index.getCurrent(bucket, templateKey)
    const clock = parseVersionId(template.versionId)
    for (let from = 0; from < count; from += BATCH) {
      const writes: Promise<unknown>[] = []
      for (let i = from; i < Math.min(count, from + BATCH); i++)
        writes.push(
          index.putVersion({
            ...template,
            key: fillKey(i),
            versionId: formatVersionId({ ...clock, counter: i }),
          }),
        )
      await Promise.all(writes)
    }
  } finally {
    await index.close()
  }
  console.log(JSON.stringify({ count, ms: performance.now() - started }))
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  const [indexDir, bucket, templateKey, count] = process.argv.slice(2)
  if (indexDir === undefined || bucket === undefined || templateKey === undefined || count === undefined)
    throw new Error('usage: fill-index.ts <indexDir> <bucket> <templateKey> <count>')
  await fill(indexDir, bucket, templateKey, Number(count))
}
