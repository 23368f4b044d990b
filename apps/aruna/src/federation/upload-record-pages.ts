/**
 * Pages of a node's multipart upload records, as another node pulls them (the upload records
 * protocol): in upload id order, each upload's record before its parts in part number order, a
 * tombstone where its upload would be. A page ends after `limit` records or about
 * `MAX_MESSAGE_CHUNKS` chunk references, and its `next` is the cursor of its last record.
 */
import {
  isDataError,
  type MultipartStore,
  type MultipartUpload,
  type UploadCursor,
  type UploadPart,
  type UploadRecordsRequest,
  type UploadTombstone,
} from '@aruna/data'

/** Chunk references per message, so a page of large parts stays a few MiB (one record always goes). */
export const MAX_MESSAGE_CHUNKS = 50_000

export interface UploadRecordsPage {
  uploads: MultipartUpload[]
  parts: UploadPart[]
  tombstones: UploadTombstone[]
  next?: UploadCursor
}

export async function uploadRecordsPage(
  local: MultipartStore,
  tombstones: readonly UploadTombstone[],
  request: Extract<UploadRecordsRequest, { kind: 'pull' }>,
): Promise<UploadRecordsPage> {
  const entries = new Map<string, MultipartUpload | UploadTombstone>()
  for await (const upload of local.allUploads()) entries.set(upload.uploadId, upload)
  for (const tombstone of tombstones) entries.set(tombstone.uploadId, tombstone)
  const after = request.after
  const ids = [...entries.keys()]
    .filter((id) => request.uploadId === undefined || id === request.uploadId)
    .filter((id) => after === undefined || id >= after.uploadId)
    .sort()
  const page: UploadRecordsPage = { uploads: [], parts: [], tombstones: [] }
  let count = 0
  let chunks = 0
  let last: UploadCursor | undefined
  const full = (): boolean => count >= request.limit || chunks >= MAX_MESSAGE_CHUNKS
  const ended = (): UploadRecordsPage => (last === undefined ? page : { ...page, next: last })
  for (const id of ids) {
    const entry = entries.get(id) as MultipartUpload | UploadTombstone
    const resumed = after !== undefined && id === after.uploadId
    if (!('bucket' in entry)) {
      if (resumed) continue
      if (full()) return ended()
      page.tombstones.push(entry)
      count++
      last = { uploadId: id, partNumber: 0 }
      continue
    }
    if (!resumed) {
      if (full()) return ended()
      page.uploads.push(entry)
      count++
      last = { uploadId: id, partNumber: 0 }
    }
    try {
      const afterPartNumber = resumed ? after.partNumber : 0
      for await (const part of local.listParts(id, { afterPartNumber })) {
        if (full()) return ended()
        page.parts.push({ uploadId: id, part })
        count++
        chunks += part.chunks.length
        last = { uploadId: id, partNumber: part.partNumber }
      }
    } catch (err) {
      // Completed or aborted while the page was read.
      if (!isDataError(err, 'NoSuchUpload')) throw err
    }
  }
  return page
}
