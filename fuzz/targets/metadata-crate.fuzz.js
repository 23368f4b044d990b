// Fuzz target: RO-Crate parsing, validation and import of `@aruna/metadata` (packages/metadata/src/
// validation/*, crate.ts, automerge/crate-doc.ts) on the text of an `ro-crate-metadata.json`.
//
// Whatever the input, only a MetadataError may escape, and only where the API documents one:
// - `validateCrate` never throws; it lists problems, each with a catalogued rule of the right severity,
//   and calls the crate valid exactly when none is an error;
// - `readValidCrate` (the Automerge store's import check) refuses with InvalidCrate exactly when
//   `validateCrate` finds errors, naming those errors;
// - `readCrate` (the memory store's import check) accepts at least every crate validation accepts;
// - a crate the store accepts survives its Automerge document (`saveCrateDocument` /
//   `loadCrateDocument`) with the same JSON.
// Everything runs synchronously (the memory store's `importCrate` is `readCrate` plus a copy).
import { isDeepStrictEqual } from 'node:util'
import {
  isMetadataError,
  loadCrateDocument,
  RO_CRATE_RULES,
  readCrate,
  readValidCrate,
  saveCrateDocument,
  validateCrate,
} from '@aruna/metadata'

const REF = { resourceId: 'fuzz', group: 'g' }

/** @param {Buffer} data */
export function fuzz(data) {
  const text = data.toString('utf8')
  const result = validateCrate(text, { maxProblems: 200 })
  let errors = 0
  for (const problem of result.problems) {
    const rule = RO_CRATE_RULES[problem.rule]
    if (rule === undefined || rule.severity !== problem.severity || typeof problem.message !== 'string') {
      throw new Error(`a problem outside the rule catalogue: ${JSON.stringify(problem)}`)
    }
    if (problem.severity === 'error') errors += 1
  }
  if (result.valid !== (errors === 0)) throw new Error(`valid=${result.valid} with ${errors} errors`)

  let crate
  try {
    crate = readValidCrate(text, { maxProblems: 200 })
  } catch (err) {
    if (!isMetadataError(err, 'InvalidCrate')) throw err
    if (result.valid) throw new Error(`readValidCrate refused a valid crate: ${err.message}`)
    const rules = (err.problems ?? []).map((problem) => problem.rule)
    const expected = result.problems.filter((problem) => problem.severity === 'error').map((p) => p.rule)
    if (!isDeepStrictEqual(rules, expected)) throw new Error(`refused for ${rules} rather than ${expected}`)
  }
  if (crate === undefined && result.valid) throw new Error('a valid crate was not returned')

  let structural
  try {
    structural = readCrate(text)
  } catch (err) {
    if (!isMetadataError(err, 'InvalidCrate')) throw err
    if (result.valid) throw new Error(`the memory store refuses a crate validation accepts: ${err.message}`)
  }
  if (structural === undefined) return

  // Into the store's document layout and back: the same JSON (key order aside), or a MetadataError.
  let bytes
  try {
    bytes = saveCrateDocument(structural, REF)
  } catch (err) {
    if (!isMetadataError(err)) throw err
    return
  }
  const back = loadCrateDocument(bytes)
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(structural)))) {
    throw new Error(`the crate changed in its Automerge document: ${JSON.stringify(back).slice(0, 500)}`)
  }
}
