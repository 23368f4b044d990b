// Memory of the Automerge metadata store: resident set size (RSS) and JS heap per 10 000 resource
// documents, against the in-memory mock holding the same crates as plain objects (the baseline), and
// what evicting idle documents (`evictIdle`, i.e. `repo.removeFromCache`) gives back.
//
// The scenario with storage keeps documents in files without fsync (the production FsyncStorageAdapter
// of @aruna/platform costs about 0.1 s of fsyncs per import here, which says nothing about memory).
//
// Each scenario runs in a child process of its own (RSS is per process, and WebAssembly memory, where
// Automerge keeps documents, never shrinks once grown), started with --expose-gc so that every figure
// is taken after a full collection. BENCH_DOCS sets the number of documents (default 2 000: with every
// document resident, each import slows down as the heap grows, and 10 000 take many minutes); figures
// are scaled to 10 000 documents, which is fair for memory (it grows in proportion).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Chunk, StorageAdapterInterface, StorageKey } from '@automerge/automerge-repo'
import { Repo } from '@automerge/automerge-repo'
import { AutomergeMetadataStore, MemoryMetadataStore, type MetadataStore } from '../dist/index.js'
import { sampleCrate } from '../dist/testing/sample-crate.js'

const DOCS = Number(process.env.BENCH_DOCS ?? 2_000)
/** In the bounded scenario, idle documents are evicted after every this many imports. */
const EVICT_EVERY = 500
/** In the scenario with `maxResident`, at most this many documents stay in memory. */
const MAX_RESIDENT = 200

