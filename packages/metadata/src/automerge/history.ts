/**
 * Who changed a resource document, when and why, from its Automerge history. Every change the store
 * makes carries a message that is a small JSON record (`ChangeRecord`): the caller's message, the user
 * on whose behalf it was made (`author`, e.g. the realm user id), the store's actor (the node), and the
 * time in milliseconds. Automerge itself records the change's actor id (one per replica of the document)
 * and its time in seconds; a change that came from elsewhere without our record is reported with those.
 */
import { type DecodedChange, getHistory } from '@automerge/automerge'
import type { HistoryEntry } from '../port.js'

const RECORD_VERSION = 1

export interface ChangeRecord {
  message: string
  /** The node (or other writer) that made the change. */
  actor: string
  /** The user on whose behalf it was made, when known. */
  author?: string
  /** Milliseconds since the epoch. */
  time: number
}

/** The change message to write: `{"v":1,"message":…,"actor":…,"author":…,"time":…}`. */
export function encodeChangeRecord(record: ChangeRecord): string {
  return JSON.stringify({ v: RECORD_VERSION, ...record })
}

export function decodeChangeRecord(message: string | null | undefined): Partial<ChangeRecord> {
  if (typeof message !== 'string' || !message.startsWith('{')) return message ? { message } : {}
  try {
    const parsed: unknown = JSON.parse(message)
    if (typeof parsed !== 'object' || parsed === null || (parsed as { v?: unknown }).v !== RECORD_VERSION) {
      return { message }
    }
    const record = parsed as Record<string, unknown>
    const decoded: Partial<ChangeRecord> = {}
    if (typeof record.message === 'string') decoded.message = record.message
    if (typeof record.actor === 'string') decoded.actor = record.actor
    if (typeof record.author === 'string') decoded.author = record.author
    if (typeof record.time === 'number' && Number.isFinite(record.time)) decoded.time = record.time
    return decoded
  } catch {
    return { message }
  }
}

/**
 * The document's changes, oldest first, without the empty change automerge-repo makes when it creates
 * a document. The order is causal (a change after those it builds on) and, among concurrent changes, by
 * time then hash, so every replica lists one history in one order.
 */
export function historyOf(doc: object): HistoryEntry[] {
  const entries: HistoryEntry[] = []
  for (const change of causalOrder(getHistory(doc).map((state) => state.change))) {
    if (change.ops.length === 0 && !change.message) continue
    const record = decodeChangeRecord(change.message)
    const entry: HistoryEntry = {
      actor: record.actor ?? change.actor,
      time: record.time ?? change.time * 1000,
      message: record.message ?? '(no message)',
      change: change.hash,
    }
    if (record.author !== undefined) entry.author = record.author
    entries.push(entry)
  }
  return entries
}

/** Kahn's topological sort, always taking the earliest (time, then hash) change whose deps are out. */
function causalOrder(changes: DecodedChange[]): DecodedChange[] {
  const byHash = new Map(changes.map((change) => [change.hash, change]))
  const waiting = new Map<string, number>()
  const dependents = new Map<string, string[]>()
  for (const change of changes) {
    const deps = change.deps.filter((dep) => byHash.has(dep))
    waiting.set(change.hash, deps.length)
    for (const dep of deps) {
      const list = dependents.get(dep)
      if (list === undefined) dependents.set(dep, [change.hash])
      else list.push(change.hash)
    }
  }
  const key = (change: DecodedChange): string => {
    const time = decodeChangeRecord(change.message).time ?? change.time * 1000
    return `${String(Math.max(0, time)).padStart(16, '0')}:${change.hash}`
  }
  const ready = new MinHeap<DecodedChange>(key)
  for (const change of changes) if (waiting.get(change.hash) === 0) ready.push(change)
  const ordered: DecodedChange[] = []
  for (let next = ready.pop(); next !== undefined; next = ready.pop()) {
    ordered.push(next)
    for (const hash of dependents.get(next.hash) ?? []) {
      const left = (waiting.get(hash) ?? 1) - 1
      waiting.set(hash, left)
      if (left === 0) ready.push(byHash.get(hash)!)
    }
  }
  return ordered
}

class MinHeap<T> {
  readonly #items: { key: string; value: T }[] = []

  constructor(private readonly keyOf: (value: T) => string) {}

  push(value: T): void {
    const items = this.#items
    items.push({ key: this.keyOf(value), value })
    for (let index = items.length - 1; index > 0; ) {
      const parent = (index - 1) >>> 1
      if (items[parent]!.key <= items[index]!.key) break
      ;[items[parent], items[index]] = [items[index]!, items[parent]!]
      index = parent
    }
  }

  pop(): T | undefined {
    const items = this.#items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top?.value
    items[0] = last
    for (let index = 0; ; ) {
      const left = index * 2 + 1
      const right = left + 1
      let smallest = index
      if (left < items.length && items[left]!.key < items[smallest]!.key) smallest = left
      if (right < items.length && items[right]!.key < items[smallest]!.key) smallest = right
      if (smallest === index) break
      ;[items[smallest], items[index]] = [items[index]!, items[smallest]!]
      index = smallest
    }
    return top.value
  }
}
