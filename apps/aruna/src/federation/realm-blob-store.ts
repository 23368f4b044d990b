/**
 * The realm's chunks seen from one node: a `BlobStore` whose chunks live on their holders, chosen by
 * weighted rendezvous hashing of the chunk id over the live realm nodes (DESIGN.md §5).
 *
 * - `put` sends the chunk to its holders as soon as the chunk is cut (the engine cuts the body into
 *   chunks while it arrives, so a large PUT streams chunk by chunk), stores it here only when this
 *   node is one of them, and resolves once a write quorum has it durable. A holder out of reach (down,
 *   but not yet past the grace period) is stood in for by the next node in the chunk's ranking (a
 *   sloppy quorum, so a partition or a restart does not refuse writes); the stand-in hands its copy to
 *   the holder and drops it through the repair sweep (`DataUpkeep`). The other copies go on in the
 *   background; a copy that fails is made by the repair sweep, which finds every chunk below its
 *   factor from the nodes' own stores, so the stores are the repair queue.
 * - `get` reads the local copy when there is one (verified), and otherwise fetches from a holder, one
 *   hop, failing over to the next holder and then to any other connected node, verifying the hash of
 *   what arrives. A holder that lacks its copy or finds it corrupt stores the fetched one (read-repair).
 * - `has` is true when any holder has the chunk (copy and UploadPartCopy reuse chunks by it).
 * - `list`, `stat` and `delete` are this node's store (garbage collection and scrub are per node).
 *
 * The serving side (`serve`) answers other nodes' fetch, push and have-chunks requests from the local
 * store.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import {
  type AbortOptions,
  type BlobStore,
  type ChunkRef,
  type ChunkSource,
  type ChunkStat,
  checkNamedChunk,
  chosenHolders,
  chunkCidOf,
  DataError,
  type FetchChunkResponse,
  type GetOptions,
  type HaveChunksResponse,
  isDataError,
  MAX_RIDING_CHUNK_BYTES,
  type PushChunkResponse,
  type PutOptions,
  putNamedChunk,
  type ReplicationProtocols,
  rankNodes,
} from '@aruna/data'
import { isNetworkError, type Network } from '@aruna/network'
import type { Logger } from '../logger.js'
import { ChunkRiders, type Rider } from './chunk-riders.js'
import type { RealmNodes } from './realm-nodes.js'

/** How long one chunk transfer to or from another node may take. */
const TRANSFER_TIMEOUT_MS = 30_000
/** Waits before a read asks the other nodes again for a chunk none of them could give (`#fetchPatiently`). */
const FETCH_RETRY_DELAYS_MS = [250, 1000]
/** How long a read waits for a node out of reach to answer (the network dials it). */
const DIAL_TIMEOUT_MS = 5000
/** How long a have-chunks question may take. */
const QUESTION_TIMEOUT_MS = 10_000

/** The write quorum: `majority` of the replication factor, or a number of holders. */
export type WriteQuorum = 'majority' | number

export interface RealmBlobStoreInit {
  /** This node's own chunks. */
  readonly local: BlobStore
  readonly network: Network
  readonly protocols: ReplicationProtocols
  readonly nodes: RealmNodes
  readonly writeQuorum: WriteQuorum
  readonly logger: Logger
  /** How long a rider waits for its record before it goes alone (default `RIDER_TTL_MS`). */
  readonly riderTtlMs?: number
}

/** Counters of what the store did since start (metrics and `aruna status`). */
export interface RealmBlobCounters {
  /** Chunks read from another node because this one held no good copy. */
  remoteReads: number
  /** Local copies restored by read-repair. */
  readRepairs: number
  /** Copies to holders that failed after the write had its quorum (the repair sweep makes them). */
  lateCopyFailures: number
  /** Corrupt local copies a read found (and took out of service), and of those the ones read-repair replaced. */
  corruptFound: number
  corruptRepaired: number
}

/** Where a chunk is written (`RealmBlobStore.targets`): the nodes, and how many holders it has. */
export interface Placement {
  readonly targets: string[]
  readonly holders: number
}

