/**
 * The node's S3 service: chunks on disk (`FsBlobStore`), the key index in LMDB, multipart uploads in
 * durable JSON files, and the S3 API (hono) on its own port. Who may do what comes from the realm:
 * SigV4 against the realm's access keys (replicated through orga, so a key made on any node works on
 * this one) and the caller's roles from the organisation documents.
 */
import { join } from 'node:path'
import { type Authorizer, type EncryptedAccessKeyStore, SigV4Verifier } from '@aruna/auth'
import {
  createS3App,
  FsBlobStore,
  FsMultipartStore,
  HybridLogicalClock,
  LmdbObjectIndex,
  ObjectEngine,
  type S3Identity,
  SigV4S3Authenticator,
} from '@aruna/data'
import type { HttpEndpoint } from '../http/listen.js'
import { listen } from '../http/listen.js'
import type { Logger } from '../logger.js'

/** How often stale multipart uploads are looked for. */
const STALE_UPLOAD_SWEEP_MS = 60 * 60 * 1000

export interface S3ServiceInit {
  readonly dataDir: string
  readonly realm: string
  readonly nodeId: string
  readonly host: string
  readonly port: number
  readonly accessKeys: EncryptedAccessKeyStore
  readonly authorizer: Authorizer
  /** The group a bucket created without `x-aruna-group` belongs to (the caller's first group). */
  readonly defaultGroup: (identity: S3Identity, bucket: string) => string | undefined
  readonly logger: Logger
}

export interface S3Service {
  readonly endpoint: HttpEndpoint
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
      authorizer: init.authorizer,
      realm,
      defaultGroup: init.defaultGroup,
      onInternalError: (err, requestId) => logger.error({ err, requestId }, 'S3 request failed'),
    })
    const endpoint = await listen(app, init.host, init.port, 'S3 API')
    const sweep = setInterval(() => {
      engine.abortStaleUploads().then(
        (n) => n > 0 && logger.info({ aborted: n }, 'aborted stale multipart uploads'),
        (err) => logger.warn({ err }, 'stale upload sweep failed'),
      )
    }, STALE_UPLOAD_SWEEP_MS)
    sweep.unref()
    return {
      endpoint,
      async close(timeoutMs) {
        clearInterval(sweep)
        await endpoint.close(timeoutMs)
        await index.close()
      },
    }
  } catch (err) {
    await index.close()
    throw err
  }
}
