/**
 * The shared valid/ fixtures for the round-trip tests (JSON-LD expansion, canonical N-Quads): their
 * paths, an offline JSON-LD document loader over the bundled contexts, and a pair of stores to import
 * them into (validating, and structure-only for the four ro-crate-py inputs that break MUST rules).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Repo } from '@automerge/automerge-repo'
import { AutomergeMetadataStore, contextDocument, validateCrate } from '../src/index.js'

export const VALID = fileURLToPath(new URL('./fixtures/ro-crate/valid/', import.meta.url))

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : [path]
  })
}

/** Every file of valid/, relative to it. */
export const validFixtures = (): string[] => files(VALID).map((path) => relative(VALID, path))

/** A fixture's text. */
export const fixtureText = (fixture: string): string => readFileSync(join(VALID, fixture), 'utf8')

/**
 * A JSON-LD document loader serving the bundled contexts; any other URL fails the test instead of
 * going to the network, and is listed in `fetched` (expected to stay empty).
 */
export function offlineLoader() {
  const fetched: string[] = []
  const documentLoader = async (url: string) => {
    const document = contextDocument(url)
    if (document === undefined) {
      fetched.push(url)
      throw new Error(`not available offline: ${url}`)
    }
    return { contextUrl: undefined, documentUrl: url, document }
  }
  return { documentLoader, fetched }
}

/** A validating store and a structure-only one; `storeFor` picks the one a crate's text can go into. */
export async function roundTripStores() {
  const strict = await AutomergeMetadataStore.create({ repo: new Repo() })
  const lenient = await AutomergeMetadataStore.create({ repo: new Repo(), validation: 'structure' })
  return {
    strict,
    storeFor: (text: string) => (validateCrate(text).valid ? strict : lenient),
    async close() {
      await strict.close()
      await lenient.close()
    },
  }
}
