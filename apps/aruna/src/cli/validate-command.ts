/**
 * `aruna validate <dir|zip|json>`: validates an RO-Crate locally with @aruna/metadata (no node needed) and
 * prints the report: a directory holding `ro-crate-metadata.json` (its other files are the payload, as in
 * a zip import), an RO-Crate zip, or a metadata JSON file. `--json` prints the JSON report. Exit code 1
 * when the crate has errors, 0 otherwise (warnings alone are 0), 2 when the input cannot be read.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import {
  type CrateReport,
  crateReport,
  formatCrateReport,
  isMetadataError,
  METADATA_FILE,
  readCrateZip,
  validateCrateReport,
} from '@aruna/metadata'
import type { Command } from 'commander'
import { CliError } from './client.js'
import type { CliIo } from './io.js'

/** A zip's local file header: `PK\x03\x04` (or `PK\x05\x06`, an empty archive). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 0x03 || bytes[2] === 0x05)
}

/**
 * The largest metadata file `aruna validate` reads (the store holds at most 16 MiB, but a crate checked
 * on this machine before it is split or trimmed may be larger; validation takes about 4.5× its size).
 */
export const LOCAL_MAX_CRATE_BYTES = 256 * 1024 * 1024

/** Options of the online checks (`cite-as` and web data entities resolve); absent: offline. */
export interface OnlineChecks {
  readonly timeoutMs: number
}

type ReportInput = Parameters<typeof validateCrateReport>[0]
type ReportOptionsOf = NonNullable<Parameters<typeof validateCrateReport>[1]>

/** `validateCrateReport`, offline or with the online checks. */
async function reportOf(
  input: ReportInput,
  options: ReportOptionsOf,
  online?: OnlineChecks,
): Promise<CrateReport> {
  if (online === undefined) return validateCrateReport(input, options)
  return validateCrateReport(input, { ...options, online: { timeoutMs: online.timeoutMs } })
}

/** The report of an RO-Crate zip, validated against the payload it carries. */
export function zipReport(bytes: Uint8Array, source?: string): CrateReport {
  const common = { zip: true, ...(source === undefined ? {} : { source }) }
  let contents: ReturnType<typeof readCrateZip>
  try {
    contents = readCrateZip(bytes)
  } catch (err) {
    if (isMetadataError(err) && err.code === 'InvalidCrate')
      return crateReport({ valid: false, problems: err.problems ?? [] }, common)
    throw err
  }
  return validateCrateReport(contents.metadata, { ...common, validate: { payload: contents.payload } })
}

/** Whether validation stopped at the JSON parser: the input is not JSON at all. */
export function notJson(report: CrateReport): string | undefined {
  return report.problems.find((problem) => problem.rule === 'crate.json')?.message
}

async function payloadOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const paths: string[] = []
  for (const entry of entries) {
    const path = relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/')
    if (path === METADATA_FILE) continue
    paths.push(entry.isDirectory() ? `${path}/` : path)
  }
  return paths
}

const reason = (err: unknown): string =>
  (err as NodeJS.ErrnoException).code === 'ENOENT'
    ? 'no such file or directory'
    : err instanceof Error
      ? err.message
      : String(err)

/**
 * Validates what `target` names; a `CliError` (exit code 2) when it cannot be read. With `online`, the
 * crate's `cite-as` and web-based data entities are also requested (each bounded by the timeout).
 */
export async function validateTarget(target: string, online?: OnlineChecks): Promise<CrateReport> {
  let isDirectory: boolean
  try {
    isDirectory = (await stat(target)).isDirectory()
  } catch (err) {
    throw new CliError(`cannot read ${target}: ${reason(err)}`, 2)
  }
  const read = async (file: string) => {
    try {
      return new Uint8Array(await readFile(file))
    } catch (err) {
      throw new CliError(`cannot read ${file}: ${reason(err)}`, 2)
    }
  }
  let report: CrateReport
  if (isDirectory) {
    const metadata = await read(join(target, METADATA_FILE))
    const payload = await payloadOf(target)
    report = await reportOf(
      metadata,
      { source: target, validate: { payload, maxBytes: LOCAL_MAX_CRATE_BYTES } },
      online,
    )
  } else {
    const bytes = await read(target)
    // A zip whose metadata file is not JSON is a crate with an error; a file that is neither is a usage error.
    if (isZip(bytes)) {
      if (online === undefined) return zipReport(bytes, target)
      let contents: ReturnType<typeof readCrateZip>
      try {
        contents = readCrateZip(bytes)
      } catch {
        return zipReport(bytes, target)
      }
      return reportOf(
        contents.metadata,
        { source: target, zip: true, validate: { payload: contents.payload } },
        online,
      )
    }
    report = await reportOf(bytes, { source: target, validate: { maxBytes: LOCAL_MAX_CRATE_BYTES } }, online)
  }
  const parseError = notJson(report)
  if (parseError !== undefined) {
    const what = isDirectory
      ? `${join(target, METADATA_FILE)} is not JSON`
      : `${target} is neither JSON nor a zip`
    throw new CliError(`${what}: ${parseError}`, 2)
  }
  return report
}

/** Adds `validate` to `program`; it reports its exit code through `setExit`. */
export function addValidateCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('validate')
    .argument(
      '<path>',
      'a crate directory (with ro-crate-metadata.json), an RO-Crate zip, or a metadata JSON file',
    )
    .description(
      'validate an RO-Crate locally against RO-Crate 1.0-1.2 (no node needed) and print a report per rule; exit code 1 when it has errors',
    )
    .option('--json', 'print the report as JSON')
    .option(
      '--online [seconds]',
      'also check that cite-as and web-based data entities resolve (HEAD/GET, each within the timeout; default 5 s)',
    )
    .action(async (target: string, opts: { json?: boolean; online?: boolean | string }) => {
      let online: OnlineChecks | undefined
      if (opts.online !== undefined && opts.online !== false) {
        const seconds = opts.online === true ? 5 : Number(opts.online)
        if (!(seconds > 0 && seconds <= 120))
          throw new CliError('--online takes a timeout of 1 to 120 seconds', 2)
        online = { timeoutMs: seconds * 1000 }
      }
      const report = await validateTarget(target, online)
      io.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatCrateReport(report))
      setExit(report.valid ? 0 : 1)
    })
}
