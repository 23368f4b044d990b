/**
 * Realm-wide search on a node, composed from the packages' parts:
 *
 * - **Index**: a `FlexSearchIndex` of the resource documents this node holds (the metadata placement's
 *   choice), kept in step by a `SearchIndexer` that follows the metadata store (local and synced
 *   changes); rebuilt from the store at start and when the realm's live nodes change (holders move).
 * - **Authorization**: the indexer's ordinals feed `@aruna/auth`'s `UniverseIndex`; `SearchUniverses`
 *   gives each caller the bitmap of what their roles let them READ (DENY wins), and the index drops every
 *   other document before scoring, counting and paging.
 * - **Federation**: each node answers for the resources it is the first live holder of (so the realm's
 *   nodes answer for disjoint shares); the entry node asks every connected node of the realm's node
 *   list over `/aruna/search/1.0.0`
 *   with the caller's token (each node verifies it and filters by the caller's own universe), merges by
 *   normalised score (or by date), deduplicates by resource id, sums the facets, pages with a signed
 *   cursor, and names the listed nodes that it could not reach or that did not answer in time
 *   (`partial`: their share may be missing).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  type Principal,
  principalOf,
  type RoleSource,
  SearchUniverses,
  type TokenVerifier,
  UniverseIndex,
} from '@aruna/auth'
import {
  type AutomergeMetadataStore,
  FlexSearchIndex,
  InvalidQueryError,
  isMetadataError,
  type MetadataStore,
  type SearchDocument,
  type SearchFacets,
  type SearchIndex,
  SearchIndexer,
  type SearchOptions,
  type SearchPage,
  type SearchUniverse,
} from '@aruna/metadata'
import type { Network } from '@aruna/network'
import { writeFileDurably } from '@aruna/platform'
import type { Logger } from '../logger.js'
import {
  type FacetValue,
  MAX_SEARCH_WINDOW,
  type NodeFacets,
  type NodeHit,
  type SearchRequest,
  type SearchResponse,
  type SearchSortOrder,
  searchProtocol,
} from './search-protocol.js'

export interface SearchNodeInit {
  readonly realmId: string
  readonly network: Network
  readonly store: AutomergeMetadataStore
  /** Which live nodes hold a document, first holder first (the metadata placement). */
  holders(documentId: string): string[]
  /** Every node of the realm (its node list), this one included: the ones whose share a result needs. */
  realmNodes(): Promise<readonly string[]>
  /** The nodes this one is connected to now: the only ones worth asking. */
  connected(): readonly string[]
  /** The realm's groups (to rebuild the index from the store). */
  groups(): Promise<readonly string[]>
  readonly roles: RoleSource
  readonly tokens: TokenVerifier
  readonly logger: Logger
  /** How long the entry node waits for each other node. Default 5 s. */
  readonly nodeTimeoutMs?: number
  /**
   * Where the index is saved (at stop, and every 10 minutes when it changed) and loaded from at start, so
   * a restarted node searches at once while it rebuilds behind. Absent: memory only.
   */
  readonly directory?: string
}

export interface SearchQuery {
  readonly query: string
  /** Hits per page, 1..100. */
  readonly limit: number
  readonly cursor?: string
  readonly sort: SearchSortOrder
  readonly facets: boolean
}

export interface SearchResults {
  readonly hits: NodeHit[]
  readonly facets?: NodeFacets
  readonly nextCursor?: string
  /** Some nodes did not answer: results (and counts) may lack their share. */
  readonly partial: boolean
  /** The nodes that did not answer. */
  readonly missing: string[]
}

export class SearchError extends Error {
  override readonly name = 'SearchError'
  constructor(
    readonly code: 'InvalidQuery' | 'InvalidCursor' | 'InvalidInput',
    message: string,
  ) {
    super(message)
  }
}

interface Summary {
  group: string
  name: string
  datePublished?: string
}

const SUMMARIES_FILE = 'search-summaries.json'
const SAVE_EVERY_MS = 10 * 60_000

