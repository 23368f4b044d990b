/**
 * The multipart uploads completed or aborted in the realm, as this node knows them: one tombstone per
 * upload id, kept in `{dataDir}/upload-tombstones.json` and written durably before a deletion is passed
 * on, so a node that missed it cannot bring the upload back through anti-entropy. A tombstone is kept
 * until its upload is older than the retention (`prune`); records of uploads that old are not taken
 * from other nodes at all, so dropping it then lets nothing come back.
 */
import { readFile } from 'node:fs/promises'
import type { UploadTombstone } from '@aruna/data'
import { writeFileDurably } from '@aruna/platform'

export class UploadTombstones {
  readonly #path: string | undefined
  readonly #byId = new Map<string, UploadTombstone>()
  #writing: Promise<void> = Promise.resolve()

  private constructor(path: string | undefined) {
    this.#path = path
  }

  /** Loads the tombstones at `path` (none when the file does not exist); without a path, in memory only (tests). */
  static async open(path?: string): Promise<UploadTombstones> {
    const tombstones = new UploadTombstones(path)
    if (path === undefined) return tombstones
    let text: string | undefined
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    if (text !== undefined) {
      const parsed = JSON.parse(text) as { tombstones?: UploadTombstone[] }
      for (const tombstone of parsed.tombstones ?? []) tombstones.#keep(tombstone)
    }
    return tombstones
  }

  /** Records deletions (durably); returns those that were new here. */
  async add(tombstones: readonly UploadTombstone[]): Promise<UploadTombstone[]> {
    const added = tombstones.filter((tombstone) => this.#keep(tombstone))
    if (added.length > 0) await this.#save()
    return added
  }

  has(uploadId: string): boolean {
    return this.#byId.has(uploadId)
  }

  /** In upload id order (the order pulls page through). */
  all(): UploadTombstone[] {
    return [...this.#byId.values()].sort((a, b) =>
      a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0,
    )
  }

  /** Drops the tombstones of uploads initiated before `cutoff` (ISO time). */
  async prune(cutoff: string): Promise<void> {
    let dropped = false
    for (const [id, tombstone] of this.#byId)
      if (tombstone.initiated < cutoff) {
        this.#byId.delete(id)
        dropped = true
      }
    if (dropped) await this.#save()
  }

  #save(): Promise<void> {
    const path = this.#path
    if (path === undefined) return Promise.resolve()
    const write = this.#writing.then(() =>
      writeFileDurably(path, `${JSON.stringify({ tombstones: this.all() }, null, 2)}\n`),
    )
    this.#writing = write.catch(() => undefined)
    return write
  }

  #keep(tombstone: UploadTombstone): boolean {
    if (this.#byId.has(tombstone.uploadId)) return false
    this.#byId.set(tombstone.uploadId, {
      uploadId: tombstone.uploadId,
      initiated: tombstone.initiated,
      deletedAt: tombstone.deletedAt,
    })
    return true
  }
}
