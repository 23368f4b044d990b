/**
 * The JSON-LD contexts this package knows without a network: the RO-Crate contexts 1.0, 1.1, 1.2-DRAFT
 * and 1.2 (schema.org names from `schema-org-terms.ts` plus `ro-crate-terms.ts`), and the RO-Crate
 * `workflow-run` and `test` term contexts. Validation reads their terms from here; `contextDocument` serves them to a JSON-LD processor (a `documentLoader`
 * for `jsonld`), so nothing is ever fetched.
 */
import { RO_CRATE_OTHER_TERMS, TEST_TERMS, WORKFLOW_RUN_TERMS } from './ro-crate-terms.js'
import { SCHEMA_ORG_TERMS } from './schema-org-terms.js'

/** The RO-Crate specification versions with bundled terms (one term set serves them all). */
export type RoCrateTermsVersion = '1.0' | '1.1' | '1.2'

/** A context's term definitions: term → IRI (or `null` for `@base: null`). */
export type ContextTerms = Readonly<Record<string, string | null>>

interface KnownContext {
  /** Set for the RO-Crate contexts: the specification version whose terms they carry. */
  readonly roCrate?: RoCrateTermsVersion
  readonly terms: () => ContextTerms
}

const termSets = new WeakMap<ContextTerms, ReadonlySet<string>>()

/** The terms a context defines (keywords such as `@base` left out), built once per context. */
function termSetOf(terms: ContextTerms): ReadonlySet<string> {
  let set = termSets.get(terms)
  if (set === undefined) {
    set = new Set(Object.keys(terms).filter((term) => !term.startsWith('@')))
    termSets.set(terms, set)
  }
  return set
}

const RO_CRATE = 'https://w3id.org/ro/crate/'
const RO_TERMS = 'https://w3id.org/ro/terms/'

const KNOWN: ReadonlyMap<string, KnownContext> = new Map<string, KnownContext>([
  [`${RO_CRATE}1.0/context`, roCrate('1.0')],
  [`${RO_CRATE}1.1/context`, roCrate('1.1')],
  [`${RO_CRATE}1.2-DRAFT/context`, roCrate('1.2')],
  [`${RO_CRATE}1.2/context`, roCrate('1.2')],
  [`${RO_TERMS}workflow-run/context`, { terms: () => WORKFLOW_RUN_TERMS }],
  [`${RO_TERMS}workflow-run`, { terms: () => WORKFLOW_RUN_TERMS }],
  [`${RO_TERMS}test`, { terms: () => TEST_TERMS }],
  [`${RO_TERMS}test/context`, { terms: () => TEST_TERMS }],
])

/**
 * Contexts published under `https://w3id.org/ro/` that are not bundled: a crate may use them, but their
 * terms cannot be checked offline. Any other context under that namespace does not exist.
 */
const PUBLISHED_RO_CRATE_VERSIONS = [
  '0.2',
  '0.3-DRAFT',
  '1.0-DRAFT',
  '1.1-DRAFT',
  '1.3-DRAFT',
  '1.3',
  '1.4-DRAFT',
]
const PUBLISHED_RO_TERMS = [
  'arc',
  'cca',
  'compss',
  'copo',
  'criminalcharacters',
  'earth-science',
  'example',
  'gpg',
  'ods',
  'openpgp',
  'provstor',
  'sample',
  'sapporo',
  'text-commons',
  'treecript-metrics',
  'wfexs',
]

function roCrate(version: RoCrateTermsVersion): KnownContext {
  let terms: ContextTerms | undefined
  return {
    roCrate: version,
    terms: () => {
      terms ??= buildRoCrateTerms(version)
      return terms
    },
  }
}

let roCrateTerms: ContextTerms | undefined

function buildRoCrateTerms(_version: RoCrateTermsVersion): ContextTerms {
  if (roCrateTerms === undefined) {
    const terms: Record<string, string | null> = Object.create(null)
    for (const term of words(SCHEMA_ORG_TERMS)) terms[term] = `http://schema.org/${term}`
    roCrateTerms = Object.assign(terms, RO_CRATE_OTHER_TERMS)
  }
  return roCrateTerms
}

function words(list: string): string[] {
  return list.split(/\s+/).filter((word) => word !== '')
}

/** `http://w3id.org/…` and `https://w3id.org/…` name the same context; a trailing `/` is dropped. */
export function normalizeContextUrl(url: string): string {
  return url.replace(/^http:\/\/w3id\.org\//, 'https://w3id.org/').replace(/\/$/, '')
}

export type ContextStatus =
  /** Bundled: its terms are known. */
  | { kind: 'known'; terms: ContextTerms; termSet: ReadonlySet<string>; roCrate?: RoCrateTermsVersion }
  /** Published under `https://w3id.org/ro/` but not bundled, or anywhere else: not checkable offline. */
  | { kind: 'offline'; roCrate: boolean }
  /** Under `https://w3id.org/ro/`, where it is not published. */
  | { kind: 'unknown' }

export function contextStatus(url: string): ContextStatus {
  const normalized = normalizeContextUrl(url)
  const known = KNOWN.get(normalized)
  if (known !== undefined) {
    const terms = known.terms()
    const termSet = termSetOf(terms)
    return known.roCrate === undefined
      ? { kind: 'known', terms, termSet }
      : { kind: 'known', terms, termSet, roCrate: known.roCrate }
  }
  if (normalized.startsWith(RO_CRATE)) {
    const version = normalized.slice(RO_CRATE.length).replace(/\/context$/, '')
    return PUBLISHED_RO_CRATE_VERSIONS.includes(version) && normalized.endsWith('/context')
      ? { kind: 'offline', roCrate: true }
      : { kind: 'unknown' }
  }
  if (normalized.startsWith(RO_TERMS)) {
    const namespace = normalized.slice(RO_TERMS.length).replace(/\/context$/, '')
    return PUBLISHED_RO_TERMS.includes(namespace) ? { kind: 'offline', roCrate: false } : { kind: 'unknown' }
  }
  if (normalized === 'https://w3id.org/ro/terms') return { kind: 'offline', roCrate: false }
  return { kind: 'offline', roCrate: false }
}

/**
 * The JSON-LD document for a bundled context URL (`{"@context": {…}}`, a fresh copy), or undefined.
 * Use it as a `jsonld` document loader so that JSON-LD processing never goes to the network:
 *
 * ```ts
 * const documentLoader = async (url: string) => {
 *   const document = contextDocument(url)
 *   if (document === undefined) throw new Error(`not available offline: ${url}`)
 *   return { contextUrl: undefined, documentUrl: url, document }
 * }
 * ```
 */
export function contextDocument(url: string): { '@context': Record<string, string | null> } | undefined {
  const known = KNOWN.get(normalizeContextUrl(url))
  return known === undefined ? undefined : { '@context': { ...known.terms() } }
}
