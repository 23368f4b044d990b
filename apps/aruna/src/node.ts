/**
 * The node: the composition root that owns the data directory and the servers, and starts and stops
 * them in order. Domain packages are wired in here as they land (network, orga, data, metadata).
 */
import { access, constants, mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { ArunaConfig } from './config.js'
import { type HttpEndpoint, listen } from './http/listen.js'
import { createRestApp, type NodeStatus } from './http/rest.js'
import type { Logger } from './logger.js'
import { VERSION } from './version.js'

export class NodeStartError extends Error {
  override readonly name = 'NodeStartError'
}

export class ArunaNode {
  private state: NodeStatus['status'] = 'starting'
  private rest: HttpEndpoint | undefined
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

  status(): NodeStatus {
    return { status: this.state, realm: this.config.realm.name, version: VERSION, startedAt: this.startedAt }
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
    const app = createRestApp({ logger: this.logger, status: () => this.status() })
    this.rest = await listen(app, this.config.rest.host, this.config.rest.port, 'REST API')
    this.state = 'ok'
    this.logger.info(
      { rest: this.rest.url, dataDir, realm: this.config.realm.name, version: VERSION },
      `node started; REST API on ${this.rest.url}`,
    )
  }

  /** Stops accepting, lets in-flight work finish within the shutdown timeout. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'stopping'
      this.logger.info('node stopping')
      await this.rest?.close(this.config.shutdownTimeoutMs)
      this.logger.info('node stopped')
    })()
    return this.stopping
  }
}
