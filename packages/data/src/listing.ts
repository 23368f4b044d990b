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

/**
 * Hidden entries a version or upload listing skips per request at most (then it ends, truncated, with
 * a sealed marker). A mutable setting so tests can lower it.
 */
export const LISTING_LIMITS = { budget: VISIBILITY_BUDGET }

/** What the caller may read of a whole "directory" of keys (see `SubtreeAccess` in the S3 edge). */
export type SubtreeAccess = 'all' | 'none' | 'some'

/**
 * What the caller may read of the keys under a key prefix ending with `/` (`''`: the whole bucket),
 * for certain: `all`, `none`, else `some`.
 */
export type DirectoryAccess = (directory: string) => Promise<SubtreeAccess>

export interface VisibleListOptions {
  prefix: string
  delimiter: string
  maxKeys: number
  /** Where the page starts (from a continuation token, a marker or start-after). */
  start: ScanStart
  /** Keys examined at most (default `VISIBILITY_BUDGET`); a directory question counts as one. */
  budget?: number
  /**
   * When the authorizer can answer for a directory: one question for the listing's directory
   * (`all`: no per-key check at all; `none`: an empty page), and for the directories of a hidden
   * key, so a directory denied as a whole is skipped with one seek instead of key by key.
   */
  directory?: DirectoryAccess
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
  /** Keys examined (authorizations and directory questions). */
  examined: number
}

/** The verdict on one key: shown, or hidden (and then maybe a whole directory to jump over). */
interface Verdict {
  visible: boolean
  /** Where to go on after a hidden directory (`null`: nothing follows it). */
  skipTo?: ScanStart | null
}

/** Per-request judgement of keys, with a budget and a cache of directory answers. */
class Judge {
  budget: number
  readonly #visible: KeyVisibility
  readonly #directory: DirectoryAccess | undefined
  readonly #directories = new Map<string, SubtreeAccess>()
  /** Directories at or above this length are known to be `some` (the listing's own). */
  #from = 0
  all = false

  constructor(visible: KeyVisibility, directory: DirectoryAccess | undefined, budget: number) {
    this.#visible = visible
    this.#directory = directory
    this.budget = budget
  }

  /** Asks once for the listing's directory (the prefix up to its last `/`). */
  async start(prefix: string): Promise<SubtreeAccess> {
    if (this.#directory === undefined) return 'some'
    const directory = prefix.slice(0, prefix.lastIndexOf('/') + 1)
    this.budget--
    const access = await this.#directory(directory)
    this.#from = directory.length
    this.all = access === 'all'
    return access
  }

  async key(key: string): Promise<Verdict> {
    if (this.all) return { visible: true }
    this.budget--
    if (await this.#visible(key)) return { visible: true }
    if (this.#directory === undefined) return { visible: false }
    // The shallowest directory of the key (below the listing's) that is hidden as a whole.
    for (let cut = key.indexOf('/', this.#from); cut !== -1; cut = key.indexOf('/', cut + 1)) {
      const directory = key.slice(0, cut + 1)
      let access = this.#directories.get(directory)
      if (access === undefined) {
        if (this.budget <= 0) break
        this.budget--
        access = await this.#directory(directory)
        this.#directories.set(directory, access)
      }
      if (access === 'none') {
        const end = prefixEnd(directory)
        return { visible: false, skipTo: end === undefined ? null : { key: end, inclusive: true } }
      }
    }
    return { visible: false }
  }
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
  const initial = options.budget ?? VISIBILITY_BUDGET
  const judge = new Judge(visible, options.directory, initial)
  const page: VisiblePage = { objects: [], commonPrefixes: [], isTruncated: false, examined: 0 }
  if (max === 0) return page
  if ((await judge.start(prefix)) === 'none') {
    page.examined = initial - judge.budget
    return page
  }
  const start = compareKeys(options.start.key, prefix) < 0 ? { key: prefix, inclusive: true } : options.start
  // After the last item shown: where the next page starts when this one is full.
  let afterShown: ScanStart | undefined = start
  let pos: ScanStart | undefined = start
  const full = (): boolean => page.objects.length + page.commonPrefixes.length === max
  const stop = (at: ScanStart | undefined, hidden: boolean): VisiblePage => {
    page.examined = initial - judge.budget
    if (at !== undefined) {
      page.isTruncated = true
      page.next = { ...at, hidden }
    }
    return page
  }
  scan: while (pos !== undefined) {
    const batch = await list({
      prefix,
      delimiter,
      maxKeys: MAX_KEYS,
      // The very start of the key space has no token (a token names a key).
      ...(pos.key === '' ? {} : { continuationToken: encodeToken(pos) }),
    })
    for (const item of ordered(batch)) {
      if (judge.budget <= 0 && !judge.all) return full() ? stop(afterShown, false) : stop(pos, true)
      if (typeof item !== 'string') {
        pos = { key: item.key, inclusive: false }
        const verdict = await judge.key(item.key)
        if (!verdict.visible) {
          if (verdict.skipTo === undefined) continue
          pos = verdict.skipTo ?? undefined
          continue scan
        }
        if (full()) return stop(afterShown, false)
        page.objects.push(item)
        afterShown = pos
        continue
      }
      const from: ScanStart = pos.key.startsWith(item) ? pos : { key: item, inclusive: true }
      const probe = await anyVisible(list, judge, item, from)
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
        pos = probe.skipTo === undefined ? after : (probe.skipTo ?? undefined)
        if (pos !== undefined && (after === undefined || compareKeys(pos.key, after.key) > 0)) continue scan
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

/**
 * Whether a key under `common` from `from` on is visible, within the judge's budget (`resume`: where
 * it ran out). A hidden directory reaching past `common` ends the search there (`skipTo`).
 */
async function anyVisible(
  list: (options: ListOptions) => Promise<ListResult>,
  judge: Judge,
  common: string,
  from: ScanStart,
): Promise<{ found: boolean; resume?: ScanStart; skipTo?: ScanStart | null }> {
  let pos = from
  search: for (;;) {
    if (judge.budget <= 0 && !judge.all) return { found: false, resume: pos }
    const batch = await list({
      prefix: common,
      maxKeys: judge.all ? 1 : Math.min(MAX_KEYS, judge.budget),
      continuationToken: encodeToken(pos),
    })
    for (const object of batch.objects) {
      if (judge.budget <= 0 && !judge.all) return { found: false, resume: pos }
      pos = { key: object.key, inclusive: false }
      const verdict = await judge.key(object.key)
      if (verdict.visible) return { found: true }
      if (verdict.skipTo === undefined) continue
      if (verdict.skipTo === null || !verdict.skipTo.key.startsWith(common)) {
        return { found: false, skipTo: verdict.skipTo }
      }
      pos = verdict.skipTo
      continue search
    }
    if (!batch.isTruncated) return { found: false }
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
