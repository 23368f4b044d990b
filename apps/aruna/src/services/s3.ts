/**
 * The node's S3 service: chunks on disk (`FsBlobStore`), the key index in LMDB, multipart uploads in
 * durable JSON files, and the S3 API (hono) on its own port. Who may do what comes from the realm:
 * SigV4 against the realm's access keys (replicated through orga, so a key made on any node works on
 * this one) and the caller's roles from the organisation documents.
 */
import { join } from 'node:path'
import { type Authorizer, type EncryptedAccessKeyStore, type RoleSource, SigV4Verifier } from '@aruna/auth'
import {
  createS3App,
  FsBlobStore,
  FsMultipartStore,
  type GcResult,
  type GcTotals,
  HybridLogicalClock,
  LmdbObjectIndex,
  ObjectEngine,
  RoleSubtreeAuthorizer,
  type S3Identity,
  type S3RequestRecord,
  SigV4S3Authenticator,
} from '@aruna/data'
import type { HttpEndpoint } from '../http/listen.js'
import { listen } from '../http/listen.js'
import type { Logger } from '../logger.js'

/** Progress lines of a garbage collection run, at most this often. */
const GC_PROGRESS_LOG_MS = 5000

export interface S3ServiceInit {
  readonly dataDir: string
  readonly realm: string
  readonly nodeId: string
  readonly host: string
  readonly port: number
  readonly accessKeys: EncryptedAccessKeyStore
  readonly authorizer: Authorizer
  /** The roles behind `authorizer`: listings answer whole directories from them (one check, not one per key). */
  readonly roles: RoleSource
  /** The group a bucket created without `x-aruna-group` belongs to (the caller's first group). */
  readonly defaultGroup: (identity: S3Identity, bucket: string) => string | undefined
  /** Minutes between scheduled garbage collections (which also abort stale uploads); 0: none. */
  readonly gcIntervalMinutes: number
  readonly logger: Logger
  /** Told of every request after its access-log line (metrics). */
  readonly onRequest?: (record: S3RequestRecord) => void
}

/** The storage upkeep the REST API and metrics reach. */
export interface StorageUpkeep {
  /** One garbage collection run (a call during a run joins it), logged with its progress. */
  collectGarbage(reason: 'scheduled' | 'requested'): Promise<GcResult>
  /** Runs, chunks and bytes freed since start. */
  gcTotals(): GcTotals
}

/** This node's buckets, as the REST API reaches them (authorization is the caller's job). */
export type BucketCatalog = Pick<ObjectEngine, 'createBucket' | 'getBucket' | 'listBuckets' | 'deleteBucket'>

export interface S3Service extends StorageUpkeep {
  readonly endpoint: HttpEndpoint
  readonly buckets: BucketCatalog
  close(timeoutMs: number): Promise<void>
}

export async function startS3Service(init: S3ServiceInit): Promise<S3Service> {
  const { dataDir, realm, logger } = init
  const blobs = await FsBlobStore.open({ directory: join(dataDir, 'chunks') })
  const index = await LmdbObjectIndex.open(join(dataDir, 'index'))
  try {
    const uploads = await FsMultipartStore.open({ directory: join(dataDir, 'uploads') })
    const engine = new ObjectEngine({ index, blobs, uploads, clock: new HybridLogicalClock(init.nodeId) })
    const app = createS3App({
      engine,
      authenticator: new SigV4S3Authenticator(new SigV4Verifier({ keys: init.accessKeys })),
      authorizer: new RoleSubtreeAuthorizer(init.authorizer, init.roles),
      realm,
      defaultGroup: init.defaultGroup,
      onInternalError: (err, requestId) => logger.error({ err, requestId }, 'S3 request failed'),
      // The access log: one line per request, with the id its answer and error document carry.
      onRequest: (record) => {
        logger.info(record, 'S3 request')
        init.onRequest?.(record)
      },
    })
    const endpoint = await listen(app, init.host, init.port, 'S3 API')
    const stopping = new AbortController()
    const collectGarbage = async (reason: 'scheduled' | 'requested'): Promise<GcResult> => {
      logger.info({ reason }, 'garbage collection started')
      let logged = 0
      const result = await engine.collectGarbage({
        signal: stopping.signal,
        onProgress: (progress) => {
          if (Date.now() - logged < GC_PROGRESS_LOG_MS) return
          logged = Date.now()
          logger.info({ ...progress }, `garbage collection: ${progress.phase}`)
        },
      })
      logger.info(
        { ...result, reason },
        `garbage collection freed ${result.chunksFreed} chunks (${result.bytesFreed} bytes) in ${Math.round(result.durationMs)} ms`,
      )
      return result
    }
    const schedule =
      init.gcIntervalMinutes > 0
        ? setInterval(() => {
            collectGarbage('scheduled').catch((err) => {
              if (!stopping.signal.aborted) logger.warn({ err }, 'scheduled garbage collection failed')
            })
          }, init.gcIntervalMinutes * 60_000)
        : undefined
    schedule?.unref()
    return {
      endpoint,
      buckets: engine,
      collectGarbage,
      gcTotals: () => engine.gcTotals(),
      async close(timeoutMs) {
        clearInterval(schedule)
        stopping.abort()
        await endpoint.close(timeoutMs)
        await index.close()
      },
    }
  } catch (err) {
    await index.close()
    throw err
  }
}
