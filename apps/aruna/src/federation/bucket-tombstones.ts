/**
 * The buckets deleted in the realm, as this node knows them: one tombstone per bucket name (the newest
 * deletion), kept in `{dataDir}/bucket-tombstones.json` and written durably before a deletion is
 * passed on, so a replica that missed the delete cannot bring the bucket back through anti-entropy. A
 * bucket of the same name created after the deletion (a later creation time) is a new bucket and lives.
 */
import { readFile } from 'node:fs/promises'
import type { Bucket, BucketTombstone } from '@aruna/data'
import { writeFileDurably } from '@aruna/platform'

export class BucketTombstones {
  readonly #path: string
  readonly #byName = new Map<string, BucketTombstone>()
  #writing: Promise<void> = Promise.resolve()

  private constructor(path: string) {
    this.#path = path
  }

  /** Loads the tombstones at `path` (none when the file does not exist). */
  static async open(path: string): Promise<BucketTombstones> {
    const tombstones = new BucketTombstones(path)
    let text: string | undefined
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    if (text !== undefined) {
      const parsed = JSON.parse(text) as { tombstones?: BucketTombstone[] }
      for (const tombstone of parsed.tombstones ?? []) tombstones.#keep(tombstone)
    }
    return tombstones
  }

  /** Records a deletion (durably); an older one of the same name is replaced, a newer one kept. */
  async add(tombstone: BucketTombstone): Promise<void> {
    if (!this.#keep(tombstone)) return
    const text = `${JSON.stringify({ tombstones: this.all() }, null, 2)}\n`
    const write = this.#writing.then(() => writeFileDurably(this.#path, text))
    this.#writing = write.catch(() => undefined)
    await write
  }

  has(name: string): boolean {
    return this.#byName.has(name)
  }

  /** Whether `bucket` is one a tombstone says was deleted (created at or before the deleted one). */
  buries(bucket: Pick<Bucket, 'name' | 'createdAt'>): boolean {
    const tombstone = this.#byName.get(bucket.name)
    return tombstone !== undefined && bucket.createdAt <= tombstone.createdAt
  }

  all(): BucketTombstone[] {
    return [...this.#byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  #keep(tombstone: BucketTombstone): boolean {
    const known = this.#byName.get(tombstone.name)
    if (known !== undefined && known.createdAt >= tombstone.createdAt) return false
    this.#byName.set(tombstone.name, {
      name: tombstone.name,
      createdAt: tombstone.createdAt,
      deletedAt: tombstone.deletedAt,
    })
    return true
  }
}
