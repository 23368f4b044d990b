/**
 * @aruna/metadata: the RO-Crate metadata of Aruna's resources. A `MetadataStore` keeps one JSON-LD
 * document per dataset or collection and changes it by intentions (set a property, add an entity, link
 * an S3 object version) so concurrent edits merge; a `SearchIndex` per node answers queries in a small
 * language (free text, `field:value`, `field:"phrase"`, ranges such as `size:>1GB` or
 * `datePublished:2020..2024`, AND/OR/NOT, parentheses) over the documents the caller may see. This
 * package has the ports, RO-Crate validation (`validateCrate`), the Automerge store
 * (`AutomergeMetadataStore`), import and export as JSON and RO-Crate zip, the query parser, the search
 * index (`FlexSearchIndex`: Aruna's own inverted index with per-field postings and structured field indexes; the name is from when flexsearch did the text part), crate → search document extraction
 * (`searchDocumentOf`), the indexer that follows a store and hands out ordinals (`SearchIndexer`),
 * in-memory mocks, and the compliance suites (`@aruna/metadata/testing`). The search universe is
 * `@aruna/auth`'s `OrdinalSet`, read for membership (`has(ordinal)`).
 */

export { loadCrateDocument, saveCrateDocument } from './automerge/crate-bytes.js'
export type { CatalogDoc, CatalogEntry, ResourceDoc } from './automerge/schema.js'
export { settleMetadataStores, storeFingerprint } from './automerge/settle.js'
export {
  AutomergeMetadataStore,
  type AutomergeMetadataStoreOptions,
  type OpenAutomergeMetadataStoreOptions,
} from './automerge/store.js'
export {
  crateName,
  crateProblems,
  findDescriptor,
  findEntity,
  findRoot,
  newCrate,
  readCrate,
} from './crate.js'
export {
  addGraphEntity,
  checkEntity,
  checkPropertyName,
  removeEntityProperty,
  removeGraphEntity,
  setEntityProperty,
} from './crate-edits.js'
export {
  InvalidQueryError,
  isMetadataError,
  MetadataError,
  type MetadataErrorCode,
  type Problem,
} from './errors.js'
export {
  type CrateFileSource,
  type CrateZipContents,
  type CrateZipOptions,
  crateFiles,
  exportCrateZip,
  importCrateZip,
  METADATA_FILE,
  readCrateZip,
  safePath,
} from './export/crate-zip.js'
export { checkId, isPathSegmentId } from './identifiers.js'
export { isJsonValue, jsonProblem } from './json.js'
export { MemoryMetadataStore, type MemoryMetadataStoreInit } from './mock/memory-metadata-store.js'
export { MemorySearchIndex } from './mock/memory-search-index.js'
export {
  ARUNA_TERMS,
  checkObjectLink,
  objectLinkProperties,
  readObjectLink,
  withArunaContext,
} from './object-link.js'
export type * from './port.js'
export { readBound } from './query/bound.js'
export { formatQuery } from './query/format.js'
export { MAX_QUERY_DEPTH, MAX_QUERY_LENGTH, parseQuery } from './query/parser.js'
export type * from './query/types.js'
export { normalizeQuery } from './query/validate.js'
export { MAX_TEXT, searchDocumentOf } from './search/extract.js'
export { FlexSearchIndex, SEARCH_SNAPSHOT_FILE } from './search/flexsearch-index.js'
export { type OrdinalEvent, SearchIndexer, type SearchIndexerInit } from './search/indexer.js'
export {
  type SyntheticResource,
  syntheticResource,
  syntheticResources,
} from './search/synthetic.js'
export {
  type MetadataOperation,
  MetadataService,
  type MetadataServiceInit,
  type Principal,
} from './service.js'
export {
  createMetadataRepo,
  liveNodesOf,
  METADATA_SYNC_PROTOCOL_ID,
  type MetadataRepo,
  type MetadataRepoInit,
} from './sync/metadata-repo.js'
export {
  type MetadataFactor,
  MetadataPlacement,
  type MetadataPlacementInit,
  type PlacementNode,
  rendezvousHolders,
} from './sync/placement.js'
export {
  type ContextStatus,
  type ContextTerms,
  contextDocument,
  contextStatus,
} from './validation/contexts.js'
export { type DatePrecision, iso8601Precision } from './validation/iso8601.js'
export type { OnlineOptions, OnlineSummary } from './validation/online.js'
export { type CrateProfile, PROFILE_NAMES } from './validation/profiles.js'
export {
  type CrateReport,
  crateReport,
  formatCrateReport,
  type ReportOptions,
  type RuleOutcome,
  type RuleResult,
  validateCrateReport,
} from './validation/report.js'
export { RO_CRATE_RULES, type RoCrateRule, type RuleInfo } from './validation/rules.js'
export {
  type CrateValidation,
  readValidCrate,
  type ValidateOptions,
  validateCrate,
} from './validation/validate.js'
