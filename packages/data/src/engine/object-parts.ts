import { DataError } from '../errors.js'
import type { Checksums, ChunkRef, Manifest, ManifestPart } from '../port.js'
import type { ByteRange } from './content-reader.js'
import { unquoteEtag } from './preconditions.js'
import { MAX_PART_NUMBER, MIN_PART_NUMBER } from './upload-records.js'

/**
 * The parts of a version as S3 shows them: those a multipart completion recorded, else one part of
 * the whole size (a single-part object, or a multipart one completed before parts were recorded).
 */
export function partsOf(manifest: Manifest): ManifestPart[] {
  return manifest.parts ?? [{ partNumber: 1, size: manifest.size, checksums: manifest.checksums }]
}

/** Part `partNumber` of a version and where its bytes lie (no range for an empty part). */
export interface SelectedPart {
  part: ManifestPart
  range?: ByteRange
  /** How many parts the version has (S3 `x-amz-mp-parts-count`). */
  partsCount: number
}

/**
 * GetObject/HeadObject `partNumber`: the part with that number as it was uploaded (numbers may have
 * gaps). A number the object has no part for is `InvalidPartNumber` (416), as S3 answers.
 */
export function selectPart(manifest: Manifest, partNumber: number): SelectedPart {
  const parts = partsOf(manifest)
  let start = 0
  for (const part of parts) {
    if (part.partNumber === partNumber) {
      const selected: SelectedPart = { part, partsCount: parts.length }
      if (part.size > 0) selected.range = { start, end: start + part.size - 1 }
      return selected
    }
    start += part.size
  }
  throw new DataError('InvalidPartNumber', 'the requested partnumber is not satisfiable')
}

/** A `partNumber` query value: an integer from 1 to 10000, else `InvalidArgument`. */
export function parsePartNumber(value: string): number {
  const text = value.trim()
  const number = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN
  if (!(number >= MIN_PART_NUMBER && number <= MAX_PART_NUMBER)) {
    throw new DataError(
      'InvalidArgument',
      `part number must be an integer between ${MIN_PART_NUMBER} and ${MAX_PART_NUMBER}, inclusive`,
    )
  }
  return number
}

/**
 * The chunks and checksums (MD5 included) of exactly `length` bytes from `start` when the version
 * already records them: the whole of a single-part object, or one part of a multipart object (a part's
 * chunks start and end at its bounds). UploadPartCopy of such a range needs no byte read.
 */
export function recordedContent(
  manifest: Manifest,
  start: number,
  length: number,
): { chunks: ChunkRef[]; checksums: Checksums } | undefined {
  let checksums: Checksums | undefined
  if (manifest.parts === undefined) {
    // A single-part object's ETag is its MD5 (not so for a multipart one completed before parts were recorded).
    const whole = start === 0 && length === manifest.size
    if (whole && unquoteEtag(manifest.etag) === manifest.checksums.md5) checksums = manifest.checksums
  } else {
    let offset = 0
    for (const part of manifest.parts) {
      if (offset === start && part.size === length) checksums = part.checksums
      offset += part.size
    }
  }
  if (checksums === undefined) return undefined
  const chunks: ChunkRef[] = []
  let offset = 0
  for (const chunk of manifest.chunks) {
    const end = offset + chunk.size
    if (offset >= start && end <= start + length) chunks.push({ ...chunk })
    else if (offset < start + length && end > start) return undefined
    offset = end
  }
  return { chunks, checksums: { ...checksums } }
}
