/**
 * An RO-Crate as a zip: `ro-crate-metadata.json` at the root, then the payload — each data entity with
 * a relative `@id` whose bytes the caller supplies — stored at the path its `@id` names, directories
 * as directory entries. Written as a stream: `exportCrateZip` yields the archive chunk by chunk and asks
 * for a file's bytes only when the consumer has taken what came before, so neither the archive nor a file
 * is ever held whole. Read back with `readCrateZip` / `importCrateZip`.
 *
 * fflate writes no Zip64: an archive (or file) of 4 GiB or more, or with 65 535 entries or more, is
 * refused with `InvalidInput` as soon as it would become one.
 */
import { unzipSync, Zip, ZipDeflate, ZipPassThrough } from 'fflate'
import { MAX_CRATE_BYTES } from '../crate.js'
import { MetadataError, type Problem } from '../errors.js'
import type { Crate, Entity, ImportOptions, MetadataStore, ResourceRef } from '../port.js'
import { isDataEntity } from '../validation/data-entities.js'
import { hasType, isAbsoluteUri, payloadPath, referenceTarget, valuesOf } from '../validation/graph.js'
import { findDescriptorEntity } from '../validation/root-entity.js'
import { readValidCrate } from '../validation/validate.js'

export const METADATA_FILE = 'ro-crate-metadata.json'

/** The bytes of a data entity's file, or undefined to leave it out of the archive. */
export type CrateFileSource = (
  entity: Entity,
  path: string,
) =>
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>
  | undefined
  | Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined>

export interface CrateZipOptions {
  /** The modification time written for every entry. Default: now. */
  mtime?: Date
  /** Deflate level of `ro-crate-metadata.json` (0-9). Payload files are stored as they are. Default: 6. */
  level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9
}

const ZIP32_LIMIT = 0xffff_ffff - 64 * 1024
const MAX_ENTRIES = 0xffff - 1

/** The payload of a crate: its data entities with a relative `@id`, each with the zip path it names. */
export function crateFiles(crate: Crate): { entity: Entity; path: string; directory: boolean }[] {
  const byId = new Map(crate['@graph'].map((entity) => [entity['@id'], entity]))
  const descriptor = findDescriptorEntity(byId)
  const about = descriptor === undefined ? [] : valuesOf(descriptor, 'about')
  const rootId = about.length === 1 ? referenceTarget(about[0]!) : undefined
  const files: { entity: Entity; path: string; directory: boolean }[] = []
  const seen = new Set<string>()
  for (const entity of crate['@graph']) {
    if (!isDataEntity(entity, { rootId, descriptorId: descriptor?.['@id'] })) continue
    if (isAbsoluteUri(entity['@id'])) continue
    const directory = hasType(entity, 'Dataset')
    const named = safePath(payloadPath(entity['@id']))
    const path = directory && named !== undefined && !named.endsWith('/') ? `${named}/` : named
    if (path === undefined || path === METADATA_FILE || seen.has(path)) continue
    seen.add(path)
    files.push({ entity, path, directory })
  }
  return files
}

/**
 * A zip path that stays inside the archive's root: no absolute path, no `..` or `.` segment, no
 * backslash, no control character; undefined otherwise (such an entity is left out of the archive).
 */
export function safePath(path: string): string | undefined {
  if (path === '' || path.startsWith('/') || path.includes('\\')) return undefined
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) return undefined
  const segments = path.split('/')
  const last = segments.length - 1
  const bad = segments.some(
    (segment, index) => segment === '..' || segment === '.' || (segment === '' && index !== last),
  )
  return bad ? undefined : path
}

/** Streams the resource's crate and the files `source` supplies as an RO-Crate zip. */
export async function* exportCrateZip(
  store: Pick<MetadataStore, 'exportCrate'>,
  resourceId: string,
  source: CrateFileSource,
  options: CrateZipOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const text = await store.exportCrate(resourceId)
  const crate = JSON.parse(text) as Crate
  const mtime = options.mtime ?? new Date()
  const pending: Uint8Array[] = []
  let failure: Error | null = null
  let written = 0
  let entries = 0
  const zip = new Zip((error, chunk) => {
    if (error !== null) failure = error
    else if (chunk.length > 0) {
      written += chunk.length
      pending.push(chunk)
    }
  })
  const take = (): Uint8Array[] => {
    if (failure !== null)
      throw new MetadataError('InvalidInput', `The zip could not be written: ${(failure as Error).message}`)
    if (written > ZIP32_LIMIT) throw tooLarge()
    return pending.splice(0)
  }
  const entry = <T extends ZipPassThrough | ZipDeflate>(file: T): T => {
    entries += 1
    if (entries > MAX_ENTRIES)
      throw new MetadataError('InvalidInput', 'The crate has too many files for a zip without Zip64')
    file.mtime = mtime
    zip.add(file)
    return file
  }

  const metadata = entry(new ZipDeflate(METADATA_FILE, { level: options.level ?? 6 }))
  metadata.push(new TextEncoder().encode(text), true)
  yield* take()
  for (const { entity, path, directory } of crateFiles(crate)) {
    if (directory) {
      entry(new ZipPassThrough(path)).push(new Uint8Array(0), true)
      yield* take()
      continue
    }
    const bytes = await source(entity, path)
    if (bytes === undefined) continue
    const file = entry(new ZipPassThrough(path))
    let size = 0
    for await (const chunk of bytes) {
      size += chunk.length
      if (size > ZIP32_LIMIT) throw tooLarge()
      file.push(chunk, false)
      yield* take()
    }
    file.push(new Uint8Array(0), true)
    yield* take()
  }
  zip.end()
  yield* take()
}