/** Keeps what a search hit shows (group, name, date) for each indexed document. */
class SummarisingIndex implements SearchIndex {
  /** Changed since it was loaded or saved. */
  dirty = false
  constructor(
    readonly inner: FlexSearchIndex,
    readonly summaries = new Map<string, Summary>(),
  ) {}

  async index(doc: SearchDocument): Promise<void> {
    await this.inner.index(doc)
    this.dirty = true
    const first = (value: unknown) => (Array.isArray(value) ? value[0] : value)
    const name = first(doc.fields.name)
    const date = first(doc.fields.datePublished)
    this.summaries.set(doc.resourceId, {
      group: doc.group,
      name: typeof name === 'string' ? name : '',
      ...(typeof date === 'string' ? { datePublished: date } : {}),
    })
  }

  async remove(resourceId: string): Promise<void> {
    await this.inner.remove(resourceId)
    this.summaries.delete(resourceId)
    this.dirty = true
  }

  search(query: Parameters<SearchIndex['search']>[0], options: SearchOptions): Promise<SearchPage> {
    return this.inner.search(query, options)
  }
}

const REBUILD_DEBOUNCE_MS = 2_000
/** What `#primary` keeps of an ordinal; ordinals from this one up are worked out each time (16 MiB). */
const UNKNOWN = 0
const PRIMARY = 1
const SECONDARY = 2
const PRIMARY_KNOWN_BELOW = 1 << 24
const MAX_PAGE = 100

export class SearchNode {
  readonly #init: SearchNodeInit
  #index = new SummarisingIndex(new FlexSearchIndex())
  #indexer: SearchIndexer
  /** Until the first rebuild after start is done, this node's answers may lack some of its share. */
  #building = true
  #firstBuild: Promise<void> | undefined
  #saveTimer: NodeJS.Timeout | undefined
  readonly #universeIndex = new UniverseIndex()
  readonly #universes: SearchUniverses
  readonly #view: MetadataStore
  /** Signs cursors: they are this node's, and a client cannot forge one. */
  readonly #cursorKey = randomBytes(32)
  #unfollow: (() => void) | undefined
  #rebuildTimer: NodeJS.Timeout | undefined
  #rebuilding: Promise<void> | undefined
  readonly #unsubscribe: (() => void)[] = []
  #closed = false
  /**
   * By ordinal: whether this node is the first live holder of its document (`PRIMARY`, `SECONDARY`, or
   * `UNKNOWN` yet); cleared when nodes come or go. A typed array, so a search filtering a whole universe
   * by it reads one byte per ordinal.
   */
  #primary = new Uint8Array(0)

  constructor(init: SearchNodeInit) {
    this.#init = init
    this.#indexer = this.#makeIndexer()
    this.#universes = new SearchUniverses({ index: this.#universeIndex, roles: init.roles })
    this.#view = this.#heldView(init.store)
  }

