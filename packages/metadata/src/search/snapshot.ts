/**
 * A `FlexSearchIndex` as a file, so a node can answer searches right after a start while it rebuilds
 * from its store (from an AutomergeMetadataStore a rebuild reads every document: minutes for 100 000).
 * The file holds the compact documents and the vocabulary (not the word and range indexes, which are
 * rebuilt from the documents on load). It is node-local, like the ordinals in it, and is read back on
 * the same machine (word ids are stored in its byte order).
 *
 * A file that is not exactly what `save` writes is refused as a whole with `InvalidInput`; the node
 * then starts from an empty index and rebuilds.
 */
import { MetadataError } from '../errors.js'
import type { SearchDocument } from '../port.js'
import { type CompactDocument, type CompactField, compactField } from './compact-document.js'
import { checkSearchDocument } from './search-document.js'

export const SNAPSHOT_VERSION = 1

export interface IndexSnapshot {
  version: typeof SNAPSHOT_VERSION
  /** Word ids 1…: `vocabulary[id - 1]`. */
  vocabulary: string[]
  documents: SnapshotDocument[]
}

interface SnapshotDocument {
  summary: SearchDocument
  /** The words' ids, a Uint32Array in base64. */
  words: string
  fields: [name: string, start: number, end: number, numbers: number[], rangeTexts: string[]][]
}

export function snapshotOf(
  vocabulary: readonly string[],
  documents: Iterable<CompactDocument>,
): IndexSnapshot {
  const written: SnapshotDocument[] = []
  for (const doc of documents) {
    written.push({
      summary: doc.summary,
      words: Buffer.from(doc.words.buffer, doc.words.byteOffset, doc.words.byteLength).toString('base64'),
      fields: doc.fields.map((field) => [
        field.name,
        field.start,
        field.end,
        field.numbers,
        field.rangeTexts,
      ]),
    })
  }
  return { version: SNAPSHOT_VERSION, vocabulary: [...vocabulary], documents: written }
}

/** Checks a parsed snapshot and returns its vocabulary and documents; throws `InvalidInput` otherwise. */
export function readSnapshot(input: unknown): { vocabulary: string[]; documents: CompactDocument[] } {
  if (!isRecord(input) || input.version !== SNAPSHOT_VERSION) damaged('not a version 1 search index snapshot')
  const { vocabulary, documents } = input
  if (!Array.isArray(vocabulary) || !vocabulary.every((word) => typeof word === 'string' && word !== '')) {
    damaged('the vocabulary is not a list of words')
  }
  if (new Set(vocabulary).size !== vocabulary.length) damaged('a word appears twice in the vocabulary')
  if (!Array.isArray(documents)) damaged('no list of documents')
  const ordinals = new Set<number>()
  const resources = new Set<string>()
  const read = documents.map((doc, position): CompactDocument => {
    if (!isRecord(doc) || typeof doc.words !== 'string' || !Array.isArray(doc.fields)) {
      damaged(`document ${position} is not a document`)
    }
    let summary: SearchDocument
    try {
      summary = checkSearchDocument(doc.summary)
    } catch {
      damaged(`document ${position} has no valid summary`)
    }
    if (summary.text !== '') damaged(`document ${position} carries text`)
    if (ordinals.has(summary.ordinal) || resources.has(summary.resourceId)) {
      damaged(`document ${position} repeats an ordinal or a resource`)
    }
    ordinals.add(summary.ordinal)
    resources.add(summary.resourceId)
    const bytes = Buffer.from(doc.words, 'base64')
    if (bytes.byteLength % 4 !== 0 || bytes.toString('base64') !== doc.words) {
      damaged(`document ${position} has unreadable words`)
    }
    const words = new Uint32Array(bytes.byteLength / 4)
    new Uint8Array(words.buffer).set(bytes)
    for (const id of words) if (id > vocabulary.length) damaged(`document ${position} names an unknown word`)
    const fields = doc.fields.map((field: unknown) => readField(field, words.length, position))
    if (new Set(fields.map((field) => field.name)).size !== fields.length) {
      damaged(`document ${position} repeats a field`)
    }
    return { summary, words, fields }
  })
  return { vocabulary, documents: read }
}

function readField(input: unknown, length: number, position: number): CompactField {
  if (!Array.isArray(input) || input.length !== 5) damaged(`document ${position} has a malformed field`)
  const [name, start, end, numbers, rangeTexts] = input as unknown[]
  const whole = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value)
  if (
    typeof name !== 'string' ||
    name !== name.toLowerCase() ||
    !whole(start) ||
    !whole(end) ||
    start < 0 ||
    start > end ||
    end > length ||
    !Array.isArray(numbers) ||
    !numbers.every((number) => typeof number === 'number' && Number.isFinite(number)) ||
    !Array.isArray(rangeTexts) ||
    !rangeTexts.every((text) => typeof text === 'string')
  ) {
    damaged(`document ${position} has a malformed field`)
  }
  return compactField(name, start, end, numbers, rangeTexts)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function damaged(detail: string): never {
  throw new MetadataError('InvalidInput', `The search index snapshot is damaged: ${detail}`)
}
