/**
 * What the store checks and writes around each change: the caller's message and author, the record that
 * goes into the change message, the input of `createResource`, and the values Automerge cannot hold.
 * Every refusal is a `MetadataError`.
 */
import { ImmutableString } from '@automerge/automerge'
import type { AutomergeUrl, DocHandle, Repo } from '@automerge/automerge-repo'
import { type CheckedCreateInit, checkCreateInit as checkSharedCreateInit } from '../crate-edits.js'
import { isMetadataError, MetadataError } from '../errors.js'
import type { ChangeOptions, CreateResourceInit, JsonValue } from '../port.js'
import { encodeChangeRecord } from './history.js'
import { unstorableKey } from './values.js'

/** `createResource`'s input checked as both stores do, and its properties as Automerge can hold them. */
export function checkCreateInit(
  init: CreateResourceInit,
  freshId: (requested: unknown) => string,
): CheckedCreateInit {
  const checked = checkSharedCreateInit(init, freshId)
  checkStorable(checked.properties, 'InvalidInput')
  return checked
}

/** An immutable string, for a value nobody edits concurrently. */
export function imm(text: string): ImmutableString {
  return new ImmutableString(text)
}

/** Automerge change options carrying the record (see `history.ts`). */
export function changeOptions(record: { message: string; actor: string; author?: string; time: number }): {
  message: string
  time: number
} {
  return { message: encodeChangeRecord(record), time: Math.floor(record.time / 1000) }
}

/** The message and author of a change, checked; `fallback` is the message when the caller gave none. */
export function changeRecordOf(
  options: ChangeOptions | undefined,
  fallback: string,
): { message: string; author?: string } {
  const message = options?.message
  if (message !== undefined && typeof message !== 'string') {
    throw new MetadataError('InvalidInput', 'A change message must be text')
  }
  const author = options?.author
  if (author !== undefined && (typeof author !== 'string' || author === '' || author.length > 1024)) {
    throw new MetadataError('InvalidInput', 'A change author must be a non-empty text')
  }
  return author === undefined ? { message: message ?? fallback } : { message: message ?? fallback, author }
}

/** Throws (`code`) when the value has a key Automerge refuses. */
export function checkStorable(value: JsonValue, code: 'InvalidInput' | 'InvalidCrate'): void {
  const at = unstorableKey(value)
  if (at === undefined) return
  const message = `The key "__proto__" (at ${at.slice(1) || 'the top'}) cannot be stored`
  throw new MetadataError(
    code,
    message,
    code === 'InvalidCrate' ? [{ severity: 'error', rule: 'crate.json', message }] : undefined,
  )
}

/** Automerge refuses a few values with its own errors; callers only ever see a `MetadataError`. */
export function storeError(error: unknown, code: 'InvalidInput'): MetadataError {
  if (isMetadataError(error)) return error
  return new MetadataError(code, `The value cannot be stored: ${(error as Error)?.message ?? String(error)}`)
}

/** The document at `url`, ready, from the Repo's memory, its storage or its peers; undefined after the timeout. */
export async function findDocument<T>(
  repo: Repo,
  url: string,
  timeoutMs: number,
): Promise<DocHandle<T> | undefined> {
  try {
    const handle = await repo.find<T>(url as AutomergeUrl, {
      allowableStates: ['ready', 'unavailable'],
      signal: AbortSignal.timeout(timeoutMs),
    })
    return handle.isReady() ? handle : undefined
  } catch {
    // Aborted (timeout), deleted or refused by the Repo.
    return undefined
  }
}
