// Search: FlexSearchIndex against the in-memory mock (MemorySearchIndex, the baseline: it evaluates the
// query over every document), over synthetic RO-Crates (`syntheticResources`, turned into search
// documents by `searchDocumentOf`). Measured, each index in a child process of its own (RSS is per
// process; started with --expose-gc so memory is taken after a full collection):
//
// - build: indexing every document, one `index()` after the other;
// - rebuild: what a node does on start (the index lives in memory): `SearchIndexer.rebuild` reading every
//   crate from a MemoryMetadataStore, extracting and indexing it; and the same from an
//   AutomergeMetadataStore reopened on its storage (files, no fsync) as after a restart, with at most 200
//   documents resident, over BENCH_AUTOMERGE_DOCS documents (default 1 000: importing into Automerge is
//   slow, see memory.bench.ts), given per document;
// - queries: p50 and p99 over every run of a set of queries covering the language (words, phrases,
//   fields, ranges, AND/OR/NOT, the empty query, facets, sort by date), each run with a caller's
//   universe from @aruna/auth (SearchUniverses over a UniverseIndex: READ on 8 of the 16 groups, i.e.
//   about half the documents, as a roaring bitmap);
// - RSS and heap growth from indexing.
//
// BENCH_DOCS sets the number of documents (default 20 000 so that `pnpm bench` stays short; the README
// figures are from BENCH_DOCS=100000). BENCH_ROUNDS sets how often each query runs (default 5).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineRole, MemoryRoleSource, SearchUniverses, UniverseIndex } from '@aruna/auth'
import type { Chunk, StorageAdapterInterface, StorageKey } from '@automerge/automerge-repo'
import { Repo } from '@automerge/automerge-repo'
import {
  AutomergeMetadataStore,
  FlexSearchIndex,
  MemoryMetadataStore,
  MemorySearchIndex,
  SEARCH_SNAPSHOT_FILE,
  type SearchDocument,
  type SearchIndex,
  SearchIndexer,
  type SearchOptions,
  searchDocumentOf,
  syntheticResources,
} from '../dist/index.js'

