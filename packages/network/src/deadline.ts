import { NetworkError } from './errors.js'
import type { AbortOptions, DeadlineOptions } from './port.js'

/**
 * One signal for "the caller gave up": it aborts with a `NetworkError` — `Timeout` when `timeoutMs`
 * elapses, `Aborted` when the caller's signal fires — so that whatever awaits it can reject with
 * `signal.reason` as is. `clear()` releases the timer and the listener once the call is done.
 */
export interface Deadline {
  readonly signal: AbortSignal
  clear(): void
}

/** Checks `timeoutMs` (positive; `Infinity` for none), `InvalidArgument` otherwise. */
export function checkTimeout(timeoutMs: unknown): number {
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs <= 0) {
    throw new NetworkError('InvalidArgument', 'timeoutMs must be a positive number')
  }
  return timeoutMs
}

/** Throws `Aborted` when `options.signal` has already fired. */
export function throwIfAborted(options: AbortOptions | undefined, what: string): void {
  if (options?.signal?.aborted === true) {
    throw new NetworkError('Aborted', `${what} aborted`, { cause: options.signal.reason })
  }
}

/** Starts a deadline for `what` from the caller's options. Throws `Aborted` if the signal already fired. */
export function startDeadline(
  options: DeadlineOptions | undefined,
  defaultTimeoutMs: number,
  what: string,
): Deadline {
  const timeoutMs = checkTimeout(options?.timeoutMs ?? defaultTimeoutMs)
  throwIfAborted(options, what)
  const controller = new AbortController()
  const outer = options?.signal
  const onAbort = (): void =>
    controller.abort(new NetworkError('Aborted', `${what} aborted`, { cause: outer?.reason }))
  outer?.addEventListener('abort', onAbort, { once: true })
  const timer = Number.isFinite(timeoutMs)
    ? setTimeout(
        () => controller.abort(new NetworkError('Timeout', `${what} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      )
    : undefined
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer)
      outer?.removeEventListener('abort', onAbort)
    },
  }
}

/**
 * Settles like `promise`, unless `signal` aborts first: then rejects with `signal.reason` (a
 * `NetworkError` when the signal comes from a `Deadline`).
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) {
    // Nobody waits for `promise` any more: its later rejection must not surface as unhandled.
    promise.catch(() => {})
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
