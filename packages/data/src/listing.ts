import { DataError } from './errors.js'
import { compareKeys, prefixEnd } from './keys.js'
import type { ListOptions } from './port.js'

/** S3's page limit, and the default page size. */
export const MAX_KEYS = 1000

/** Where a scan starts: at `key` itself (`inclusive`) or just after it. */
export interface ScanStart {
  key: string
  inclusive: boolean
}

/**
 * An ordered store's range read: entries whose keys are at or after `start` in UTF-8 binary order,
 * lazily. An LMDB `getRange({ start })` or a binary search over a sorted array both fit.
 */
export type KeyScan<T> = (start: ScanStart) => Iterable<readonly [string, T]>

export interface Page<T> {
  entries: Array<readonly [string, T]>
  commonPrefixes: string[]
  isTruncated: boolean
  nextContinuationToken?: string
}

/**
 * One ListObjectsV2 page over an ordered key space. Keys under a common prefix are skipped with one
 * new seek past the prefix, so a page costs about its own size in entries read plus one seek per
 * common prefix, however many keys the bucket holds.
 */
export function listPage<T>(scan: KeyScan<T>, options: ListOptions = {}): Page<T> {
  const prefix = options.prefix ?? ''
  const delimiter = options.delimiter ?? ''
  const maxKeys = pageSize(options.maxKeys)
  const page: Page<T> = { entries: [], commonPrefixes: [], isTruncated: false }
  if (maxKeys === 0) return page

  let start: ScanStart | undefined = firstPosition(options, prefix)
  let resume: ScanStart | undefined
  let count = 0
  seek: while (start !== undefined) {
    for (const [key, value] of scan(start)) {
      if (!key.startsWith(prefix)) break seek
      const cut = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length)
      if (count === maxKeys) {
        page.isTruncated = true
        break seek
      }
      count++
      if (cut === -1) {
        page.entries.push([key, value])
        resume = { key, inclusive: false }
        continue
      }
      const common = key.slice(0, cut + delimiter.length)
      page.commonPrefixes.push(common)
      const end = prefixEnd(common)
      resume = end === undefined ? undefined : { key: end, inclusive: true }
      start = resume
      continue seek
    }
    break
  }
  if (page.isTruncated && resume !== undefined) page.nextContinuationToken = encodeToken(resume)
  else page.isTruncated = false
  return page
}

function pageSize(maxKeys: number | undefined): number {
  if (maxKeys === undefined) return MAX_KEYS
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 0) {
    throw new DataError('InvalidArgument', `max-keys must be a non-negative integer, got ${maxKeys}`)
  }
  return Math.min(maxKeys, MAX_KEYS)
}

function firstPosition(options: ListOptions, prefix: string): ScanStart {
  if (options.continuationToken !== undefined) return decodeToken(options.continuationToken)
  const after = options.startAfter
  if (after !== undefined && compareKeys(after, prefix) >= 0) return { key: after, inclusive: false }
  return { key: prefix, inclusive: true }
}

/** Continuation tokens are opaque to clients: base64url of where the next page starts. */
export function encodeToken(start: ScanStart): string {
  return Buffer.from(`${start.inclusive ? 'f' : 'a'}${start.key}`, 'utf8').toString('base64url')
}

export function decodeToken(token: string): ScanStart {
  const text = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : ''
  const mode = text[0]
  if (text.length < 2 || (mode !== 'f' && mode !== 'a') || text.includes('\ufffd')) {
    throw new DataError('InvalidArgument', 'the continuation token is not valid')
  }
  return { key: text.slice(1), inclusive: mode === 'f' }
}