  #makeIndexer(): SearchIndexer {
    const indexer = new SearchIndexer({
      index: this.#index,
      realm: this.#init.realmId,
      // A document not synced here yet (it came after its catalog entry), or a slow holder: read again,
      // 1 s doubling, 8 times (about 4 minutes in all), unless the resource changes meanwhile.
      retry: { delayMs: 1000, attempts: 8 },
      onError: (err, resourceId) =>
        this.#init.logger.warn({ err, resourceId }, 'a resource could not be indexed for search'),
    })
    indexer.onOrdinal((event) => {
      if (event.type === 'added') this.#universeIndex.add(event.ordinal, event.path)
      else this.#universeIndex.remove(event.ordinal)
    })
    return indexer
  }

  /** The saved index, or `undefined` (none, or damaged: then it is rebuilt). */
  async #loadSnapshot(): Promise<SummarisingIndex | undefined> {
    const directory = this.#init.directory
    if (directory === undefined) return undefined
    try {
      const inner = await FlexSearchIndex.load(directory)
      if (inner === undefined) return undefined
      const summaries = new Map<string, Summary>()
      try {
        const saved = JSON.parse(await readFile(join(directory, SUMMARIES_FILE), 'utf8')) as unknown
        if (Array.isArray(saved))
          for (const entry of saved) {
            if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue
            const value = entry[1] as Partial<Summary> | null
            if (typeof value?.group !== 'string' || typeof value.name !== 'string') continue
            summaries.set(entry[0], {
              group: value.group,
              name: value.name,
              ...(typeof value.datePublished === 'string' ? { datePublished: value.datePublished } : {}),
            })
          }
      } catch {
        // Names come back with the rebuild.
      }
      return new SummarisingIndex(inner, summaries)
    } catch (err) {
      this.#init.logger.warn({ err, directory }, 'the saved search index cannot be read; it is rebuilt')
      return undefined
    }
  }

  /** Saves the index when it changed since it was loaded or saved. */
  async save(): Promise<void> {
    const directory = this.#init.directory
    const index = this.#index
    if (directory === undefined || !index.dirty) return
    index.dirty = false
    try {
      await index.inner.save(directory)
      await writeFileDurably(join(directory, SUMMARIES_FILE), JSON.stringify([...index.summaries]))
    } catch (err) {
      index.dirty = true
      this.#init.logger.warn({ err, directory }, 'saving the search index failed')
    }
  }

  /**
   * Loads the saved index (if any) so the node searches at once, follows changes, answers other nodes'
   * searches, and rebuilds from the store behind (`wait`: until that is done). While the first rebuild
   * runs, this node's share is reported as incomplete (the entry node lists it in `missing`).
   */
  async start(options: { wait?: boolean } = {}): Promise<void> {
    const started = Date.now()
    const restored = await this.#loadSnapshot()
    if (restored) {
      this.#index = restored
      this.#indexer = this.#makeIndexer()
      try {
        this.#indexer.restore(restored.inner.entries())
        this.#init.logger.info({ documents: this.#indexer.size }, 'search index loaded; rebuilding behind')
      } catch (err) {
        this.#init.logger.warn({ err }, 'the saved search index does not fit this realm; it is rebuilt')
        this.#index = new SummarisingIndex(new FlexSearchIndex())
        this.#indexer = this.#makeIndexer()
      }
    }
    this.#unfollow = this.#indexer.follow(this.#view)
    this.#init.network.handle(searchProtocol, (request) => this.#answerPeer(request))
    const changed = () => {
      this.#primary = new Uint8Array(0)
      this.#scheduleRebuild()
    }
    this.#unsubscribe.push(
      this.#init.network.on('peer:join', changed),
      this.#init.network.on('peer:leave', changed),
      this.#init.network.on('peer:unreachable', changed),
    )
    this.#firstBuild = (async () => {
      try {
        await this.#indexer.rebuild(this.#view, await this.#init.groups())
        this.#init.logger.info(
          { documents: this.#indexer.size, ms: Date.now() - started },
          `search index built: ${this.#indexer.size} resources`,
        )
      } catch (err) {
        if (!this.#closed) this.#init.logger.warn({ err }, 'building the search index failed')
      } finally {
        this.#building = false
      }
    })()
    this.#saveTimer = setInterval(() => void this.save(), SAVE_EVERY_MS)
    this.#saveTimer.unref()
    if (options.wait) await this.#firstBuild
  }

  /** Documents in the index now. */
  get size(): number {
    return this.#indexer.size
  }

  /** Resolves once every change seen so far is indexed. */
  idle(): Promise<void> {
    return this.#indexer.idle()
  }

  /** Stops following and answering, and saves the index (when it has a directory). */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#saveTimer)
    clearTimeout(this.#rebuildTimer)
    this.#unfollow?.()
    for (const stop of this.#unsubscribe.splice(0)) stop()
    this.#init.network.unhandle(searchProtocol.id)
    this.#indexer.stop()
    // What is indexed now is saved (a rebuild at the next start brings what is still queued).
    await this.save()
  }

  /** A page of the realm's results for `caller`, asked of every live node. */
  async search(caller: Principal, token: string, q: SearchQuery): Promise<SearchResults> {
    if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_PAGE)
      throw new SearchError('InvalidInput', `limit must be 1 to ${MAX_PAGE}`)
    const fingerprint = this.#fingerprint(q)
    const offset = q.cursor === undefined ? 0 : this.#readCursor(q.cursor, fingerprint)
    const window = offset + q.limit + 1
    if (window > MAX_SEARCH_WINDOW)
      throw new SearchError('InvalidInput', `results go ${MAX_SEARCH_WINDOW} deep at most: narrow the query`)
    const request: SearchRequest = {
      kind: 'search',
      token,
      query: q.query,
      limit: window,
      sort: q.sort,
      facets: q.facets,
    }
    const self = this.#init.network.peerId
    const connected = new Set(this.#init.connected())
    const listed = (await this.#init.realmNodes()).filter((node) => node !== self)
    // A listed node this one cannot reach is not asked (no wait for a timeout): its share is missing.
    const unreachable = listed.filter((node) => !connected.has(node))
    const others = listed.filter((node) => connected.has(node))
    const local = await this.#answer(caller, request)
    if (local.kind === 'refused')
      throw new SearchError(local.code === 'InvalidQuery' ? 'InvalidQuery' : 'InvalidInput', local.message)
    const answers = await Promise.all(
      others.map(async (node) => {
        try {
          const answer = await this.#init.network.request(node, searchProtocol, request, {
            timeoutMs: this.#init.nodeTimeoutMs ?? 5_000,
          })
          if (answer.kind === 'refused') {
            if (answer.code === 'InvalidQuery') throw new SearchError('InvalidQuery', answer.message)
            this.#init.logger.debug({ node, code: answer.code }, `search: node refused: ${answer.message}`)
            return { node, answer: undefined }
          }
          return { node, answer }
        } catch (err) {
          if (err instanceof SearchError) throw err
          this.#init.logger.debug({ err, node }, 'search: a node did not answer')
          return { node, answer: undefined }
        }
      }),
    )
    const missing = [
      ...unreachable,
      ...answers.filter((a) => a.answer === undefined).map((a) => a.node),
    ].sort()
    const shares: Share[] = [local, ...answers.flatMap((a) => (a.answer === undefined ? [] : [a.answer]))]
    const merged = mergeHits(shares, q.sort)
    const page = merged.slice(offset, offset + q.limit)
    const more = merged.length > offset + q.limit || shares.some((share) => share.more)
    return {
      hits: page,
      ...(q.facets ? { facets: mergeFacets(shares.map((share) => share.facets)) } : {}),
      ...(more && page.length === q.limit
        ? { nextCursor: this.#makeCursor(fingerprint, offset + q.limit) }
        : {}),
      partial: missing.length > 0,
      missing,
    }
  }

  async #answerPeer(request: SearchRequest): Promise<SearchResponse> {
    let caller: Principal
    try {
      caller = principalOf(await this.#init.tokens.verify(request.token))
    } catch (err) {
      return {
        kind: 'refused',
        code: 'Unauthorized',
        message: `the caller's token is not valid here: ${err instanceof Error ? err.message : String(err)}`,
      }
    }
    return this.#answer(caller, request)
  }

  /** This node's share: the hits it is the first live holder of, in the caller's universe. */
  async #answer(caller: Principal, request: SearchRequest): Promise<SearchResponse> {
    if (this.#closed) return { kind: 'refused', code: 'Unavailable', message: 'the node is stopping' }
    const visible = await this.#universes.universeFor(caller)
    // What the caller may read and this node answers for; listed at once when the index asks for a mask.
    const universe: SearchUniverse = {
      has: (ordinal) => visible.has(ordinal) && this.#isPrimary(ordinal),
      size: visible.size,
      toUint32Array: (output) => this.#primaryOnly(visible.toUint32Array(output)),
    }
    let page: SearchPage
    try {
      page = await this.#index.search(request.query, {
        universe,
        limit: request.limit,
        sort: request.sort,
        facets: request.facets,
      })
    } catch (err) {
      if (isMetadataError(err, 'InvalidQuery') || isMetadataError(err, 'InvalidInput')) {
        const position = err instanceof InvalidQueryError ? err.position : undefined
        return {
          kind: 'refused',
          code: 'InvalidQuery',
          message: err.message,
          ...(position === undefined ? {} : { position }),
        }
      }
      throw err
    }
    const hits: NodeHit[] = page.hits.map((hit) => {
      const summary = this.#index.summaries.get(hit.resourceId)
      return {
        resourceId: hit.resourceId,
        group: summary?.group ?? '',
        name: summary?.name ?? '',
        score: hit.score,
        ...(summary?.datePublished === undefined ? {} : { datePublished: summary.datePublished }),
      }
    })
    return {
      kind: 'results',
      hits,
      more: page.nextCursor !== undefined,
      ...(this.#building ? { building: true } : {}),
      ...(page.facets === undefined ? {} : { facets: trimFacets(page.facets) }),
    }
  }

  /** The ones of `ordinals` (a list of our own: it is overwritten) this node is the first holder of. */
  #primaryOnly(ordinals: Uint32Array): Uint32Array {
    let kept = 0
    for (let at = 0; at < ordinals.length; at += 1) {
      const ordinal = ordinals[at]!
      if (this.#isPrimary(ordinal)) {
        ordinals[kept] = ordinal
        kept += 1
      }
    }
    return ordinals.subarray(0, kept)
  }

  #isPrimary(ordinal: number): boolean {
    const known = ordinal < this.#primary.length ? this.#primary[ordinal]! : UNKNOWN
    if (known !== UNKNOWN) return known === PRIMARY
    const resourceId = this.#indexer.resourceOf(ordinal)
    const documentId = resourceId === undefined ? undefined : this.#init.store.documentIdOf(resourceId)
    const primary =
      documentId !== undefined && this.#init.holders(documentId)[0] === this.#init.network.peerId
    // Only what is indexed is kept (an ordinal is never handed out again, so a removed one is never asked).
    if (resourceId !== undefined && ordinal < PRIMARY_KNOWN_BELOW) {
      if (ordinal >= this.#primary.length) {
        const grown = new Uint8Array(Math.min(PRIMARY_KNOWN_BELOW, Math.max(1024, 2 * ordinal + 2)))
        grown.set(this.#primary)
        this.#primary = grown
      }
      this.#primary[ordinal] = primary ? PRIMARY : SECONDARY
    }
    return primary
  }

  /** The store as the indexer sees it: only the documents this node holds. */
  #heldView(store: AutomergeMetadataStore): MetadataStore {
    const self = this.#init.network.peerId
    const held = (resourceId: string): boolean => {
      const documentId = store.documentIdOf(resourceId)
      return documentId !== undefined && this.#init.holders(documentId).includes(self)
    }
    return new Proxy(store, {
      get(target, property) {
        if (property === 'onChange')
          return (listener: Parameters<MetadataStore['onChange']>[0]) =>
            target.onChange((event) => {
              if (event.type === 'deleted' || held(event.resourceId)) listener(event)
            })
        if (property === 'listResources')
          return async (...args: Parameters<MetadataStore['listResources']>) => {
            const page = await target.listResources(...args)
            return { ...page, items: page.items.filter((item) => held(item.resourceId)) }
          }
        const value = Reflect.get(target, property, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    }) as MetadataStore
  }

  /** Holders move when nodes come and go: index what this node holds now (debounced). */
  #scheduleRebuild(): void {
    if (this.#closed) return
    clearTimeout(this.#rebuildTimer)
    this.#rebuildTimer = setTimeout(() => {
      if (this.#closed) return
      this.#rebuilding ??= (async () => {
        try {
          await this.#indexer.rebuild(this.#view, await this.#init.groups())
        } catch (err) {
          this.#init.logger.warn({ err }, 'rebuilding the search index failed')
        } finally {
          this.#rebuilding = undefined
        }
      })()
    }, REBUILD_DEBOUNCE_MS)
    this.#rebuildTimer.unref()
  }

  #fingerprint(q: SearchQuery): string {
    return createHash('sha256').update(`${q.sort}\n${q.facets}\n${q.query}`).digest('base64url').slice(0, 16)
  }

  #makeCursor(fingerprint: string, offset: number): string {
    const body = Buffer.from(JSON.stringify({ f: fingerprint, o: offset })).toString('base64url')
    const mac = createHmac('sha256', this.#cursorKey).update(body).digest('base64url').slice(0, 22)
    return `${body}.${mac}`
  }

  #readCursor(cursor: string, fingerprint: string): number {
    const invalid = () =>
      new SearchError('InvalidCursor', 'the cursor is not one this node made for this query: start again')
    const [body, mac, ...rest] = cursor.split('.')
    if (body === undefined || mac === undefined || rest.length > 0 || cursor.length > 512) throw invalid()
    const expected = Buffer.from(
      createHmac('sha256', this.#cursorKey).update(body).digest('base64url').slice(0, 22),
    )
    const given = Buffer.from(mac)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid()
    const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { f?: unknown; o?: unknown }
    if (
      parsed.f !== fingerprint ||
      typeof parsed.o !== 'number' ||
      !Number.isSafeInteger(parsed.o) ||
      parsed.o < 0
    )
      throw invalid()
    return parsed.o
  }
}

