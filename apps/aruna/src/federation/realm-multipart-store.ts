/**
 * The realm's multipart uploads seen from one node: a `MultipartStore` over this node's own
 * (`FsMultipartStore`) that replicates every upload, part and deletion to the other nodes and merges
 * theirs, so an upload started through one node goes on, is listed, completed or aborted through any
 * other. The parts' chunks are already realm-wide (`RealmBlobStore`): only the records travel.
 *
 * - A write is stored here, pushed to every connected node (batched per node) and acknowledged once
 *   the write quorum has it, as key-index records are (`quorum.ts`), and every connected node has
 *   answered or `SETTLE_MS` have passed, so the next call of the upload finds it on any node in step
 *   with the realm; `ServiceUnavailable` when too few could take it (the record stays here and reaches
 *   the others by anti-entropy). A deletion does not fail for want of a quorum: it has happened here
 *   (a completion has recorded its object).
 * - Upload records are immutable and merge by union; a part record replaces one of the same number
 *   when it was written later (`lastModified`, ties broken by content), so nodes agree on the last write.
 * - A completed or aborted upload leaves a tombstone (`UploadTombstones`), so a node that missed the
 *   deletion cannot bring it back; records of uploads older than the retention are not taken at all.
 * - A part pushed for an upload not known here yet, and a read of an upload not known here, first pull
 *   that upload's records from the other nodes (the create may still be on its way).
 * - Anti-entropy: soon after a node connects and every `antiEntropyMs`, this node pulls every record
 *   of the other node, a page at a time; each node pulls, so both sides converge.
 */
import {
  isDataError,
  type ListUploadsOptions,
  MAX_UPLOAD_RECORDS,
  type MultipartStore,
  type MultipartUpload,
  type PartRecord,
  type ReplicationProtocols,
  type UploadCursor,
  type UploadPart,
  type UploadRecordsRequest,
  type UploadRecordsResponse,
  type UploadTombstone,
} from '@aruna/data'
import type { Network } from '@aruna/network'
import type { Logger } from '../logger.js'
import { awaitConfirmations, type Laggards, othersNeeded } from './quorum.js'
import type { WriteQuorum } from './realm-blob-store.js'
import type { RealmNodes } from './realm-nodes.js'
import { MAX_MESSAGE_CHUNKS, uploadRecordsPage } from './upload-record-pages.js'
import { UploadTombstones } from './upload-tombstones.js'

const PUSH_TIMEOUT_MS = 10_000
const PULL_TIMEOUT_MS = 30_000
/**
 * How long a write that has its quorum still waits for the other connected nodes: a client may send
 * the next call of an upload (a part, the completion) to any node, which then has every part.
 */
const SETTLE_MS = 2000
/**
 * How long after a node connects this node pulls its records: the node that just connected may still
 * be starting its services, and the key index runs its own round at that moment.
 */
const JOIN_ROUND_DELAY_MS = 1000
/** How long a read of an upload not known here waits for the other nodes' answers. */
const LOOKUP_TIMEOUT_MS = 5000
/** The shape of an upload id (`MultipartStore`): anything else is not looked up elsewhere. */
const UPLOAD_ID = /^[A-Za-z0-9_-]{1,128}$/
/** Twice the engine's default upload timeout: the stale-upload sweep has aborted anything older. */
export const DEFAULT_UPLOAD_RETENTION_MS = 14 * 24 * 3600 * 1000

export interface RealmMultipartStoreInit {
  /** This node's own upload records. */
  readonly local: MultipartStore
  readonly network: Network
  readonly protocols: ReplicationProtocols
  readonly nodes: RealmNodes
  readonly tombstones: UploadTombstones
  readonly writeQuorum: WriteQuorum
  /** Nodes that must have a record durable before its write is acknowledged, counted as for chunks. */
  readonly factor: number
  /** Milliseconds between anti-entropy rounds with each connected node. */
  readonly antiEntropyMs: number
  /** How long after its creation an upload's records and tombstone are kept (default 14 days). */
  readonly retentionMs?: number
  readonly logger: Logger
}

/** Counters since start (metrics and tests). */
export interface RealmMultipartCounters {
  /** Upload records, part records and tombstones taken from other nodes. */
  recordsReceived: number
  antiEntropyRounds: number
}

type Push = Extract<UploadRecordsRequest, { kind: 'push' }>

interface PendingBatch {
  readonly peer: string
  readonly uploads: MultipartUpload[]
  readonly parts: UploadPart[]
  readonly tombstones: UploadTombstone[]
  chunks: number
  readonly waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>
}

