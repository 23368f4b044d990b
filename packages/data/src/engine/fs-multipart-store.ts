import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { openTempDirectory, syncDirectory, writeFileDurably } from '@aruna/platform'
import type { ListUploadsOptions, MultipartStore, MultipartUpload, PartRecord } from './port.js'
import {
  checkNewUpload,
  checkPartNumber,
  compareUploads,
  isUploadId,
  noSuchUpload,
  selectedUpload,
} from './upload-records.js'

const PART_FILE = /^part-(\d{5})\.json$/

export interface FsMultipartStoreInit {
  /** The store's root; created if missing. One open store per directory at a time. */
  directory: string
}

/**
 * A `MultipartStore` in plain JSON files, so an upload in progress survives a restart.
 *
 * Layout: `uploads/<uploadId>/upload.json` (the upload exists exactly when this file does) and
 * `uploads/<uploadId>/part-<nnnnn>.json`, one file per part, so recording a part writes one small
 * file however many parts there are. Every file is written durably through `tmp/` (`writeFileDurably`:
 * fsynced, renamed into place, its directory fsynced). A deleted upload's directory is first renamed into `tmp/` (one atomic
 * step), then removed; `open` clears `tmp/` and drops upload directories without `upload.json`
 * (a create cut short by a crash). The uploads themselves are also kept in memory for listing.
 */
export class FsMultipartStore implements MultipartStore {
  readonly directory: string
  readonly #uploadsDir: string
  readonly #tmp: string
  readonly #uploads = new Map<string, MultipartUpload>()

  private constructor(directory: string) {
    this.directory = directory
    this.#uploadsDir = join(directory, 'uploads')
    this.#tmp = join(directory, 'tmp')
  }

  /** Opens (or creates) the store and loads the uploads in progress. */
  static async open(init: FsMultipartStoreInit): Promise<FsMultipartStore> {
    const store = new FsMultipartStore(resolve(init.directory))
    await mkdir(store.#uploadsDir, { recursive: true })
    await openTempDirectory(store.#tmp)
    for (const uploadId of await readdir(store.#uploadsDir)) {
      const upload = isUploadId(uploadId)
        ? await readJson<MultipartUpload>(store.#uploadFile(uploadId))
        : undefined
      if (upload === undefined || upload.uploadId !== uploadId) {
        await rm(join(store.#uploadsDir, uploadId), { recursive: true, force: true })
        continue
      }
      store.#uploads.set(uploadId, upload)
    }
    await syncDirectory(store.directory)
    return store
  }

  async createUpload(upload: MultipartUpload): Promise<void> {
    checkNewUpload(upload, this.#uploads.has(upload.uploadId))
    const record = structuredClone(upload)
    // Claim the id before the first await, so two creates of one id cannot both succeed.
    this.#uploads.set(upload.uploadId, record)
    try {
      await mkdir(this.#uploadDir(upload.uploadId))
      await syncDirectory(this.#uploadsDir)
      await this.#writeJson(this.#uploadFile(upload.uploadId), record)
    } catch (err) {
      this.#uploads.delete(upload.uploadId)
      await rm(this.#uploadDir(upload.uploadId), { recursive: true, force: true })
      throw err
    }
  }

  async getUpload(uploadId: string): Promise<MultipartUpload> {
    return structuredClone(this.#upload(uploadId))
  }

  async putPart(uploadId: string, part: PartRecord): Promise<void> {
    checkPartNumber(part.partNumber)
    this.#upload(uploadId)
    try {
      await this.#writeJson(join(this.#uploadDir(uploadId), partFileName(part.partNumber)), part)
    } catch (err) {
      // The upload was completed or aborted while the part was being written.
      if (isMissing(err) || !this.#uploads.has(uploadId)) throw noSuchUpload(uploadId)
      throw err
    }
    if (!this.#uploads.has(uploadId)) throw noSuchUpload(uploadId)
  }

  async *listParts(uploadId: string, options: { afterPartNumber?: number } = {}): AsyncGenerator<PartRecord> {
    this.#upload(uploadId)
    const after = options.afterPartNumber ?? 0
    let names: string[]
    try {
      names = await readdir(this.#uploadDir(uploadId))
    } catch (err) {
      if (isMissing(err)) throw noSuchUpload(uploadId)
      throw err
    }
    const numbers = names
      .map((name) => PART_FILE.exec(name)?.[1])
      .filter((digits): digits is string => digits !== undefined)
      .map(Number)
      .filter((n) => n > after)
      .sort((a, b) => a - b)
    for (const number of numbers) {
      const part = await readJson<PartRecord>(join(this.#uploadDir(uploadId), partFileName(number)))
      if (part !== undefined) yield part
    }
  }

  async *listUploads(bucket: string, options: ListUploadsOptions = {}): AsyncGenerator<MultipartUpload> {
    const selected = [...this.#uploads.values()]
      .filter((u) => selectedUpload(u, bucket, options))
      .sort(compareUploads)
    for (const upload of selected) yield structuredClone(upload)
  }

  async *allUploads(): AsyncGenerator<MultipartUpload> {
    for (const upload of [...this.#uploads.values()]) yield structuredClone(upload)
  }

  async deleteUpload(uploadId: string): Promise<void> {
    this.#upload(uploadId)
    this.#uploads.delete(uploadId)
    const doomed = join(this.#tmp, `${uploadId}.${randomBytes(6).toString('hex')}.deleted`)
    await rename(this.#uploadDir(uploadId), doomed)
    await syncDirectory(this.#uploadsDir)
    await rm(doomed, { recursive: true, force: true })
  }

  #upload(uploadId: string): MultipartUpload {
    const upload = isUploadId(uploadId) ? this.#uploads.get(uploadId) : undefined
    if (upload === undefined) throw noSuchUpload(uploadId)
    return upload
  }

  #uploadDir(uploadId: string): string {
    return join(this.#uploadsDir, uploadId)
  }

  #uploadFile(uploadId: string): string {
    return join(this.#uploadDir(uploadId), 'upload.json')
  }

  /** Writes `value` as JSON at `path` atomically and durably, its temp file in `tmp/`. */
  async #writeJson(path: string, value: unknown): Promise<void> {
    await writeFileDurably(path, JSON.stringify(value), { mode: 0o600, tempDirectory: this.#tmp })
  }
}

function partFileName(partNumber: number): string {
  return `part-${String(partNumber).padStart(5, '0')}.json`
}

/** The parsed file, or undefined when it is missing. Files are renamed into place whole, so bad JSON is damage. */
async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (isMissing(err)) return undefined
    throw err
  }
  try {
    return JSON.parse(text) as T
  } catch (err) {
    throw new Error(`damaged multipart record ${path}`, { cause: err })
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}