const DOCS = Number(process.env.BENCH_DOCS ?? 20_000)
const AUTOMERGE_DOCS = Number(process.env.BENCH_AUTOMERGE_DOCS ?? 1_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const GROUPS = 16
const REALM = 'realm'
const MiB = 1024 * 1024

const QUERIES: [string, Partial<SearchOptions>][] = [
  ['ice', {}],
  ['"sea ice"', {}],
  ['glacier arctic', {}],
  ['permafrost OR "ice core"', {}],
  ['satellite NOT model', {}],
  ['type:Dataset', {}],
  ['license:MIT', {}],
  ['keywords:satellite', {}],
  ['author:müller', {}],
  ['organization:"alfred wegener"', {}],
  ['encodingFormat:"application/x-netcdf"', {}],
  ['size:>1GB', {}],
  ['datePublished:2015..2018', {}],
  ['(ocean OR sea) datePublished:>2020 size:<100MB', {}],
  ['nosuchword', {}],
  ['', {}],
  ['ice', { facets: true }],
  ['ice', { sort: 'date' }],
]

interface Figures {
  scenario: string
  documents: number
  visible: number
  buildSeconds: number
  rebuildSeconds?: number
  /** Saving the index to a file and loading it back (FlexSearchIndex only), and the file's size. */
  snapshot?: { saveSeconds: number; loadSeconds: number; mib: number }
  rssMiB: number
  heapMiB: number
  /** Per query: the median of its runs, in milliseconds. */
  medians: number[]
  p50: number
  p99: number
}

/**
 * Chunks as files without fsync, one directory per document (the first key segment) as
 * FsyncStorageAdapter lays them out, so loading one document lists one directory: a restart's storage,
 * not a durability test.
 */
class PlainFileStorage implements StorageAdapterInterface {
  readonly #root: string
  constructor(root: string) {
    this.#root = root
  }
  #dir(key: StorageKey): string {
    return join(this.#root, encodeURIComponent(key[0] ?? ''))
  }
  #path(key: StorageKey): string {
    return join(
      this.#dir(key),
      key
        .slice(1)
        .map((segment) => encodeURIComponent(segment))
        .join('~') || '_',
    )
  }
  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    return readFile(this.#path(key)).catch(() => undefined)
  }
  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    await mkdir(this.#dir(key), { recursive: true })
    await writeFile(this.#path(key), data)
  }
  async remove(key: StorageKey): Promise<void> {
    await rm(this.#path(key), { force: true })
  }
  async loadRange(prefix: StorageKey): Promise<Chunk[]> {
    const dirs =
      prefix.length === 0
        ? await readdir(this.#root).catch(() => [] as string[])
        : [encodeURIComponent(prefix[0]!)]
    const rest = prefix
      .slice(1)
      .map((segment) => encodeURIComponent(segment))
      .join('~')
    const chunks: Chunk[] = []
    for (const dir of dirs) {
      const names = await readdir(join(this.#root, dir)).catch(() => [] as string[])
      for (const name of names.filter((candidate) => rest === '' || candidate.startsWith(`${rest}~`))) {
        const key = [
          decodeURIComponent(dir),
          ...name.split('~').map((segment) => decodeURIComponent(segment)),
        ]
        chunks.push({ key, data: await readFile(join(this.#root, dir, name)) })
      }
    }
    return chunks
  }
  async removeRange(prefix: StorageKey): Promise<void> {
    for (const chunk of await this.loadRange(prefix)) await this.remove(chunk.key)
  }
}

/** Seconds to rebuild an index from an AutomergeMetadataStore reopened on its files, as after a restart. */
async function automergeRebuild(): Promise<number> {
  const directory = mkdtempSync(join(tmpdir(), 'aruna-search-bench-'))
  try {
    const first = new Repo({ storage: new PlainFileStorage(directory) })
    const store = await AutomergeMetadataStore.create({ repo: first, maxResident: 200 })
    for (const { resourceId, group, crate } of syntheticResources(AUTOMERGE_DOCS, 1, GROUPS)) {
      await store.importCrate(group, crate, { resourceId })
    }
    // automerge-repo's throttled saves hold each document for ~100 ms after its last change.
    await new Promise((resolve) => setTimeout(resolve, 500))
    await store.close()
    await first.flush()
    await first.shutdown()
    const repo = new Repo({ storage: new PlainFileStorage(directory) })
    const reopened = await AutomergeMetadataStore.open({
      repo,
      catalogUrl: store.catalogUrl,
      maxResident: 200,
    })
    const indexer = new SearchIndexer({ index: new FlexSearchIndex(), realm: REALM, concurrency: 16 })
    const started = performance.now()
    await indexer.rebuild(
      reopened,
      Array.from({ length: GROUPS }, (_, group) => `g${group}`),
    )
    const seconds = (performance.now() - started) / 1000
    if (indexer.size !== AUTOMERGE_DOCS)
      throw new Error(`rebuilt ${indexer.size} of ${AUTOMERGE_DOCS} documents`)
    await reopened.close()
    await repo.shutdown()
    return seconds
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

function settle(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc
  for (let round = 0; round < 3; round += 1) gc?.()
  return process.memoryUsage()
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

function documents(): SearchDocument[] {
  const found: SearchDocument[] = []
  for (const { resourceId, group, crate } of syntheticResources(DOCS, 1, GROUPS)) {
    const path = `/${REALM}/g/${group}/meta/${resourceId}`
    found.push(searchDocumentOf(crate, { resourceId, group }, found.length, path))
  }
  return found
}

/** The caller's universe as the node computes it: READ on groups g0 … g7 (about half the documents). */
async function universeOf(docs: SearchDocument[]) {
  const index = new UniverseIndex()
  for (const doc of docs) index.add(doc.ordinal, doc.path)
  const roles = new MemoryRoleSource()
  for (let group = 0; group < GROUPS / 2; group += 1) {
    roles.add(
      'reader',
      defineRole({
        name: `reader-g${group}`,
        scope: { realm: REALM, group: `g${group}` },
        rules: [{ pattern: `/${REALM}/g/g${group}/**`, permission: 'READ' }],
      }),
    )
  }
  return new SearchUniverses({ index, roles }).universeFor({ userId: 'reader' })
}

async function run(scenario: string): Promise<Figures> {
  const docs = documents()
  const universe = await universeOf(docs)
  const before = settle()
  const index: SearchIndex = scenario === 'mock' ? new MemorySearchIndex() : new FlexSearchIndex()
  let started = performance.now()
  for (const doc of docs) await index.index(doc)
  const buildSeconds = (performance.now() - started) / 1000
  const after = settle()

  const times: number[] = []
  const medians: number[] = []
  for (const [query, options] of QUERIES) {
    const runs: number[] = []
    for (let round = -1; round < ROUNDS; round += 1) {
      started = performance.now()
      await index.search(query, { universe, limit: 20, ...options })
      if (round >= 0) runs.push(performance.now() - started)
    }
    runs.sort((a, b) => a - b)
    medians.push(percentile(runs, 50))
    times.push(...runs)
  }
  times.sort((a, b) => a - b)

  let rebuildSeconds: number | undefined
  let snapshot: Figures['snapshot']
  if (index instanceof FlexSearchIndex) {
    const directory = mkdtempSync(join(tmpdir(), 'aruna-search-snapshot-'))
    try {
      started = performance.now()
      await index.save(directory)
      const saveSeconds = (performance.now() - started) / 1000
      started = performance.now()
      const loaded = await FlexSearchIndex.load(directory)
      const loadSeconds = (performance.now() - started) / 1000
      if (loaded?.size !== DOCS) throw new Error('the snapshot did not load whole')
      const mib = statSync(join(directory, SEARCH_SNAPSHOT_FILE)).size / MiB
      snapshot = { saveSeconds, loadSeconds, mib }
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
  }
  if (scenario === 'flexsearch') {
    const store = new MemoryMetadataStore()
    for (const { resourceId, group, crate } of syntheticResources(DOCS, 1, GROUPS)) {
      await store.importCrate(group, crate, { resourceId })
    }
    const indexer = new SearchIndexer({ index: new FlexSearchIndex(), realm: REALM, concurrency: 16 })
    started = performance.now()
    await indexer.rebuild(
      store,
      Array.from({ length: GROUPS }, (_, group) => `g${group}`),
    )
    rebuildSeconds = (performance.now() - started) / 1000
    if (indexer.size !== DOCS) throw new Error(`rebuilt ${indexer.size} of ${DOCS} documents`)
  }
  return {
    scenario,
    documents: docs.length,
    visible: universe.size,
    buildSeconds,
    ...(rebuildSeconds === undefined ? {} : { rebuildSeconds }),
    ...(snapshot === undefined ? {} : { snapshot }),
    rssMiB: (after.rss - before.rss) / MiB,
    heapMiB: (after.heapUsed - before.heapUsed) / MiB,
    medians,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
  }
}

function child<T = Figures>(scenario: string): T {
  const result = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), scenario], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  })
  if (result.status !== 0)
    throw new Error(`scenario ${scenario} failed (exit ${result.status ?? result.signal})`)
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as T
}

const scenario = process.argv[2]
if (scenario === 'automerge-rebuild') {
  console.log(JSON.stringify({ seconds: await automergeRebuild() }))
} else if (scenario !== undefined) {
  console.log(JSON.stringify(await run(scenario)))
} else {
  const flex = child('flexsearch')
  const mock = child('mock')
  const automerge = child<{ seconds: number }>('automerge-rebuild')
  const ms = (value: number) => value.toFixed(value < 10 ? 2 : 1)
  const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}×`
  const lines = [
    `## Search index: FlexSearchIndex vs the mock, ${flex.documents.toLocaleString('en')} documents`,
    '',
    `Synthetic RO-Crates (${GROUPS} groups); the caller may read ${flex.visible.toLocaleString('en')} of them`,
    '(a roaring bitmap from @aruna/auth). Query times over all runs of every query below, each run',
    `${ROUNDS} times after one warm-up; "mock / flex" is how many times slower the mock is.`,
    '',
    '| | FlexSearchIndex | mock | mock / flex |',
    '| --- | ---: | ---: | ---: |',
    `| build (index every document) | ${flex.buildSeconds.toFixed(1)} s | ${mock.buildSeconds.toFixed(1)} s | ${ratio(mock.buildSeconds, flex.buildSeconds)} |`,
    `| rebuild on start (SearchIndexer from a MemoryMetadataStore) | ${flex.rebuildSeconds!.toFixed(1)} s | | |`,
    `| rebuild on start from an AutomergeMetadataStore on disk, per document (${AUTOMERGE_DOCS.toLocaleString('en')} documents) | ${((automerge.seconds / AUTOMERGE_DOCS) * 1000).toFixed(2)} ms | | |`,
    `| save a snapshot (${flex.snapshot!.mib.toFixed(0)} MiB file) / load it | ${flex.snapshot!.saveSeconds.toFixed(1)} s / ${flex.snapshot!.loadSeconds.toFixed(1)} s | | |`,
    `| query p50 | ${ms(flex.p50)} ms | ${ms(mock.p50)} ms | ${ratio(mock.p50, flex.p50)} |`,
    `| query p99 | ${ms(flex.p99)} ms | ${ms(mock.p99)} ms | ${ratio(mock.p99, flex.p99)} |`,
    `| RSS growth from indexing | ${flex.rssMiB.toFixed(0)} MiB | ${mock.rssMiB.toFixed(0)} MiB | |`,
    `| JS heap growth | ${flex.heapMiB.toFixed(0)} MiB | ${mock.heapMiB.toFixed(0)} MiB | |`,
    '',
    '| query (median ms) | FlexSearchIndex | mock | mock / flex |',
    '| --- | ---: | ---: | ---: |',
    ...QUERIES.map(([query, options], position) => {
      const extra = Object.keys(options).length === 0 ? '' : ` ${JSON.stringify(options)}`
      const label = `\`${query === '' ? '(empty)' : query.replace(/\|/g, '\\|')}\`${extra}`
      return `| ${label} | ${ms(flex.medians[position]!)} | ${ms(mock.medians[position]!)} | ${ratio(mock.medians[position]!, flex.medians[position]!)} |`
    }),
  ]
  console.log(lines.join('\n'))
}