export class RealmMultipartStore implements MultipartStore {
  readonly #init: RealmMultipartStoreInit
  readonly #local: MultipartStore
  readonly #tombstones: UploadTombstones
  readonly counters: RealmMultipartCounters = { recordsReceived: 0, antiEntropyRounds: 0 }
  readonly #pending = new Map<string, PendingBatch>()
  /** Peers a write no longer waits for after its quorum (see `Laggards`). */
  readonly #laggards: Laggards = new Set()
  #flushScheduled = false
  readonly #rounds = new Map<string, Promise<void>>()
  readonly #cleanups: Array<() => void> = []
  #timer: ReturnType<typeof setInterval> | undefined
  readonly #joinTimers = new Set<ReturnType<typeof setTimeout>>()
  #stopped = false

  constructor(init: RealmMultipartStoreInit) {
    this.#init = init
    this.#local = init.local
    this.#tombstones = init.tombstones
  }

  /** Opens the tombstones at `tombstonesPath` (`{dataDir}/upload-tombstones.json`) and builds the store. */
  static async open(
    init: Omit<RealmMultipartStoreInit, 'tombstones'> & { readonly tombstonesPath: string },
  ): Promise<RealmMultipartStore> {
    const { tombstonesPath, ...rest } = init
    return new RealmMultipartStore({ ...rest, tombstones: await UploadTombstones.open(tombstonesPath) })
  }

  // Reads: this node holds every upload; one it does not know yet may still be on its way.
  async getUpload(uploadId: string): Promise<MultipartUpload> {
    try {
      return await this.#local.getUpload(uploadId)
    } catch (err) {
      if (!isDataError(err, 'NoSuchUpload') || !UPLOAD_ID.test(uploadId) || this.#tombstones.has(uploadId))
        throw err
      await this.#pullUploadFromAll(uploadId)
      return this.#local.getUpload(uploadId)
    }
  }
  listParts(uploadId: string, options?: { afterPartNumber?: number }): AsyncIterable<PartRecord> {
    return this.#local.listParts(uploadId, options)
  }
  listUploads(bucket: string, options?: ListUploadsOptions): AsyncIterable<MultipartUpload> {
    return this.#local.listUploads(bucket, options)
  }
  allUploads(): AsyncIterable<MultipartUpload> {
    return this.#local.allUploads()
  }

  // Writes: here, then to the other nodes.
  async createUpload(upload: MultipartUpload): Promise<void> {
    await this.#local.createUpload(upload)
    await this.#replicate({ uploads: [upload] }, `the upload ${upload.uploadId}`)
  }

  async putPart(uploadId: string, part: PartRecord): Promise<void> {
    await this.#local.putPart(uploadId, part)
    await this.#replicate(
      { parts: [{ uploadId, part }] },
      `part ${part.partNumber} of the upload ${uploadId}`,
    )
  }

