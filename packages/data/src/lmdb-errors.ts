import { constants } from 'node:os'

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, value]) => [value, name]))

/**
 * The real cause of a failed lmdb-js write. lmdb-js rejects the writes of a failed commit with a generic
 * `Error('Commit failed (see commitError for details)')` whose `commitError` is a second promise,
 * rejected with the cause (ENOSPC, EIO, …). A promise nobody handles is an unhandled rejection, which
 * ends the process: this handles it, and gives its error instead (with `code` the errno's name, e.g.
 * `ENOSPC`, where lmdb-js gives a number). Anything else comes back as it was.
 */
export async function lmdbFailure(err: unknown): Promise<unknown> {
  const pending = (err as { commitError?: unknown } | undefined)?.commitError
  if (!(pending instanceof Promise)) return err
  // Rejected by the time a write's own rejection is seen (lmdb-js rejects it in the same callback);
  // should it never settle, the original error stands.
  const cause = await Promise.race([
    pending.then(
      () => undefined,
      (reason: unknown) => reason,
    ),
    new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined))),
  ])
  if (!(cause instanceof Error)) return err
  const errno = (cause as { code?: unknown }).code
  const code =
    typeof errno === 'number' ? ERRNO_NAMES.get(errno) : typeof errno === 'string' ? errno : undefined
  return Object.assign(new Error(`the database could not commit: ${cause.message}`, { cause }), {
    ...(code === undefined ? {} : { code }),
  })
}

/** `write`, failing with its real cause (see `lmdbFailure`) rather than lmdb-js's generic commit error. */
export function lmdbWrite<T>(write: Promise<T>): Promise<T> {
  return write.catch(async (err: unknown) => {
    throw await lmdbFailure(err)
  })
}

/** Whether `reason` is lmdb-js's generic error of a failed commit (see `lmdbFailure`). */
function isLmdbCommitFailure(reason: unknown): reason is Error & { commitError: Promise<unknown> } {
  return reason instanceof Error && (reason as { commitError?: unknown }).commitError instanceof Promise
}

/**
 * lmdb-js 3.5 leaves one of its own promises of a failed commit (a full disk, an I/O error) without a
 * handler. The writes of that commit are rejected too, with the cause, so their callers know; but Node
 * ends the process on the unhandled one. This installs a handler that lets exactly those rejections
 * pass (their cause is handled here as well) and rethrows every other reason, which Node then treats
 * as an uncaught exception, as it would have without the handler. Returns a function that removes it.
 */
export function tolerateLmdbCommitFailures(): () => void {
  const listener = (reason: unknown): void => {
    if (isLmdbCommitFailure(reason)) {
      reason.commitError.catch(() => {})
      return
    }
    throw reason
  }
  process.on('unhandledRejection', listener)
  return () => {
    process.off('unhandledRejection', listener)
  }
}
