import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { DataError } from './errors.js'
import { compareKeys, prefixEnd } from './keys.js'
import type { ListOptions, ListResult, ObjectSummary } from './port.js'

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

// ---------------------------------------------------------------------------------------------------
// Listings filtered by what the caller may read

/** Whether the caller may read `key` (an authorization per key; a refusal is `false`). */
export type KeyVisibility = (key: string) => Promise<boolean>

/** Keys examined (authorized) per request at most, so a request's cost is bounded whatever is hidden. */
export const VISIBILITY_BUDGET = 10 * MAX_KEYS

export interface VisibleListOptions {
  prefix: string
  delimiter: string
  maxKeys: number
  /** Where the page starts (from a continuation token, a marker or start-after). */
  start: ScanStart
  /** Keys examined at most (default `VISIBILITY_BUDGET`). */
  budget?: number
}

export interface VisiblePage {
  objects: ObjectSummary[]
  commonPrefixes: string[]
  isTruncated: boolean
  /**
   * Where the next page starts, present exactly when `isTruncated`. `hidden` tells that it was derived
   * from a key the caller may not read (the budget ran out among hidden keys): it must then only go
   * back to the client sealed (`sealPosition`).
   */
  next?: ScanStart & { hidden: boolean }
  /** Keys examined. */
  examined: number
}

/**
 * One ListObjects page of only the keys `visible` admits, over `list` (an unfiltered ListObjectsV2).
 * A common prefix is shown when it holds at least one visible key. The page is filled with visible
 * keys; a page whose last item is followed only by hidden keys is not truncated. At most `budget` keys
 * are examined: when it runs out the page ends early, truncated, at the last key examined.
 */
export async function listVisible(
  list: (options: ListOptions) => Promise<ListResult>,
  visible: KeyVisibility,
  options: VisibleListOptions,
): Promise<VisiblePage> {
  const { prefix, delimiter } = options
  const max = pageSize(options.maxKeys)
  let budget = options.budget ?? VISIBILITY_BUDGET
  const page: VisiblePage = { objects: [], commonPrefixes: [], isTruncated: false, examined: 0 }
  if (max === 0) return page
  const start = compareKeys(options.start.key, prefix) < 0 ? { key: prefix, inclusive: true } : options.start
  // After the last item shown: where the next page starts when this one is full.
  let afterShown: ScanStart | undefined = start
  let pos: ScanStart | undefined = start
  const full = (): boolean => page.objects.length + page.commonPrefixes.length === max
  const stop = (at: ScanStart | undefined, hidden: boolean): VisiblePage => {
    page.examined = (options.budget ?? VISIBILITY_BUDGET) - budget
    if (at !== undefined) {
      page.isTruncated = true
      page.next = { ...at, hidden }
    }
    return page
  }
  while (pos !== undefined) {
    const batch = await list({
      prefix,
      delimiter,
      maxKeys: MAX_KEYS,
      // The very start of the key space has no token (a token names a key).
      ...(pos.key === '' ? {} : { continuationToken: encodeToken(pos) }),
    })
    for (const item of ordered(batch)) {
      if (budget <= 0) return full() ? stop(afterShown, false) : stop(pos, true)
      if (typeof item !== 'string') {
        budget--
        pos = { key: item.key, inclusive: false }
        if (!(await visible(item.key))) continue
        if (full()) return stop(afterShown, false)
        page.objects.push(item)
        afterShown = pos
        continue
      }
      const from: ScanStart = pos.key.startsWith(item) ? pos : { key: item, inclusive: true }
      const probe = await anyVisible(list, visible, item, from, budget)
      budget -= probe.examined
      const end = prefixEnd(item)
      const after = end === undefined ? undefined : { key: end, inclusive: true }
      if (probe.found) {
        if (full()) return stop(afterShown, false)
        page.commonPrefixes.push(item)
        afterShown = after
        pos = after
      } else if (probe.resume !== undefined) {
        return full() ? stop(afterShown, false) : stop(probe.resume, true)
      } else {
        pos = after
      }
      if (pos === undefined) return stop(undefined, false)
    }
    if (!batch.isTruncated) break
  }
  return stop(undefined, false)
}

/** The objects and common prefixes of a page, merged in key order (prefixes as strings). */
function ordered(result: ListResult): Array<ObjectSummary | string> {
  const items: Array<ObjectSummary | string> = []
  let o = 0
  let p = 0
  while (o < result.objects.length || p < result.commonPrefixes.length) {
    const object = result.objects[o]
    const common = result.commonPrefixes[p]
    if (common === undefined || (object !== undefined && compareKeys(object.key, common) < 0)) {
      items.push(object as ObjectSummary)
      o++
    } else {
      items.push(common)
      p++
    }
  }
  return items
}

/** Whether a key under `common` from `from` on is visible, examining at most `budget` keys. */
async function anyVisible(
  list: (options: ListOptions) => Promise<ListResult>,
  visible: KeyVisibility,
  common: string,
  from: ScanStart,
  budget: number,
): Promise<{ found: boolean; examined: number; resume?: ScanStart }> {
  let examined = 0
  let pos = from
  for (;;) {
    if (examined >= budget) return { found: false, examined, resume: pos }
    const batch = await list({
      prefix: common,
      maxKeys: Math.min(MAX_KEYS, budget - examined),
      continuationToken: encodeToken(pos),
    })
    for (const object of batch.objects) {
      examined++
      pos = { key: object.key, inclusive: false }
      if (await visible(object.key)) return { found: true, examined }
    }
    if (!batch.isTruncated) return { found: false, examined }
  }
}

/** A per-process key: positions sealed with it are opaque to clients (and end with a restart). */
const SEAL_KEY = randomBytes(32)
const SEALED = 's.'

/**
 * A listing position as an opaque string (AES-256-GCM): for continuation tokens and markers that
 * would otherwise name a key the caller may not read.
 */
export function sealPosition(start: ScanStart): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', SEAL_KEY, iv)
  const body = Buffer.concat([cipher.update(encodeToken(start), 'utf8'), cipher.final()])
  return `${SEALED}${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`
}

/** The position of a `sealPosition` string, or `undefined` when `text` is not one (of this process). */
export function unsealPosition(text: string): ScanStart | undefined {
  if (!text.startsWith(SEALED)) return undefined
  const raw = Buffer.from(text.slice(SEALED.length), 'base64url')
  if (raw.length < 29) return undefined
  try {
    const decipher = createDecipheriv('aes-256-gcm', SEAL_KEY, raw.subarray(0, 12))
    decipher.setAuthTag(raw.subarray(12, 28))
    const token = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
    return decodeToken(token)
  } catch {
    return undefined
  }
}

/** Where a ListObjectsV2 page starts: its continuation token (plain or sealed), else start-after. */
export function startOf(options: ListOptions): ScanStart {
  if (options.continuationToken !== undefined) return positionOfToken(options.continuationToken)
  return firstPosition(options, options.prefix ?? '')
}

/** Where a ListObjectsV2 continuation token (plain or sealed) starts. */
export function positionOfToken(token: string): ScanStart {
  return unsealPosition(token) ?? decodeToken(token)
}

/** The token that goes back to the client for `next`: sealed when it comes from a hidden key. */
export function tokenOf(next: ScanStart & { hidden: boolean }): string {
  const { hidden, ...start } = next
  return hidden ? sealPosition(start) : encodeToken(start)
}
