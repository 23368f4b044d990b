import type { ListUploadsOptions, MultipartStore, MultipartUpload, PartRecord } from './port.js'
import {
  checkNewUpload,
  checkPartNumber,
  compareUploads,
  isUploadId,
  noSuchUpload,
  selectedUpload,
} from './upload-records.js'

interface Entry {
  upload: MultipartUpload
  parts: Map<number, PartRecord>
}

/**
 * A `MultipartStore` in memory, for tests and for nodes that accept losing uploads in progress on a
 * restart. Records are copied in and out.
 */
export class MemoryMultipartStore implements MultipartStore {
  readonly #uploads = new Map<string, Entry>()

  async createUpload(upload: MultipartUpload): Promise<void> {
    checkNewUpload(upload, this.#uploads.has(upload.uploadId))
    this.#uploads.set(upload.uploadId, { upload: structuredClone(upload), parts: new Map() })
  }

  async getUpload(uploadId: string): Promise<MultipartUpload> {
    return structuredClone(this.#entry(uploadId).upload)
  }

  async putPart(uploadId: string, part: PartRecord): Promise<void> {
    checkPartNumber(part.partNumber)
    this.#entry(uploadId).parts.set(part.partNumber, structuredClone(part))
  }

  async *listParts(uploadId: string, options: { afterPartNumber?: number } = {}): AsyncGenerator<PartRecord> {
    const entry = this.#entry(uploadId)
    const after = options.afterPartNumber ?? 0
    const numbers = [...entry.parts.keys()].filter((n) => n > after).sort((a, b) => a - b)
    for (const number of numbers) {
      const part = entry.parts.get(number)
      if (part !== undefined) yield structuredClone(part)
    }
  }

  async *listUploads(bucket: string, options: ListUploadsOptions = {}): AsyncGenerator<MultipartUpload> {
    const selected = [...this.#uploads.values()]
      .map((entry) => entry.upload)
      .filter((upload) => selectedUpload(upload, bucket, options))
      .sort(compareUploads)
    for (const upload of selected) yield structuredClone(upload)
  }

  async *allUploads(): AsyncGenerator<MultipartUpload> {
    for (const entry of [...this.#uploads.values()]) yield structuredClone(entry.upload)
  }

  async deleteUpload(uploadId: string): Promise<void> {
    this.#entry(uploadId)
    this.#uploads.delete(uploadId)
  }

  #entry(uploadId: string): Entry {
    const entry = isUploadId(uploadId) ? this.#uploads.get(uploadId) : undefined
    if (entry === undefined) throw noSuchUpload(uploadId)
    return entry
  }
}