export class RealmBlobStore implements BlobStore {
  readonly #init: RealmBlobStoreInit
  readonly counters: RealmBlobCounters = {
    remoteReads: 0,
    readRepairs: 0,
    lateCopyFailures: 0,
    corruptFound: 0,
    corruptRepaired: 0,
  }
  /** Copies still going after their write was acknowledged. */
  readonly #late = new Set<Promise<unknown>>()
  /** Chunks waiting to travel with their version record (`put` with `withVersion`). */
  readonly riders: ChunkRiders

  constructor(init: RealmBlobStoreInit) {
    this.#init = init
    this.riders = new ChunkRiders((rider) => this.#sendAlone(rider), init.riderTtlMs)
  }

  get local(): BlobStore {
    return this.#init.local
  }

  get network(): Network {
    return this.#init.network
  }

  /** The chunk's holders now, best first. */
  holders(cid: string): string[] {
    return chosenHolders(this.#init.nodes.members(), {
      key: cid,
      factor: this.#init.nodes.factor(),
      holders: [],
    })
  }

  /** Holders that must have a chunk durable before its write is acknowledged. */
  quorum(holders: number): number {
    const wanted =
      this.#init.writeQuorum === 'majority'
        ? Math.floor(this.#init.nodes.factor() / 2) + 1
        : this.#init.writeQuorum
    return Math.max(1, Math.min(wanted, holders))
  }

  async put(source: ChunkSource, options: PutOptions = {}): Promise<ChunkRef> {
    const bytes = await collect(source)
    const cid = chunkCidOf(bytes)
    // Placed once: both ways below write to the same nodes.
    const placed = this.targets(cid)
    // Small chunks of PutObjects go with their version record (`riders`, which the realm's object index
    // takes them from).
    if (options.withVersion === true) {
      const ridden = await this.#ride(cid, bytes, options, placed)
      if (ridden !== undefined) return ridden
    }
    return this.#replicate(cid, bytes, options, placed)
  }

  /**
   * A small chunk whose version record comes next, when this node is one of the nodes it is written
   * to: written here, then left as a rider for the record's push to the others (`ChunkRiders`).
   * Undefined when it goes the usual way.
   */
  async #ride(
    cid: string,
    bytes: Uint8Array,
    options: PutOptions,
    placed: Placement,
  ): Promise<ChunkRef | undefined> {
    if (bytes.byteLength > MAX_RIDING_CHUNK_BYTES) return undefined
    const self = this.#init.nodes.self
    const { targets, holders } = placed
    const peers = targets.filter((target) => target !== self)
    const needed = this.quorum(holders) - 1
    if (peers.length === targets.length || peers.length === 0 || needed < 1) return undefined
    await putNamedChunk(this.#init.local, cid, bytes, options)
    this.riders.add({ cid, bytes, peers, needed })
    return { cid, size: bytes.byteLength }
  }

  /** A rider whose record never came (its PUT failed after storing it): a copy to its peers, late. */
  #sendAlone(rider: Rider): void {
    for (const peer of rider.peers) {
      this.#track(
        this.#writeTo(peer, rider.cid, rider.bytes, {}).catch((err: unknown) => {
          this.counters.lateCopyFailures++
          this.#init.logger.debug({ cid: rider.cid, peer, err }, 'a late chunk copy failed')
        }),
      )
    }
  }

  /** Keeps `write` among the copies `drain` waits for until it settles. */
  #track(write: Promise<unknown>): void {
    this.#late.add(write)
    void write.finally(() => this.#late.delete(write))
  }

  /** Bytes this process has just named (`BlobStore.putHashed`): replicated without hashing them again. */
  async putHashed(ref: ChunkRef, bytes: Uint8Array, options: PutOptions = {}): Promise<ChunkRef> {
    checkNamedChunk(ref, bytes)
    return this.#replicate(ref.cid, bytes, options)
  }

  async putVerified(cid: string, source: ChunkSource, options: PutOptions = {}): Promise<ChunkRef> {
    const bytes = await collect(source)
    if (chunkCidOf(bytes) !== cid)
      throw new DataError('CorruptChunk', `the bytes sent for chunk ${cid} do not match it`)
    return this.#replicate(cid, bytes, options)
  }

  /**
   * Where a chunk is written: its holders in reach, and for each holder out of reach the next node in
   * reach in the chunk's ranking.
   */
  targets(cid: string): Placement {
    const nodes = this.#init.nodes
    const members = nodes.members()
    const holders = chosenHolders(members, { key: cid, factor: this.#init.nodes.factor(), holders: [] })
    const inReach = holders.filter((id) => nodes.isConnected(id))
    const missing = holders.length - inReach.length
    if (missing === 0) return { targets: holders, holders: holders.length }
    const standIns = rankNodes(
      cid,
      members.filter((member) => member.state === 'live'),
    ).filter((id) => !holders.includes(id) && nodes.isConnected(id))
    return { targets: [...inReach, ...standIns.slice(0, missing)], holders: holders.length }
  }

  /** Writes to every target at once; resolves when a quorum (of the chunk's holders) has it durable. */
  #replicate(
    cid: string,
    bytes: Uint8Array,
    options: PutOptions,
    placed: Placement = this.targets(cid),
  ): Promise<ChunkRef> {
    const { targets: holders, holders: wanted } = placed
    const needed = this.quorum(wanted)
    const ref: ChunkRef = { cid, size: bytes.length }
    // The caller gets `bytes` back once every copy settled, late ones included, and the local store
    // gave them back too (a store that keeps them never does).
    // (Only for a caller that asks: nothing of this is made on the way of every other write.)
    const { release, ...writeOptions } = options
    let localDone: (() => void) | undefined
    const localReleased =
      release === undefined ? undefined : new Promise<void>((resolve) => (localDone = resolve))
    const writes: Promise<void>[] | undefined = release === undefined ? undefined : []
    return new Promise<ChunkRef>((resolve, reject) => {
      let stored = 0
      let pending = holders.length
      const reasons: string[] = []
      let settled = false
      let aborted: unknown
      // Settles once the quorum is reached, or once it no longer can be (the writes in reach went on).
      const check = (): void => {
        if (settled) return
        if (stored >= needed) {
          settled = true
          resolve(ref)
        } else if (stored + pending < needed) {
          settled = true
          const why =
            holders.length < needed
              ? `only ${holders.length} of the ${needed} nodes a write of chunk ${cid} needs are in reach`
              : `only ${stored} of the ${needed} nodes a write needs stored chunk ${cid} (${reasons.join('; ')})`
          reject(aborted ?? new DataError('ServiceUnavailable', why))
        }
      }
      const self = this.#init.nodes.self
      for (const holder of holders) {
        const write = this.#writeTo(
          holder,
          cid,
          bytes,
          holder === self && localDone !== undefined ? { ...writeOptions, release: localDone } : writeOptions,
        ).then(
          () => {
            stored++
            pending--
            check()
          },
          (err: unknown) => {
            pending--
            reasons.push(`${holder}: ${describe(err)}`)
            if (isDataError(err, 'Aborted')) aborted = err
            if (settled) {
              this.counters.lateCopyFailures++
              this.#init.logger.debug(
                { cid, holder, err },
                'a chunk copy failed after its write was acknowledged',
              )
            }
            check()
          },
        )
        this.#track(write)
        writes?.push(write)
      }
      if (release !== undefined && writes !== undefined) {
        if (!holders.includes(self)) localDone?.()
        void Promise.all([localReleased, Promise.allSettled(writes)]).then(() => release())
      }
      check()
    })
  }

  async #writeTo(holder: string, cid: string, bytes: Uint8Array, options: PutOptions): Promise<void> {
    if (holder === this.#init.nodes.self) {
      // Named by this store from these bytes (`put`, `putVerified`): the local store need not hash again.
      // `withVersion` and `deferCommit` go along: this copy may commit with the version record.
      await putNamedChunk(this.#init.local, cid, bytes, options)
      return
    }
    if (!this.#init.nodes.isConnected(holder)) throw new Error('not connected')
    const answer = await this.#init.network.request(
      holder,
      this.#init.protocols.pushChunk,
      { kind: 'push', cid, bytes },
      { timeoutMs: TRANSFER_TIMEOUT_MS, ...(options.signal === undefined ? {} : { signal: options.signal }) },
    )
    if (answer.kind !== 'stored') throw new Error(`${answer.code}: ${answer.message}`)
  }

  /**
   * `fetch`, asked again after `FETCH_RETRY_DELAYS_MS` when no node had the chunk to give: right after
   * this node starts (or a partition heals) the others may not be in reach for a moment, and a read
   * should wait that out rather than fail. A chunk no node has fails after the last try.
   */
  async #fetchPatiently(cid: string, options: AbortOptions): Promise<Uint8Array> {
    for (const delay of FETCH_RETRY_DELAYS_MS) {
      try {
        return await this.fetch(cid, options)
      } catch (err) {
        if (!isDataError(err, 'ServiceUnavailable')) throw err
      }
      // An abort ends the wait; the next fetch then answers Aborted.
      await sleep(delay, undefined, { signal: options.signal }).catch(() => undefined)
    }
    return this.fetch(cid, options)
  }

  /** `options.into` goes to the local store; a chunk fetched from another node comes in memory of its own. */
  async get(cid: string, options: GetOptions = {}): Promise<Uint8Array> {
    const local = this.#init.local
    let corrupt = false
    // Read at once (no `has` first: for a holder that is a second look at the disk).
    try {
      return await local.get(cid, options)
    } catch (err) {
      // A corrupt copy is out of service now (the store quarantined it): fetch a good one.
      if (!isDataError(err, 'CorruptChunk') && !isDataError(err, 'NoSuchChunk')) throw err
      if (isDataError(err, 'CorruptChunk')) {
        corrupt = true
        this.counters.corruptFound++
        this.#init.logger.warn({ cid }, 'a local chunk copy is corrupt; reading it from another node')
      }
    }
    const bytes = await this.#fetchPatiently(cid, options)
    this.counters.remoteReads++
    if (this.holders(cid).includes(this.#init.nodes.self) || corrupt) {
      // `fetch` has just checked the bytes against `cid`.
      putNamedChunk(local, cid, bytes)
        .then(() => {
          this.counters.readRepairs++
          if (corrupt) this.counters.corruptRepaired++
        })
        .catch((err) => this.#init.logger.warn({ cid, err }, 'read-repair of a chunk failed'))
    }
    return bytes
  }

  /**
   * The chunk from another node: its holders first (best first), then every other connected node (a
   * copy placement has not moved yet). Every answer is verified; `ServiceUnavailable` when no node
   * had a good copy.
   */
  async fetch(cid: string, options: AbortOptions = {}): Promise<Uint8Array> {
    const nodes = this.#init.nodes
    const self = nodes.self
    const holders = this.holders(cid).filter((id) => id !== self)
    const others = nodes.others().filter((id) => !holders.includes(id))
    // Nodes in reach first (holders best first, then the rest); then those out of reach, which the
    // network dials (a connection that is coming back after a partition or a restart).
    const order = [...holders, ...others]
    const inReach = order.filter((id) => nodes.isConnected(id))
    const outOfReach = order.filter((id) => !nodes.isConnected(id))
    const tried: string[] = []
    for (const peer of [...inReach, ...outOfReach]) {
      if (options.signal?.aborted === true) throw new DataError('Aborted', 'the read was aborted')
      try {
        const answer = await this.#init.network.request(
          peer,
          this.#init.protocols.fetchChunk,
          { kind: 'fetch', cid },
          {
            timeoutMs: nodes.isConnected(peer) ? TRANSFER_TIMEOUT_MS : DIAL_TIMEOUT_MS,
            ...(options.signal === undefined ? {} : { signal: options.signal }),
          },
        )
        if (answer.kind !== 'chunk') {
          tried.push(`${peer}: ${answer.code}`)
          continue
        }
        if (chunkCidOf(answer.bytes) !== cid) {
          tried.push(`${peer}: sent bytes that do not match`)
          this.#init.logger.warn({ cid, peer }, 'a node sent a chunk whose bytes do not match its id')
          continue
        }
        return answer.bytes
      } catch (err) {
        tried.push(`${peer}: ${describe(err)}`)
      }
    }
    throw new DataError(
      'ServiceUnavailable',
      `no reachable node has a good copy of chunk ${cid}${tried.length > 0 ? ` (${tried.join('; ')})` : ''}`,
    )
  }

  async *stream(cid: string, options: AbortOptions = {}): AsyncGenerator<Uint8Array> {
    // Whole and verified before the first byte goes out: a damaged copy is never half sent.
    yield await this.get(cid, options)
  }

  async has(cid: string, options: AbortOptions = {}): Promise<boolean> {
    if (await this.#init.local.has(cid, options)) return true
    const held = await this.askHave(this.holders(cid), [cid])
    return [...held.values()].some((answers) => answers[0] === true)
  }

  /** Asks each connected node of `peers` which of `cids` it holds; nodes that did not answer are absent. */
  async askHave(peers: readonly string[], cids: readonly string[]): Promise<Map<string, readonly boolean[]>> {
    const self = this.#init.nodes.self
    const answers = new Map<string, readonly boolean[]>()
    await Promise.all(
      peers
        .filter((peer) => peer !== self && this.#init.nodes.isConnected(peer))
        .map(async (peer) => {
          try {
            const answer = await this.#init.network.request(
              peer,
              this.#init.protocols.haveChunks,
              { kind: 'have', cids },
              { timeoutMs: QUESTION_TIMEOUT_MS },
            )
            if (answer.kind === 'held' && answer.held.length === cids.length) answers.set(peer, answer.held)
          } catch (err) {
            this.#init.logger.debug({ peer, err }, 'asking a node which chunks it holds failed')
          }
        }),
    )
    return answers
  }

  /** Sends a chunk to one node (repair); resolves once it is durable there. */
  async copyTo(peer: string, cid: string, bytes: Uint8Array): Promise<void> {
    await this.#writeTo(peer, cid, bytes, {})
  }

  async stat(cid: string, options: AbortOptions = {}): Promise<ChunkStat> {
    return this.#init.local.stat(cid, options)
  }

  async delete(cid: string, options: AbortOptions = {}): Promise<void> {
    await this.#init.local.delete(cid, options)
  }

  list(options: AbortOptions = {}): AsyncIterable<string> {
    return this.#init.local.list(options)
  }

  /** Answers other nodes' chunk requests from the local store. */
  serve(): () => void {
    const { network, protocols, local } = this.#init
    network.handle(protocols.fetchChunk, async (request, context): Promise<FetchChunkResponse> => {
      try {
        return {
          kind: 'chunk',
          cid: request.cid,
          bytes: await local.get(request.cid, { signal: context.signal }),
        }
      } catch (err) {
        return refusal(err)
      }
    })
    network.handle(protocols.pushChunk, async (request, context): Promise<PushChunkResponse> => {
      try {
        await local.putVerified(request.cid, request.bytes, { signal: context.signal })
        return { kind: 'stored', cid: request.cid }
      } catch (err) {
        return refusal(err)
      }
    })
    network.handle(protocols.haveChunks, async (request, context): Promise<HaveChunksResponse> => {
      const held = await Promise.all(request.cids.map((cid) => local.has(cid, { signal: context.signal })))
      return { kind: 'held', held }
    })
    return () => {
      network.unhandle(protocols.fetchChunk.id)
      network.unhandle(protocols.pushChunk.id)
      network.unhandle(protocols.haveChunks.id)
    }
  }

  /** Waits (bounded) for copies still going after their writes were acknowledged. */
  async drain(timeoutMs: number): Promise<void> {
    // Riders still waiting (a PUT that failed after its chunk) go as late copies too.
    this.riders.flush()
    if (this.#late.size === 0) return
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      Promise.allSettled([...this.#late]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs)
      }),
    ])
    clearTimeout(timer)
  }
}

function refusal(err: unknown): {
  kind: 'refused'
  code: 'NoSuchChunk' | 'CorruptChunk' | 'InvalidRequest' | 'Unavailable'
  message: string
} {
  if (isDataError(err, 'NoSuchChunk'))
    return { kind: 'refused', code: 'NoSuchChunk', message: 'no such chunk' }
  if (isDataError(err, 'CorruptChunk'))
    return { kind: 'refused', code: 'CorruptChunk', message: 'the chunk does not match its id' }
  if (isDataError(err, 'InvalidCid'))
    return { kind: 'refused', code: 'InvalidRequest', message: 'not a chunk id' }
  return { kind: 'refused', code: 'Unavailable', message: 'the chunk store failed' }
}

function describe(err: unknown): string {
  if (isNetworkError(err)) return err.code
  if (isDataError(err)) return err.code
  return err instanceof Error ? err.message : String(err)
}

async function collect(source: ChunkSource): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source
  const pieces: Uint8Array[] = []
  let size = 0
  for await (const piece of source) {
    pieces.push(piece)
    size += piece.length
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const piece of pieces) {
    bytes.set(piece, offset)
    offset += piece.length
  }
  return bytes
}