function tooLarge(): MetadataError {
  return new MetadataError('InvalidInput', 'The crate is too large for a zip without Zip64 (4 GiB)')
}

export interface CrateZipContents {
  /** The text of `ro-crate-metadata.json`. */
  metadata: string
  /** The archive's other files and directories, relative to the crate's root (directories end with `/`). */
  payload: string[]
}

/**
 * Reads an RO-Crate zip: `ro-crate-metadata.json` at its root, or in its only top-level folder. Only
 * that file is inflated; the rest is listed. Throws `InvalidCrate` (rule `crate.zip`) for an archive
 * that is not a zip or holds no metadata file, `crate.size` when the metadata file is too large, and
 * `crate.encoding` when it is not UTF-8.
 */
export function readCrateZip(archive: Uint8Array): CrateZipContents {
  const names: string[] = []
  const sizes = new Map<string, number>()
  let inflated: Record<string, Uint8Array>
  try {
    inflated = unzipSync(archive, {
      filter: (file) => {
        names.push(file.name)
        sizes.set(file.name, file.originalSize)
        // Only the metadata file is inflated, and only when it declares a size the store accepts.
        const metadata = file.name === METADATA_FILE || /^[^/]+\/ro-crate-metadata\.json$/.test(file.name)
        return metadata && file.originalSize <= MAX_CRATE_BYTES
      },
    })
  } catch (error) {
    throw zipProblem('crate.zip', `The archive is not a readable zip: ${(error as Error).message}`)
  }
  const candidates = names.filter(
    (name) => name === METADATA_FILE || /^[^/]+\/ro-crate-metadata\.json$/.test(name),
  )
  const chosen = candidates.includes(METADATA_FILE)
    ? METADATA_FILE
    : candidates.length === 1
      ? candidates[0]
      : undefined
  if (chosen === undefined) {
    throw zipProblem('crate.zip', `The archive has no ${METADATA_FILE} at its root or in its only folder`)
  }
  if ((sizes.get(chosen) ?? 0) > MAX_CRATE_BYTES || (inflated[chosen]?.length ?? 0) > MAX_CRATE_BYTES) {
    throw zipProblem('crate.size', `${METADATA_FILE} is larger than ${MAX_CRATE_BYTES} bytes`)
  }
  const prefix = chosen.slice(0, chosen.length - METADATA_FILE.length)
  const payload = new Set<string>()
  for (const name of names) {
    if (!name.startsWith(prefix) || name === chosen) continue
    const path = name.slice(prefix.length)
    // Every folder on the way is part of the payload, listed or not.
    const segments = path.split('/')
    for (let end = 1; end < segments.length; end += 1) payload.add(`${segments.slice(0, end).join('/')}/`)
    if (path !== '') payload.add(path)
  }
  let metadata: string
  try {
    const bytes = inflated[chosen] ?? new Uint8Array(0)
    if (bytes.includes(0)) throw new Error('NUL') // UTF-16 text decodes as UTF-8 with NULs
    metadata = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw zipProblem('crate.encoding', `${METADATA_FILE} is not UTF-8: save it as UTF-8`)
  }
  return { metadata, payload: [...payload].sort() }
}

/**
 * Imports an RO-Crate zip as a resource: its metadata is validated against its payload (every data
 * entity with a relative `@id` must be in the archive), then imported. The payload's bytes are not
 * stored here (they go to the data layer); the returned `payload` lists what the archive holds.
 */
export async function importCrateZip(
  store: Pick<MetadataStore, 'importCrate'>,
  group: string,
  archive: Uint8Array,
  options: ImportOptions = {},
): Promise<{ ref: ResourceRef; payload: string[] }> {
  const { metadata, payload } = readCrateZip(archive)
  const crate = readValidCrate(metadata, { payload })
  const ref = await store.importCrate(group, crate, options)
  return { ref, payload }
}

function zipProblem(rule: 'crate.zip' | 'crate.size' | 'crate.encoding', message: string): MetadataError {
  const problem: Problem = { severity: 'error', rule, message }
  return new MetadataError('InvalidCrate', message, [problem])
}