/** Chunks as files, one per key, without fsync: storage for measuring memory, not durability. */
class PlainFileStorage implements StorageAdapterInterface {
  readonly #root: string
  constructor(root: string) {
    this.#root = root
  }
  #path(key: StorageKey): string {
    return join(this.#root, key.map((segment) => encodeURIComponent(segment)).join('~'))
  }
  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    return readFile(this.#path(key)).catch(() => undefined)
  }
  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    await mkdir(this.#root, { recursive: true })
    await writeFile(this.#path(key), data)
  }
  async remove(key: StorageKey): Promise<void> {
    await rm(this.#path(key), { force: true })
  }
  async loadRange(prefix: StorageKey): Promise<Chunk[]> {
    const start = `${prefix.map((segment) => encodeURIComponent(segment)).join('~')}~`
    const names = await readdir(this.#root).catch(() => [] as string[])
    const chunks: Chunk[] = []
    for (const name of names.filter((candidate) => candidate.startsWith(start))) {
      const key = name.split('~').map((segment) => decodeURIComponent(segment))
      chunks.push({ key, data: await readFile(join(this.#root, name)) })
    }
    return chunks
  }
  async removeRange(prefix: StorageKey): Promise<void> {
    for (const chunk of await this.loadRange(prefix)) await this.remove(chunk.key)
  }
}
const PER = 10_000
const MiB = 1024 * 1024

interface Figures {
  scenario: string
  rss: number
  heap: number
  external: number
  seconds: number
  /** After `evictIdle()`, for the scenario with storage. */
  evicted?: { rss: number; heap: number; resident: number; reloadMs: number }
}

function settle(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc
  for (let round = 0; round < 3; round += 1) gc?.()
  return process.memoryUsage()
}

async function fill(store: MetadataStore, every?: (index: number) => Promise<void>): Promise<number> {
  const started = performance.now()
  for (let index = 0; index < DOCS; index += 1) {
    const crate = sampleCrate()
    crate['@graph'][1]!.name = `Resource ${index}`
    await store.importCrate(`g${index % 20}`, crate, { resourceId: `r${String(index).padStart(6, '0')}` })
    await every?.(index)
  }
  return (performance.now() - started) / 1000
}

async function run(scenario: string): Promise<Figures> {
  const before = settle()
  const delta = (after: NodeJS.MemoryUsage) => ({
    rss: after.rss - before.rss,
    heap: after.heapUsed - before.heapUsed,
    external: after.external + after.arrayBuffers - before.external - before.arrayBuffers,
  })
  if (scenario === 'memory-mock') {
    const store = new MemoryMetadataStore()
    const seconds = await fill(store)
    return { scenario, seconds, ...delta(settle()) }
  }
  if (scenario === 'repo-only') {
    // automerge-repo alone: the same crates as documents, no store around them.
    const repo = new Repo()
    const handles = []
    const started = performance.now()
    for (let index = 0; index < DOCS; index += 1) handles.push(repo.create(sampleCrate()))
    const seconds = (performance.now() - started) / 1000
    return { scenario, seconds, ...delta(settle()) }
  }
  if (scenario === 'automerge-memory') {
    const store = await AutomergeMetadataStore.create({ repo: new Repo() })
    const seconds = await fill(store)
    const figures = { scenario, seconds, ...delta(settle()) }
    await store.close()
    return figures
  }
  const directory = mkdtempSync(join(tmpdir(), 'aruna-metadata-bench-'))
  try {
    const storage = new PlainFileStorage(directory)
    if (scenario === 'automerge-max-resident') {
      const bounded = await AutomergeMetadataStore.create({
        repo: new Repo({ storage }),
        maxResident: MAX_RESIDENT,
      })
      const seconds = await fill(bounded)
      await new Promise((resolve) => setTimeout(resolve, 500))
      const figures = { scenario, seconds, ...delta(settle()) }
      await bounded.close()
      return figures
    }
    const store = await AutomergeMetadataStore.create({ repo: new Repo({ storage }) })
    if (scenario === 'automerge-bounded') {
      const seconds = await fill(store, async (index) => {
        if ((index + 1) % EVICT_EVERY === 0) await store.evictIdle(200)
      })
      await new Promise((resolve) => setTimeout(resolve, 500))
      await store.evictIdle()
      const figures = { scenario, seconds, ...delta(settle()) }
      await store.close()
      return figures
    }
    const seconds = await fill(store)
    const figures: Figures = { scenario, seconds, ...delta(settle()) }
    // automerge-repo's throttled saves and syncs hold each document for ~100 ms after its last change.
    await new Promise((resolve) => setTimeout(resolve, 500))
    await store.evictIdle()
    await new Promise((resolve) => setTimeout(resolve, 500))
    const resident = store.residentCount
    const after = delta(settle())
    const started = performance.now()
    for (let index = 0; index < 100; index += 1) await store.get(`r${String(index * 7).padStart(6, '0')}`)
    const reloadMs = (performance.now() - started) / 100
    figures.evicted = { rss: after.rss, heap: after.heap, resident, reloadMs }
    await store.close()
    return figures
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

function child(scenario: string): Figures {
  const result = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), scenario], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * MiB,
  })
  if (result.status !== 0) throw new Error(`scenario ${scenario} failed (exit ${result.status})`)
  // automerge-repo logs to stdout now and then; the figures are the last JSON line.
  const line = result.stdout
    .trim()
    .split('\n')
    .findLast((candidate) => candidate.startsWith('{'))
  return JSON.parse(line ?? '{}') as Figures
}

const perTen = (bytes: number) => ((bytes / DOCS) * PER) / MiB
const fmt = (value: number) => value.toFixed(1)

const scenario = process.argv[2]
if (scenario !== undefined) {
  console.log(JSON.stringify(await run(scenario)))
  // A Repo keeps timers (a minute long) that would hold the process open.
  process.exit(0)
} else {
  const base = child('memory-mock')
  const repoOnly = child('repo-only')
  const inMemory = child('automerge-memory')
  const onDisk = child('automerge-storage')
  const bounded = child('automerge-bounded')
  const maxResident = child('automerge-max-resident')
  const rows = [
    ['memory mock (plain objects): baseline', base],
    ['automerge-repo alone (`repo.create(crate)`), no store', repoOnly],
    ['Automerge store, Repo without storage', inMemory],
    ['Automerge store, file storage', onDisk],
    [`Automerge store, file storage, \`evictIdle(200 ms)\` every ${EVICT_EVERY} imports`, bounded],
    [`Automerge store, file storage, \`maxResident: ${MAX_RESIDENT}\``, maxResident],
  ] as const
  const lines = [
    '## Metadata store memory per 10 000 documents',
    '',
    `${DOCS} resources imported (the 6-entity sample crate, 20 groups), then a full GC; figures scaled to`,
    '10 000 documents. RSS, JS heap, and external memory (ArrayBuffers and WebAssembly, where Automerge',
    'keeps the documents), in MiB. Ratios against the memory mock, which holds the same crates as plain',
    'objects. Import time grows with the heap when every document stays resident; with eviction it does not.',
    '',
    '| store | RSS MiB / 10k | × mock | heap MiB / 10k | external MiB / 10k | import s / 10k |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      ([name, figures]) =>
        `| ${name} | ${fmt(perTen(figures.rss))} | ${fmt(figures.rss / base.rss)} | ${fmt(perTen(figures.heap))} | ${fmt(perTen(figures.external))} | ${fmt((figures.seconds / DOCS) * PER)} |`,
    ),
    '',
    `After \`evictIdle()\` on the store with storage: ${onDisk.evicted?.resident} documents resident, JS heap`,
    `${fmt(perTen(onDisk.evicted?.heap ?? 0))} MiB / 10k (from ${fmt(perTen(onDisk.heap))}), RSS ${fmt(perTen(onDisk.evicted?.rss ?? 0))} MiB / 10k`,
    '(RSS and external memory stay: WebAssembly memory is reused by the next documents loaded, never returned',
    'to the system; what leaves is the JS heap: handles, synchronizers, materialised documents).',
    `Loading an evicted document again from storage: ${fmt(onDisk.evicted?.reloadMs ?? 0)} ms.`,
  ]
  console.log(lines.join('\n'))
}
