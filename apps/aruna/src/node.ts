/**
 * The node: the composition root that owns the data directory and the servers, and starts and stops
 * them in order. Domain packages are wired in here as they land (network, orga, data, metadata).
 */
import { access, constants, mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { ArunaConfig } from './config.js'
import { type HttpEndpoint, listen } from './http/listen.js'
import { createRestApp, type NodeStatus } from './http/rest.js'
import type { Logger } from './logger.js'
import { loadOrCreateKey } from './services/realm-key.js'
import { type DevCredentials, type S3Service, startS3Service } from './services/s3.js'
import { VERSION } from './version.js'

export class NodeStartError extends Error {
  override readonly name = 'NodeStartError'
}

export class ArunaNode {
  private state: NodeStatus['status'] = 'starting'
  private rest: HttpEndpoint | undefined
  private s3: S3Service | undefined
  private realmId = ''
  private nodeId = ''
  private readonly startedAt = new Date().toISOString()
  private stopping: Promise<void> | undefined

  constructor(
    readonly config: ArunaConfig,
    private readonly logger: Logger,
  ) {}

  /** The REST API's base URL, once started. */
  get restUrl(): string | undefined {
    return this.rest?.url
  }

  /** The S3 API's base URL, once started. */
  get s3Url(): string | undefined {
    return this.s3?.endpoint.url
  }

  /** The development user's S3 credentials, when the development login is on. */
  get devCredentials(): DevCredentials | undefined {
    return this.s3?.devCredentials
  }

  status(): NodeStatus {
    return {
      status: this.state,
      realm: this.config.realm.name,
      realmId: this.realmId,
      nodeId: this.nodeId,
      version: VERSION,
      startedAt: this.startedAt,
    }
  }

  async start(): Promise<void> {
    const dataDir = resolve(this.config.dataDir)
    try {
      await mkdir(dataDir, { recursive: true, mode: 0o700 })
      await access(dataDir, constants.W_OK)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown error'
      throw new NodeStartError(`data directory ${dataDir} cannot be created or written (${code})`)
    }
    const realmKey = await loadOrCreateKey(join(dataDir, 'realm.key'))
    const nodeKey = await loadOrCreateKey(join(dataDir, 'node.key'))
    this.realmId = realmKey.id
    this.nodeId = nodeKey.id
    if (realmKey.created) this.logger.info({ realmId: this.realmId }, 'created a new realm')
    try {
      this.s3 = await startS3Service({
        dataDir,
        realm: this.realmId,
        nodeId: this.nodeId,
        host: this.config.s3.host,
        port: this.config.s3.port,
        devLogin: this.config.dev.login,
        logger: this.logger,
      })
      const app = createRestApp({ logger: this.logger, status: () => this.status() })
      this.rest = await listen(app, this.config.rest.host, this.config.rest.port, 'REST API')
    } catch (err) {
      await this.s3?.close(0)
      throw err
    }
    this.state = 'ok'
    const dev = this.s3.devCredentials
    this.logger.info(
      {
        rest: this.rest.url,
        s3: this.s3.endpoint.url,
        dataDir,
        realm: this.config.realm.name,
        version: VERSION,
      },
      `node started; REST API on ${this.rest.url}, S3 API on ${this.s3.endpoint.url}`,
    )
    if (dev) {
      this.logger.info(
        { devUser: dev.userId, accessKeyId: dev.accessKeyId, secretAccessKey: dev.secretAccessKey },
        `development login: S3 access key ${dev.accessKeyId}, secret ${dev.secretAccessKey} (any region; path-style)`,
      )
    }
  }

  /** Stops accepting, lets in-flight work finish within the shutdown timeout. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'stopping'
      this.logger.info('node stopping')
      await Promise.all([
        this.rest?.close(this.config.shutdownTimeoutMs),
        this.s3?.close(this.config.shutdownTimeoutMs),
      ])
      this.logger.info('node stopped')
    })()
    return this.stopping
  }
}