type Share = Extract<SearchResponse, { kind: 'results' }>

/**
 * One ranking of every node's hits: by score normalised per node (each node's best is 1, since scores
 * depend on each node's corpus), or by date; then by resource id. A resource is kept once, at its best.
 */
export function mergeHits(shares: readonly Share[], sort: SearchSortOrder): NodeHit[] {
  const best = new Map<string, NodeHit>()
  for (const share of shares) {
    const top = Math.max(0, ...share.hits.map((hit) => hit.score))
    for (const hit of share.hits) {
      const normalised = { ...hit, score: top > 0 ? Math.max(0, hit.score) / top : 0 }
      const seen = best.get(hit.resourceId)
      if (seen === undefined || normalised.score > seen.score) best.set(hit.resourceId, normalised)
    }
  }
  const byId = (a: NodeHit, b: NodeHit) =>
    a.resourceId < b.resourceId ? -1 : a.resourceId > b.resourceId ? 1 : 0
  return [...best.values()].sort((a, b) => {
    if (sort === 'date') {
      const da = a.datePublished ?? ''
      const db = b.datePublished ?? ''
      if (da !== db) return da === '' ? 1 : db === '' ? -1 : da > db ? -1 : 1
      return byId(a, b)
    }
    return b.score - a.score || byId(a, b)
  })
}

/** The facet counts of every node, summed (the nodes' shares are disjoint). */
export function mergeFacets(facets: readonly (NodeFacets | undefined)[]): NodeFacets {
  const sum = (key: keyof NodeFacets): FacetValue[] => {
    const counts = new Map<string, number>()
    for (const f of facets)
      for (const { value, count } of f?.[key] ?? []) counts.set(value, (counts.get(value) ?? 0) + count)
    return [...counts]
      .map(([value, count]) => ({ value, count }))
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
  }
  return { type: sum('type'), license: sum('license'), year: sum('year') }
}

function trimFacets(facets: SearchFacets): NodeFacets {
  return {
    type: facets.type.slice(0, 200),
    license: facets.license.slice(0, 200),
    year: facets.year.slice(0, 200),
  }
}