  async deleteUpload(uploadId: string): Promise<void> {
    const upload = await this.#local.getUpload(uploadId)
    const tombstone: UploadTombstone = {
      uploadId,
      initiated: upload.initiated,
      deletedAt: new Date().toISOString(),
    }
    // The tombstone first: a record of this upload that another node pushes meanwhile is then refused,
    // rather than taken in again after the local delete.
    await this.#tombstones.add([tombstone])
    await this.#local.deleteUpload(uploadId)
    // The deletion has happened (a completion has recorded its object): a quorum missed only delays
    // it elsewhere, anti-entropy carries the tombstone.
    await this.#replicate({ tombstones: [tombstone] }, `the deletion of the upload ${uploadId}`).catch(
      (err: unknown) => {
        if (!isDataError(err, 'ServiceUnavailable')) throw err
        this.#init.logger.warn(
          { uploadId },
          'too few nodes took the deletion of an upload; anti-entropy carries it',
        )
      },
    )
  }

  /** Pushes records to every connected node and waits for the write quorum. */
  async #replicate(records: Partial<Omit<Push, 'kind'>>, what: string): Promise<void> {
    const { nodes, writeQuorum, factor } = this.#init
    const needed = othersNeeded(nodes, writeQuorum, factor)
    const pushes = nodes.connected().map((peer) => ({ peer, push: this.#enqueue(peer, records) }))
    await awaitConfirmations(pushes, needed, what, { settleMs: SETTLE_MS, laggards: this.#laggards })
  }

  #enqueue(peer: string, records: Partial<Omit<Push, 'kind'>>): Promise<void> {
    const chunks = (records.parts ?? []).reduce((sum, { part }) => sum + part.chunks.length, 0)
    let batch = this.#pending.get(peer)
    if (
      batch !== undefined &&
      (batch.uploads.length >= MAX_UPLOAD_RECORDS ||
        batch.parts.length >= MAX_UPLOAD_RECORDS ||
        batch.tombstones.length >= MAX_UPLOAD_RECORDS ||
        (batch.chunks > 0 && batch.chunks + chunks > MAX_MESSAGE_CHUNKS))
    ) {
      this.#send(batch)
      batch = undefined
    }
    if (batch === undefined) {
      batch = { peer, uploads: [], parts: [], tombstones: [], chunks: 0, waiters: [] }
      this.#pending.set(peer, batch)
    }
    const target = batch
    target.uploads.push(...(records.uploads ?? []))
    target.parts.push(...(records.parts ?? []))
    target.tombstones.push(...(records.tombstones ?? []))
    target.chunks += chunks
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      setImmediate(() => {
        this.#flushScheduled = false
        for (const pending of [...this.#pending.values()]) this.#send(pending)
      })
    }
    return new Promise((resolve, reject) => target.waiters.push({ resolve, reject }))
  }

  #send(batch: PendingBatch): void {
    if (this.#pending.get(batch.peer) === batch) this.#pending.delete(batch.peer)
    const { network, protocols, logger } = this.#init
    const request: Push = {
      kind: 'push',
      uploads: batch.uploads,
      parts: batch.parts,
      tombstones: batch.tombstones,
    }
    network.request(batch.peer, protocols.uploads, request, { timeoutMs: PUSH_TIMEOUT_MS }).then(
      (answer) => {
        if (answer.kind === 'stored') for (const waiter of batch.waiters) waiter.resolve()
        else {
          const err = new Error(
            answer.kind === 'refused' ? `${answer.code}: ${answer.message}` : 'unexpected answer',
          )
          for (const waiter of batch.waiters) waiter.reject(err)
        }
      },
      (err: unknown) => {
        logger.debug({ peer: batch.peer, err }, 'pushing upload records to a node failed')
        for (const waiter of batch.waiters) waiter.reject(err)
      },
    )
  }

  // Applying records from other nodes.

  /**
   * Merges records: tombstones first (an upload deleted anywhere is gone here), then uploads, then
   * parts. A part of an upload not known here pulls that upload from `sender` first, when given.
   */
  async #apply(records: Omit<Push, 'kind'>, sender?: string): Promise<void> {
    for (const tombstone of await this.#tombstones.add(records.tombstones)) {
      this.counters.recordsReceived++
      await this.#local.deleteUpload(tombstone.uploadId).catch(ignoreNoSuchUpload)
    }
    const cutoff = this.#cutoff()
    for (const upload of records.uploads) {
      if (this.#tombstones.has(upload.uploadId) || upload.initiated < cutoff) continue
      if (await this.#knows(upload.uploadId)) continue
      try {
        await this.#local.createUpload(upload)
        this.counters.recordsReceived++
        // Deleted here while it was being taken in: its tombstone came after the check above.
        if (this.#tombstones.has(upload.uploadId))
          await this.#local.deleteUpload(upload.uploadId).catch(ignoreNoSuchUpload)
      } catch (err) {
        // Created meanwhile by a concurrent push of the same record.
        if (!isDataError(err, 'InvalidArgument') || !(await this.#knows(upload.uploadId))) throw err
      }
    }
    const pulled = new Set<string>()
    for (const { uploadId, part } of records.parts) {
      if (this.#tombstones.has(uploadId)) continue
      if (!(await this.#knows(uploadId))) {
        if (sender === undefined || pulled.has(uploadId)) continue
        pulled.add(uploadId)
        await this.#pull(sender, uploadId)
        if (!(await this.#knows(uploadId))) continue
      }
      if (await this.#applyPart(uploadId, part)) this.counters.recordsReceived++
    }
  }

  /** Stores `part` unless this node holds the same or a later record of its number. */
  async #applyPart(uploadId: string, part: PartRecord): Promise<boolean> {
    try {
      for await (const held of this.#local.listParts(uploadId, { afterPartNumber: part.partNumber - 1 })) {
        if (held.partNumber === part.partNumber && !laterPart(part, held)) return false
        break
      }
      await this.#local.putPart(uploadId, part)
      return true
    } catch (err) {
      // Completed or aborted meanwhile.
      if (isDataError(err, 'NoSuchUpload')) return false
      throw err
    }
  }

  async #knows(uploadId: string): Promise<boolean> {
    try {
      await this.#local.getUpload(uploadId)
      return true
    } catch (err) {
      if (isDataError(err, 'NoSuchUpload')) return false
      throw err
    }
  }

  /** The oldest initiation time of an upload whose records are still taken from other nodes. */
  #cutoff(): string {
    return new Date(Date.now() - (this.#init.retentionMs ?? DEFAULT_UPLOAD_RETENTION_MS)).toISOString()
  }

  // Serving other nodes.

  /** Answers other nodes' pushes and pulls, and starts anti-entropy; returns what stops it. */
  serve(): () => void {
    const { network, protocols, nodes } = this.#init
    network.handle(protocols.uploads, async (request, context): Promise<UploadRecordsResponse> => {
      try {
        if (request.kind === 'pull')
          return {
            kind: 'records',
            ...(await uploadRecordsPage(this.#local, this.#tombstones.all(), request)),
          }
        await this.#apply(request, context.peer)
        return { kind: 'stored' }
      } catch (err) {
        this.#init.logger.debug({ peer: context.peer, err }, 'serving upload records failed')
        return { kind: 'refused', code: 'Unavailable', message: 'the upload records failed' }
      }
    })
    this.#cleanups.push(
      network.on('peer:join', ({ peer }) => {
        const timer = setTimeout(() => {
          this.#joinTimers.delete(timer)
          this.#round(peer)
        }, JOIN_ROUND_DELAY_MS)
        timer.unref()
        this.#joinTimers.add(timer)
      }),
    )
    this.#timer = setInterval(() => {
      for (const peer of nodes.connected()) this.#round(peer)
    }, this.#init.antiEntropyMs)
    this.#timer.unref()
    return () => {
      this.#stopped = true
      clearInterval(this.#timer)
      for (const timer of this.#joinTimers) clearTimeout(timer)
      this.#joinTimers.clear()
      for (const cleanup of this.#cleanups.splice(0)) cleanup()
      network.unhandle(protocols.uploads.id)
    }
  }

  // Anti-entropy.

  #round(peer: string): void {
    if (this.#stopped || this.#rounds.has(peer)) return
    const round = this.antiEntropy(peer)
      .catch((err) => {
        if (!this.#stopped) this.#init.logger.debug({ peer, err }, 'an upload anti-entropy round failed')
      })
      .finally(() => this.#rounds.delete(peer))
    this.#rounds.set(peer, round)
  }

  /** Pulls every record `peer` has (and drops tombstones past the retention). */
  async antiEntropy(peer: string): Promise<void> {
    await this.#tombstones.prune(this.#cutoff())
    await this.#pull(peer)
    this.counters.antiEntropyRounds++
  }

  /** Pulls `peer`'s records (of one upload, when given), page by page, and merges them. */
  async #pull(peer: string, uploadId?: string, timeoutMs = PULL_TIMEOUT_MS): Promise<void> {
    let after: UploadCursor | undefined
    for (;;) {
      const answer = await this.#init.network.request(
        peer,
        this.#init.protocols.uploads,
        {
          kind: 'pull',
          limit: MAX_UPLOAD_RECORDS,
          ...(uploadId === undefined ? {} : { uploadId }),
          ...(after === undefined ? {} : { after }),
        },
        { timeoutMs },
      )
      if (answer.kind !== 'records') return
      await this.#apply(answer)
      if (answer.next === undefined || this.#stopped) return
      after = answer.next
    }
  }

  /** Asks every connected node for one upload's records (a read of an upload still on its way). */
  async #pullUploadFromAll(uploadId: string): Promise<void> {
    await Promise.allSettled(
      this.#init.nodes.connected().map((peer) => this.#pull(peer, uploadId, LOOKUP_TIMEOUT_MS)),
    )
  }

  /** Waits for anti-entropy rounds in flight. */
  async quiesce(): Promise<void> {
    await Promise.allSettled([...this.#rounds.values()])
  }
}

/** Whether part record `a` replaces `b` (of the same number): written later, or at the same time and greater. */
function laterPart(a: PartRecord, b: PartRecord): boolean {
  if (a.lastModified !== b.lastModified) return a.lastModified > b.lastModified
  return JSON.stringify(a) > JSON.stringify(b)
}

function ignoreNoSuchUpload(err: unknown): void {
  if (!isDataError(err, 'NoSuchUpload')) throw err
}
