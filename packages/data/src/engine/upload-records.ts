import { DataError } from '../errors.js'
import { compareKeys } from '../keys.js'
import type { ListUploadsOptions, MultipartUpload } from './port.js'

const UPLOAD_ID = /^[A-Za-z0-9_-]{1,128}$/

/** S3's part number range. */
export const MIN_PART_NUMBER = 1
export const MAX_PART_NUMBER = 10_000

/** Whether `uploadId` has the shape of an upload id (so it is safe as a file name, among others). */
export function isUploadId(uploadId: string): boolean {
  return typeof uploadId === 'string' && UPLOAD_ID.test(uploadId)
}

export function noSuchUpload(uploadId: string): DataError {
  return new DataError('NoSuchUpload', `no upload ${JSON.stringify(String(uploadId)).slice(0, 140)}`)
}

export function checkNewUpload(upload: MultipartUpload, exists: boolean): void {
  if (!isUploadId(upload.uploadId)) throw new DataError('InvalidArgument', 'malformed upload id')
  if (exists) throw new DataError('InvalidArgument', `upload ${upload.uploadId} already exists`)
}

export function checkPartNumber(partNumber: number): void {
  if (!Number.isSafeInteger(partNumber) || partNumber < MIN_PART_NUMBER || partNumber > MAX_PART_NUMBER) {
    throw new DataError(
      'InvalidArgument',
      `part number must be an integer between ${MIN_PART_NUMBER} and ${MAX_PART_NUMBER}, inclusive`,
    )
  }
}

/** Key order (UTF-8 binary), then upload id order: the order `listUploads` yields. */
export function compareUploads(a: MultipartUpload, b: MultipartUpload): number {
  return compareKeys(a.key, b.key) || (a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0)
}

/** Whether an upload of `bucket` is selected by the prefix and lies after the markers. */
export function selectedUpload(
  upload: MultipartUpload,
  bucket: string,
  options: ListUploadsOptions,
): boolean {
  if (upload.bucket !== bucket || !upload.key.startsWith(options.prefix ?? '')) return false
  if (options.keyMarker === undefined) return true
  const order = compareKeys(upload.key, options.keyMarker)
  if (order !== 0) return order > 0
  return options.uploadIdMarker !== undefined && upload.uploadId > options.uploadIdMarker
}
