/**
 * Durable file writes: after a crash (or power loss) a file written here is either the old one or the
 * new one, whole, never torn, and a write that resolved is on disk. The protocol: write a temp file on
 * the same filesystem, fsync it, move it into place (rename(2), or link(2) where an existing file must
 * never be replaced), then fsync the directory so the new name is durable too.
 *
 * This module imports nothing but Node built-ins, so a plain Node process (with type stripping) can
 * load it: the crash tests run it in a child process they kill.
 */

import { randomBytes } from 'node:crypto'
import { link, mkdir, open, readdir, rename, rm, unlink } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'

export interface DurableWriteOptions {
  /**
   * The new file's permission bits, set exactly (the umask does not narrow them), e.g. `0o600` for a
   * secret. The temp file has them from its creation, so the content is never readable more widely.
   * Default: `0o666` less the umask.
   */
  readonly mode?: number
  /**
   * Never replace an existing file: the temp file is linked into place, which fails if the name exists,
   * and the write then rejects with that `EEXIST` error (see `isFileExistsError`), leaving the existing
   * file as it was. Default: `false` (the new file is renamed over an existing one).
   */
  readonly noClobber?: boolean
  /**
   * Where the temp file goes: a directory on the same filesystem as `path`, such as a store's `tmp/`
   * that its `open` clears of what a crash left. Default: `path`'s directory (as a hidden `.tmp` file).
   */
  readonly tempDirectory?: string
}

/** Writes `data` to `path` durably and atomically (see the module comment). The directory must exist. */
export async function writeFileDurably(
  path: string,
  data: string | Uint8Array,
  options: DurableWriteOptions = {},
): Promise<void> {
  const target = resolve(path)
  const temp =
    options.tempDirectory === undefined
      ? join(dirname(target), `.${basename(target)}.${randomBytes(8).toString('hex')}.tmp`)
      : join(resolve(options.tempDirectory), `${randomBytes(12).toString('hex')}.tmp`)
  try {
    await writeSyncedFile(temp, data, options.mode)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
  await placeFileDurably(temp, target, options)
}

/**
 * Creates a new file at `path` (failing with `EEXIST` if there is one), writes `data` and fsyncs it:
 * the first half of a durable write, for a temp file. `mode` as in `DurableWriteOptions`.
 */
export async function writeSyncedFile(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
  const handle = await open(path, 'wx', mode)
  try {
    // `open`'s mode is narrowed by the umask; a chmod on the handle makes it exact.
    if (mode !== undefined) await handle.chmod(mode)
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * The second half of a durable write: moves `temp` (complete and fsynced, on the same filesystem) to
 * `path` and fsyncs `path`'s directory. With `noClobber`, an existing `path` is left alone and the call
 * rejects with `EEXIST`. `temp` is gone afterwards, whether the move succeeded or not.
 */
export async function placeFileDurably(
  temp: string,
  path: string,
  options: { readonly noClobber?: boolean } = {},
): Promise<void> {
  if (options.noClobber === true) {
    try {
      await link(temp, path)
    } finally {
      await unlink(temp)
    }
  } else {
    try {
      await rename(temp, path)
    } catch (err) {
      await rm(temp, { force: true })
      throw err
    }
  }
  await syncDirectory(dirname(resolve(path)))
}

/**
 * Makes `directory` ready to be a `tempDirectory`: creates it if missing and removes whatever
 * interrupted writes left in it (call it when a store opens, before anything writes through it).
 */
export async function openTempDirectory(directory: string): Promise<void> {
  await mkdir(directory, { recursive: true })
  for (const leftover of await readdir(directory)) {
    await rm(join(directory, leftover), { recursive: true, force: true })
  }
  await syncDirectory(directory)
}

/** fsync on a directory makes the entries created, renamed or removed in it durable. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r')
  try {
    await handle.sync()
  } catch (err) {
    // Some platforms (Windows) cannot fsync a directory; their renames are durable without it.
    if (!isErrorCode(err, 'EISDIR') && !isErrorCode(err, 'EPERM') && !isErrorCode(err, 'EINVAL')) throw err
  } finally {
    await handle.close()
  }
}

/** Whether `err` is the error a `noClobber` write rejects with when the file exists. */
export function isFileExistsError(err: unknown): boolean {
  return isErrorCode(err, 'EEXIST')
}

/** Whether `err` is a Node system error with `code` (`ENOENT`, `EEXIST`, …). */
export function isErrorCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code
}
