/**
 * The node's S3 service: chunks on disk (`FsBlobStore`), the key index in LMDB, multipart uploads in
 * durable JSON files, SigV4 against the node's encrypted access keys, and the S3 API (hono) on its own
 * port. With the development login on, a development user gets full access to the realm and an access
 * key, printed at start so any S3 client can be pointed at a fresh node right away.
 */
import { join } from 'node:path'
import {
  type AccessKeyInfo,
  defineRole,
  EncryptedAccessKeyStore,
  JsonFileAccessKeyRecords,
  loadOrCreateAccessKeyEncryptionKey,
  MemoryRoleSource,
  PathAuthorizer,
  SigV4Verifier,
} from '@aruna/auth'
import {
  createS3App,
  FsBlobStore,
  FsMultipartStore,
  HybridLogicalClock,
  LmdbObjectIndex,
  ObjectEngine,
  SigV4S3Authenticator,
} from '@aruna/data'
import type { HttpEndpoint } from '../http/listen.js'
import { listen } from '../http/listen.js'
import type { Logger } from '../logger.js'

/** The user a development node grants everything, and the group its buckets belong to. */
export const DEV_USER = 'dev'
export const DEFAULT_GROUP = 'default'

/** How often stale multipart uploads are looked for. */
const STALE_UPLOAD_SWEEP_MS = 60 * 60 * 1000

export interface S3ServiceInit {
  readonly dataDir: string
  readonly realm: string
  readonly nodeId: string
  readonly host: string
  readonly port: number
  readonly devLogin: boolean
  readonly logger: Logger
}

export interface DevCredentials {
  readonly userId: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
}

export interface S3Service {
  readonly endpoint: HttpEndpoint
  readonly devCredentials: DevCredentials | undefined
  close(timeoutMs: number): Promise<void>
}

async function devCredentials(keys: EncryptedAccessKeyStore): Promise<DevCredentials> {
  const existing: AccessKeyInfo | undefined = (await keys.list(DEV_USER))[0]
  if (existing) {
    const found = await keys.secretFor(existing.accessKeyId)
    if (found) return { userId: DEV_USER, accessKeyId: existing.accessKeyId, secretAccessKey: found.secret }
  }
  const created = await keys.create(DEV_USER, { description: 'development login' })
  return { userId: DEV_USER, accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey }
}

export async function startS3Service(init: S3ServiceInit): Promise<S3Service> {
  const { dataDir, realm, logger } = init
  const blobs = await FsBlobStore.open({ directory: join(dataDir, 'chunks') })
  const index = await LmdbObjectIndex.open(join(dataDir, 'index'))
  try {
    const uploads = await FsMultipartStore.open({ directory: join(dataDir, 'uploads') })
    const engine = new ObjectEngine({ index, blobs, uploads, clock: new HybridLogicalClock(init.nodeId) })
    const keys = new EncryptedAccessKeyStore({
      records: await JsonFileAccessKeyRecords.open(join(dataDir, 'access-keys.json')),
      encryptionKey: await loadOrCreateAccessKeyEncryptionKey(join(dataDir, 'access-keys.key')),
    })
    // Until the organisation (users, groups, roles) is wired in, the development user is the only one.
    const roles = new MemoryRoleSource()
    let dev: DevCredentials | undefined
    if (init.devLogin) {
      roles.add(
        DEV_USER,
        defineRole({
          name: 'dev-admin',
          scope: { realm },
          rules: [{ pattern: `/${realm}/**`, permission: 'WRITE' }],
        }),
      )
      dev = await devCredentials(keys)
    }
    const app = createS3App({
      engine,
      authenticator: new SigV4S3Authenticator(new SigV4Verifier({ keys })),
      authorizer: new PathAuthorizer({ roles }),
      realm,
      defaultGroup: () => DEFAULT_GROUP,
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
      devCredentials: dev,
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
