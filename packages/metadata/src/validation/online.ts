/**
 * Online checks, off unless asked for: the root data entity's `cite-as` and every web-based data entity
 * (a File or Dataset whose `@id` is an http(s) URL) should resolve. Each URL gets a HEAD request (a GET
 * when the server refuses HEAD or the HEAD fails), with a timeout of its own; 2xx and 3xx answers count
 * (redirects are not followed: a 3xx says the URL is served). Failures are warnings (`online.unreachable`).
 */
import type { Problem } from '../errors.js'
import type { Entity, JsonValue } from '../port.js'
import { isWebUri, literalText, referenceTarget, valuesOf } from './graph.js'
import { RO_CRATE_RULES } from './rules.js'

export interface OnlineOptions {
  /** The fetch to use (default `globalThis.fetch`): tests and proxies pass their own. */
  fetch?: typeof globalThis.fetch
  /** How long one request may take, in milliseconds (default 5000). */
  timeoutMs?: number
  /** At most this many URLs are checked (default 100); the report says how many were left. */
  maxUrls?: number
  /** How many requests run at once (default 8). */
  concurrency?: number
}

export interface OnlineSummary {
  /** URLs requested. */
  checked: number
  /** URLs left unchecked because of `maxUrls`. */
  unchecked: number
}

interface Target {
  url: string
  entityId: string
  property: string
}

/** The URLs to check: the root's `cite-as`, then the web-based data entities, each URL once. */
export function onlineTargets(json: unknown): Target[] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return []
  const graph = (json as Record<string, JsonValue>)['@graph']
  if (!Array.isArray(graph)) return []
  const entities = graph.filter(
    (item): item is Entity =>
      typeof item === 'object' && item !== null && !Array.isArray(item) && typeof item['@id'] === 'string',
  )
  const descriptor = entities.find((entity) => /(?:^|\/)ro-crate-metadata\.json$/.test(entity['@id']))
  const rootId = descriptor === undefined ? undefined : referenceTarget(descriptor.about as JsonValue)
  const targets: Target[] = []
  const seen = new Set<string>()
  const add = (url: string, entityId: string, property: string) => {
    if (!/^https?:\/\//i.test(url) || seen.has(url)) return
    seen.add(url)
    targets.push({ url, entityId, property })
  }
  const root = entities.find((entity) => entity['@id'] === rootId)
  if (root !== undefined) {
    for (const value of valuesOf(root, 'cite-as')) {
      const url = referenceTarget(value) ?? literalText(value)
      if (url !== undefined) add(url, root['@id'], 'cite-as')
    }
  }
  for (const entity of entities) {
    const id = entity['@id']
    if (id === rootId || entity === descriptor || !isWebUri(id)) continue
    const types = Array.isArray(entity['@type']) ? entity['@type'] : [entity['@type']]
    if (!types.some((type) => type === 'File' || type === 'Dataset' || type === 'MediaObject')) continue
    add(id, id, '@id')
  }
  return targets
}

type Outcome = { ok: true } | { ok: false; reason: string }

/** Checks the crate's URLs; returns the problems (warnings) and how many URLs were checked. */
export async function checkOnline(
  json: unknown,
  options: OnlineOptions = {},
): Promise<{ problems: Problem[]; summary: OnlineSummary }> {
  const targets = onlineTargets(json)
  const limit = Math.max(0, options.maxUrls ?? 100)
  const checked = targets.slice(0, limit)
  const outcomes = new Array<Outcome>(checked.length)
  let next = 0
  const worker = async () => {
    while (next < checked.length) {
      const index = next++
      outcomes[index] = await resolveUrl(checked[index]!.url, options)
    }
  }
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 8, checked.length))
  await Promise.all(Array.from({ length: concurrency }, worker))
  const problems: Problem[] = []
  checked.forEach((target, index) => {
    const outcome = outcomes[index]!
    if (outcome.ok) return
    const what =
      target.property === 'cite-as' ? `The "cite-as" of ${target.entityId}` : 'The web-based data entity'
    problems.push({
      severity: RO_CRATE_RULES['online.unreachable'].severity,
      rule: 'online.unreachable',
      message: `${what} ${target.url} does not resolve: ${outcome.reason}`,
      entityId: target.entityId,
      property: target.property,
    })
  })
  return { problems, summary: { checked: checked.length, unchecked: targets.length - checked.length } }
}

async function resolveUrl(url: string, options: OnlineOptions): Promise<Outcome> {
  const head = await request(url, 'HEAD', options)
  if (head.ok) return { ok: true }
  // Some servers refuse HEAD (405, 501, or 403 for signed URLs) but serve GET; a timeout is final.
  if (head.timedOut) return { ok: false, reason: head.reason }
  const get = await request(url, 'GET', options)
  return get.ok ? { ok: true } : { ok: false, reason: `${head.reason}; ${get.reason}` }
}

interface Answer {
  ok: boolean
  status?: number
  timedOut?: boolean
  reason: string
}

async function request(url: string, method: 'HEAD' | 'GET', options: OnlineOptions): Promise<Answer> {
  const fetch = options.fetch ?? globalThis.fetch
  const timeoutMs = options.timeoutMs ?? 5000
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeoutMs)
  try {
    const response = await fetch(url, { method, redirect: 'manual', signal: controller.signal })
    // Only the status is wanted: never read a body (a GET might be large).
    await response.body?.cancel().catch(() => undefined)
    const ok = response.status >= 200 && response.status < 400
    return { ok, status: response.status, reason: `${method} answered HTTP ${response.status}` }
  } catch (error) {
    if (controller.signal.aborted) {
      return { ok: false, timedOut: true, reason: `no answer to ${method} within ${timeoutMs} ms` }
    }
    return { ok: false, reason: `${method} failed: ${(error as Error).message}` }
  } finally {
    clearTimeout(timer)
  }
}
