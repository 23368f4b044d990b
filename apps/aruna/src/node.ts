/**
 * The node: the composition root. It owns the data directory, joins the realm's network with its one
 * identity, opens the organisation documents, and builds from the packages' parts what users reach:
 * realm tokens and OIDC login, the REST API, the S3 API with roles and access keys from orga, and the
 * join protocol for new nodes. It starts and stops them in order.
 */
import { access, constants, mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  EncryptedAccessKeyStore,
  formatRealmSubject,
  JwksOidcVerifier,
  loadOrCreateAccessKeyEncryptionKey,
  type OidcIssuerConfig,
  PathAuthorizer,
  RealmTokenSigner,
  RealmTokenVerifier,
} from '@aruna/auth'
import { MetadataService } from '@aruna/metadata'
import { isOrgaError, loadRealmKey, OrgaService, orgaRoleSource } from '@aruna/orga'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { ArunaConfig } from './config.js'
import { type MetadataNode, startMetadataNode } from './federation/metadata-node.js'
import { type RealmMember, type RealmMemberInit, startRealmMember } from './federation/realm-member.js'
import { SearchNode } from './federation/search-node.js'
import { type HttpEndpoint, listen } from './http/listen.js'
import { RestMetrics } from './http/metrics.js'
import { createNodeApi } from './http/node-api.js'
import type { RateLimitOptions } from './http/rate-limit.js'
import type { NodeStatus } from './http/rest.js'
import { loadNodeIdentity, type NodeIdentity } from './identity/node-identity.js'
import type { Logger } from './logger.js'
import { Admission } from './realm/admission.js'
import { initRealmDirectory } from './realm/init.js'
import { type RealmFile, readRealmFile, writeRealmFile } from './realm/realm-file.js'
import { DefaultGroups } from './services/default-groups.js'
import { writeOperatorFile } from './services/operator-file.js'
import { OrgaAccessKeyRecords } from './services/orga-access-keys.js'
import { type RealmData, type S3Service, startS3Service } from './services/s3.js'
import { VERSION } from './version.js'

export class NodeStartError extends Error {
  override readonly name = 'NodeStartError'
}

/** The operator's token is minted again before it runs out. */
const OPERATOR_TOKEN_TTL_SECONDS = 24 * 3600
const OPERATOR_TOKEN_REFRESH_MS = 6 * 3600 * 1000

export interface DevCredentials {
  readonly userId: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
}

export interface NodeOptions {
  /**
   * What `start` does on a data directory that belongs to no realm: create one (`aruna start` on a
   * fresh directory), with or without the development login. Absent: refuse to start.
   */
  readonly initIfMissing?: { readonly devLogin: boolean }
  /** Network timings (tests use short liveness timeouts). */
  readonly network?: RealmMemberInit['network']
  /** How long a first start after joining waits for the realm documents. */
  readonly loadTimeoutMs?: number
  /** Per-caller limits of the REST API. Default: `DEFAULT_USER_LIMIT`, `DEFAULT_ADDRESS_LIMIT`. */
  readonly rateLimit?: RateLimitOptions
  /**
   * Runs once start-up is done, just before the node says it has started (the daemon gives back the
   * memory start-up used: `idle-memory.ts`).
   */
  readonly onStarted?: () => void
}

export class ArunaNode {
  private state: NodeStatus['status'] = 'starting'
  private rest: HttpEndpoint | undefined
  /** The REST app once started (tests compare its routes with the OpenAPI document). */
  restApp: OpenAPIHono | undefined
  private s3: S3Service | undefined
  private member: RealmMember | undefined
  private metadataNode: MetadataNode | undefined
  private metadataService: MetadataService | undefined
  private searchNode: SearchNode | undefined
  /** Aborted at stop: ends the REST API's open event streams. */
  private readonly closing = new AbortController()
  private devOidc: { issuer: string; clientId: string; close(): Promise<void> } | undefined
  private groups: DefaultGroups | undefined
  private cleanups: (() => void)[] = []
  private realmFile: RealmFile | undefined
  private identity: NodeIdentity | undefined
  private dev: DevCredentials | undefined
  private signer: RealmTokenSigner | undefined
  private readonly startedAt = new Date().toISOString()
  private stopping: Promise<void> | undefined

  constructor(
    readonly config: ArunaConfig,
    private readonly logger: Logger,
    private readonly options: NodeOptions = {},
  ) {}

  get restUrl(): string | undefined {
    return this.rest?.url
  }

  get s3Url(): string | undefined {
    return this.s3?.endpoint.url
  }

  /** The node id: its libp2p peer id. */
  get nodeId(): string | undefined {
    return this.identity?.peerId
  }

  get realm(): RealmFile | undefined {
    return this.realmFile
  }

  /** The running realm membership (network, organisation store). */
  get federation(): RealmMember | undefined {
    return this.member
  }

  /** The realm's data stores on this node (placement, replication, upkeep), once running. */
  get data(): RealmData | undefined {
    return this.s3?.realm
  }

  /** Realm-wide search on this node, once running. */
  get search(): SearchNode | undefined {
    return this.searchNode
  }

  /** The realm's metadata on this node (store, sync), once running. */
  get metadata(): MetadataNode | undefined {
    return this.metadataNode
  }

  /** The development user's S3 credentials, when the development login is on. */
  get devCredentials(): DevCredentials | undefined {
    return this.dev
  }

  /** The development OpenID provider's issuer, when the development login is on. */
  get devIssuer(): string | undefined {
    return this.devOidc?.issuer
  }

  status(): NodeStatus {
    return {
      status: this.state,
      realm: this.realmFile?.realmName ?? this.config.realm.name,
      realmId: this.realmFile?.realmId ?? '',
      nodeId: this.identity?.peerId ?? '',
      kind: this.realmFile?.kind ?? '',
      peers: this.member?.network.peers().length ?? 0,
      version: VERSION,
      startedAt: this.startedAt,
      ...this.#dataSummary(),
    }
  }

  #dataSummary(): { data?: NonNullable<NodeStatus['data']> } {
    const data = this.s3?.dataStatus()
    if (data === undefined) return {}
    return {
      data: {
        replicationFactor: data.replicationFactor,
        nodesLive: data.nodesLive,
        nodesDown: data.nodesDown,
        chunks: data.chunks,
        underReplicated: data.underReplicated,
        corruptFound: data.corruptFound,
        corruptRepaired: data.corruptRepaired,
        catchingUp: data.catchingUp,
        ...(data.lastSweepAt === undefined ? {} : { lastSweepAt: data.lastSweepAt }),
        ...(data.lastScrubAt === undefined ? {} : { lastScrubAt: data.lastScrubAt }),
      },
    }
  }

  async start(): Promise<void> {
    try {
      await this.#start()
    } catch (err) {
      await this.#close(0).catch(() => {})
      throw err
    }
  }

  async #start(): Promise<void> {
    const dataDir = resolve(this.config.dataDir)
    try {
      await mkdir(dataDir, { recursive: true, mode: 0o700 })
      await access(dataDir, constants.W_OK)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown error'
      throw new NodeStartError(`data directory ${dataDir} cannot be created or written (${code})`)
    }
    let realm = await readRealmFile(dataDir)
    if (realm === undefined) {
      const init = this.options.initIfMissing
      if (!init) {
        throw new NodeStartError(
          `${dataDir} belongs to no realm: run "aruna init" or "aruna join <invite>" first`,
        )
      }
      if (this.config.p2p.bootstrap.length > 0) {
        // Bootstrap peers belong to some realm; a new realm here could never talk to them.
        throw new NodeStartError(
          `${dataDir} belongs to no realm, and bootstrap peers are configured: to join their realm, run "aruna join <invite>" with an invite made on one of them`,
        )
      }
      realm = await initRealmDirectory({
        dataDir,
        realmName: this.config.realm.name,
        devLogin: init.devLogin,
      })
      this.logger.info({ realmId: realm.realmId }, `created a new realm "${realm.realmName}"`)
    }
    this.realmFile = realm
    const identity = await loadNodeIdentity(dataDir)
    this.identity = identity
    const log = this.logger.child({ node: identity.peerId })

    const member = await startRealmMember({
      dataDir,
      identity,
      realm,
      listen: this.config.p2p.listen,
      bootstrap: this.config.p2p.bootstrap,
      logger: log,
      ...(this.options.network === undefined ? {} : { network: this.options.network }),
      ...(this.options.loadTimeoutMs === undefined ? {} : { loadTimeoutMs: this.options.loadTimeoutMs }),
    })
    this.member = member
    const { store, network } = member
    const realmKey = realm.kind === 'management' ? (await loadRealmKey(dataDir)).realmKey : undefined
    // One source for every check: it keeps each user's roles until the realm's organisation changes.
    const roles = orgaRoleSource(store)
    const authorizer = new PathAuthorizer({ roles })
    realm = await this.#startMetadata(dataDir, realm, log)
    if (this.metadataNode)
      this.metadataService = new MetadataService({
        store: this.metadataNode.store,
        authorizer,
        realmId: realm.realmId,
      })
    const orga = new OrgaService({
      store,
      authorizer,
      realmId: realm.realmId,
      ...(realmKey === undefined ? {} : { realmKey }),
    })
    const accessKeyKey = await loadOrCreateAccessKeyEncryptionKey(join(dataDir, 'access-keys.key'))
    const accessKeys = new EncryptedAccessKeyStore({
      records: new OrgaAccessKeyRecords(store),
      encryptionKey: accessKeyKey,
    })
    const tokens = new RealmTokenVerifier({
      realm: realm.realmId,
      revocations: { isRevoked: (jti) => store.isRevoked(jti) },
    })
    const signer = new RealmTokenSigner({ issuerKey: identity.privateKey, delegation: realm.delegation })
    const metadata = this.metadataNode
    if (metadata) {
      this.searchNode = new SearchNode({
        realmId: realm.realmId,
        network,
        store: metadata.store,
        holders: (documentId) => metadata.repo.placement.holders(documentId),
        realmNodes: async () => (await store.listNodes()).map((node) => node.peerId),
        connected: () => network.peers(),
        groups: async () => (await store.listGroups()).map((group) => group.id),
        roles,
        tokens,
        logger: log,
        directory: join(dataDir, 'search'),
      })
      await this.searchNode.start()
    }
    this.signer = signer
    new Admission({ network, store, orga, realm, accessKeyKey, logger: log }).register()
    this.groups = new DefaultGroups(store, (err) => log.warn({ err }, 'reading groups failed'))
    await this.groups.refresh()
    this.#followNodeList(dataDir, realm)

    const devLogin = this.config.dev.login === true || (this.config.dev.login === 'auto' && realm.devLogin)
    const issuers: OidcIssuerConfig[] = this.config.oidc.issuers.map((issuer) => ({
      issuer: issuer.issuer,
      audiences: issuer.audiences,
    }))
    const loginIssuers: { issuer: string; clientId: string; development: boolean }[] =
      this.config.oidc.issuers
        .filter((issuer) => issuer.clientId !== undefined)
        .map((issuer) => ({ issuer: issuer.issuer, clientId: issuer.clientId as string, development: false }))
    if (devLogin) {
      if (!realm.devLogin)
        log.warn(
          'the development login is on for a node that joined a realm: anyone on this machine can log in as its operator',
        )
      // Loaded only here: the OIDC provider (and its web framework) stays out of nodes without dev login.
      const { startDevOidcProvider } = await import('./login/dev-oidc.js')
      this.devOidc = await startDevOidcProvider({
        host: '127.0.0.1',
        port: this.config.dev.oidcPort,
        logger: log,
      })
      issuers.push({ issuer: this.devOidc.issuer, audiences: [this.devOidc.clientId] })
      loginIssuers.unshift({
        issuer: this.devOidc.issuer,
        clientId: this.devOidc.clientId,
        development: true,
      })
      await this.#bindDevIdentity(realm.operator, this.devOidc.issuer)
    }
    const oidc = new JwksOidcVerifier({ issuers })

    const metrics = new RestMetrics({
      up: () => this.state === 'ok',
      peers: () => network.peers().length,
      gcTotals: () => this.s3?.gcTotals() ?? { runs: 0, chunksFreed: 0, bytesFreed: 0 },
      searchDocuments: () => this.searchNode?.size,
      dataHealth: () => this.s3?.dataStatus(),
      groupUsage: () => this.s3?.quotas?.status(),
    })
    this.#measureMetadata(metrics, log)
    this.s3 = await startS3Service({
      dataDir,
      realm: realm.realmId,
      nodeId: identity.peerId,
      host: this.config.s3.host,
      port: this.config.s3.port,
      accessKeys,
      authorizer,
      roles,
      defaultGroup: (identity) => this.groups?.of(identity.userId),
      gcIntervalMinutes: this.config.gc.intervalMinutes,
      logger: log,
      onRequest: (record) => metrics.observeS3(record),
      federation: {
        network,
        listNodes: async () => (await store.listNodes()).map((node) => node.peerId),
        dataFactor: async () => (await store.getRealm()).config.replication.default.data,
        quotaConfig: async () => (await store.getRealm()).config.quota,
        groupName: async (id) => {
          try {
            return (await store.getGroup(id)).name
          } catch {
            return id
          }
        },
        writeQuorum: this.config.data.writeQuorum,
        downAfterMs: this.config.data.downAfterSeconds * 1000,
        repairIntervalMs: this.config.data.repairIntervalSeconds * 1000,
        antiEntropyMs: this.config.data.antiEntropySeconds * 1000,
        scrubIntervalMs: this.config.data.scrubIntervalMinutes * 60_000,
        scrubBytesPerSecond: this.config.data.scrubMiBPerSecond * 1024 * 1024,
        repairBytesPerSecond: this.config.data.repairMiBPerSecond * 1024 * 1024,
      },
      smallChunkBytes: this.config.data.smallChunkBytes,
    })
    const storage = this.s3
    const app = createNodeApi({
      realm,
      nodeId: identity.peerId,
      logger: log,
      status: () => this.status(),
      oidc,
      loginIssuers,
      signer,
      tokens,
      authorizer,
      orga,
      store,
      accessKeys,
      multiaddrs: () => network.multiaddrs,
      liveNodes: () => member.membership.liveNodes(),
      storage,
      buckets: () => this.s3?.buckets,
      quotas: () => this.s3?.quotas,
      search: () => this.searchNode,
      metadata: () => this.metadataService,
      metrics,
      rateLimit: this.options.rateLimit,
      corsOrigins: this.config.rest.corsOrigins,
      signal: this.closing.signal,
    })
    this.restApp = app
    this.rest = await listen(app, this.config.rest.host, this.config.rest.port, 'REST API')

    const mintOperatorToken = async () => {
      const ttl = OPERATOR_TOKEN_TTL_SECONDS
      const token = await signer.mint(formatRealmSubject(realm.operator, realm.realmId), { ttlSeconds: ttl })
      await writeOperatorFile(dataDir, {
        url: this.rest?.url ?? '',
        token,
        userId: realm.operator,
        expiresAt: new Date(Date.now() + ttl * 1000).toISOString(),
      })
    }
    await mintOperatorToken()
    const refresh = setInterval(() => {
      mintOperatorToken().catch((err) => log.warn({ err }, 'renewing the operator token failed'))
    }, OPERATOR_TOKEN_REFRESH_MS)
    refresh.unref()
    this.cleanups.push(() => clearInterval(refresh))

    if (devLogin) this.dev = await this.#devCredentials(accessKeys, realm.operator)
    this.state = 'ok'
    this.options.onStarted?.()
    log.info(
      {
        rest: this.rest.url,
        s3: this.s3.endpoint.url,
        p2p: network.multiaddrs,
        dataDir,
        realm: realm.realmName,
        realmId: realm.realmId,
        kind: realm.kind,
        version: VERSION,
      },
      `node ${identity.peerId} started (${realm.kind} node of realm "${realm.realmName}"); REST API on ${this.rest.url}, S3 API on ${this.s3.endpoint.url}`,
    )
    log.info(`p2p addresses: ${network.multiaddrs.join(' ')}`)
    if (this.dev) {
      log.warn(
        {
          devUser: this.dev.userId,
          accessKeyId: this.dev.accessKeyId,
          secretAccessKey: this.dev.secretAccessKey,
          issuer: this.devOidc?.issuer,
        },
        `development login: S3 access key ${this.dev.accessKeyId}, secret ${this.dev.secretAccessKey} (any region; path-style); "aruna login" logs in as the development user; turn it off with --no-dev`,
      )
    }
  }

  /**
   * Opens the realm's metadata catalog (from disk, or from peers on the first start after a join); the
   * first management node of a realm without one creates it and records it in `realm.json`, so joining
   * nodes are given it. A server node of such a realm runs without metadata until it is given one.
   */
  async #startMetadata(dataDir: string, realm: RealmFile, log: Logger): Promise<RealmFile> {
    const member = this.member
    if (!member) return realm
    if (realm.metadataUrl === undefined && realm.kind !== 'management') {
      log.warn('this realm has no metadata catalog yet: metadata is not served on this node')
      return realm
    }
    this.metadataNode = await startMetadataNode({
      dataDir,
      network: member.network,
      catalogUrl: realm.metadataUrl,
      factor: this.config.metadata.replicationFactor,
      loadTimeoutMs: this.options.loadTimeoutMs ?? 30_000,
      logger: log,
    })
    if (realm.metadataUrl === this.metadataNode.catalogUrl) return realm
    const next = { ...realm, metadataUrl: this.metadataNode.catalogUrl }
    await writeRealmFile(dataDir, next)
    this.realmFile = next
    log.info({ catalog: next.metadataUrl }, 'created the realm’s metadata catalog')
    return next
  }

  /**
   * Counts metadata changes, and samples the sync lag: for a change that arrived from another node, the
   * time from its newest change (stamped with the writing node's clock) to now, at most once a second
   * per resource.
   */
  #measureMetadata(metrics: RestMetrics, log: Logger): void {
    const store = this.metadataNode?.store
    if (!store) return
    const sampled = new Map<string, number>()
    const unsubscribe = store.onChange((event) => {
      metrics.observeMetadataChange(event.type, event.origin)
      if (event.origin !== 'remote' || event.type !== 'updated') return
      const now = Date.now()
      if ((sampled.get(event.resourceId) ?? 0) > now - 1000) return
      sampled.set(event.resourceId, now)
      if (sampled.size > 10_000) sampled.clear()
      store
        .history(event.resourceId)
        .then((changes) => {
          const newest = changes.at(-1)
          if (newest !== undefined) metrics.observeSyncLag((Date.now() - newest.time) / 1000)
        })
        .catch((err) => log.debug({ err }, 'measuring the metadata sync lag failed'))
    })
    this.cleanups.push(unsubscribe)
  }

  /**
   * A realm token for `userId`, minted by this node as a login would (for the cluster harness and
   * tools running beside the node; users get theirs with `aruna login`).
   */
  async mintToken(userId: string, ttlSeconds = 3600): Promise<string> {
    const realm = this.realmFile
    if (!this.signer || !realm) throw new NodeStartError('the node is not running')
    return this.signer.mint(formatRealmSubject(userId, realm.realmId), { ttlSeconds })
  }

  /** The operator (the realm's first administrator on a development realm) logs in as the dev user. */
  async #bindDevIdentity(operator: string, issuer: string): Promise<void> {
    const store = this.member?.store
    if (!store) return
    try {
      await store.addIdentity(operator, { issuer, subject: 'dev' })
    } catch (err) {
      if (!isOrgaError(err, 'AlreadyExists')) throw err
      this.logger.warn(
        { issuer },
        'the development identity belongs to another user; the development login logs in as that user',
      )
    }
  }

  async #devCredentials(accessKeys: EncryptedAccessKeyStore, userId: string): Promise<DevCredentials> {
    for (const key of await accessKeys.list(userId)) {
      if (key.description !== 'development login') continue
      const found = await accessKeys.secretFor(key.accessKeyId)
      if (found) return { userId, accessKeyId: key.accessKeyId, secretAccessKey: found.secret }
    }
    const created = await accessKeys.create(userId, { description: 'development login' })
    return { userId, accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey }
  }

  /** Keeps `realm.json`'s bootstrap list and listen addresses current, for the next start. */
  #followNodeList(dataDir: string, realm: RealmFile): void {
    const member = this.member
    if (!member) return
    let pending: NodeJS.Timeout | undefined
    const save = async () => {
      const nodes = await member.store.listNodes()
      const bootstrap = nodes
        .filter((node) => node.peerId !== this.identity?.peerId)
        .flatMap((node) => node.addresses)
        .slice(0, 64)
      const listen = member.network.multiaddrs.map((address) => address.replace(/\/p2p\/[^/]+$/, ''))
      const current = this.realmFile ?? realm
      if (current.bootstrap.join() === bootstrap.join() && current.listen.join() === listen.join()) return
      const next = { ...current, bootstrap: bootstrap.length > 0 ? bootstrap : current.bootstrap, listen }
      this.realmFile = next
      await writeRealmFile(dataDir, next)
    }
    const schedule = () => {
      if (pending) return
      pending = setTimeout(() => {
        pending = undefined
        save().catch((err) => this.logger.warn({ err }, 'saving the realm peers failed'))
      }, 500)
      pending.unref()
    }
    const unsubscribe = member.store.onChange((change) => {
      if (change.kind === 'node') schedule()
    })
    this.cleanups.push(() => {
      unsubscribe()
      clearTimeout(pending)
    })
    schedule()
  }

  /**
   * Stops at once, as a crash would (for fault tests in one process): connections are cut, peers are
   * not told, in-flight requests fail.
   */
  kill(): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'stopping'
      await this.member?.kill()
      await this.#close(0)
    })()
    return this.stopping
  }

  /** Stops accepting, lets in-flight work finish within the shutdown timeout. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'stopping'
      this.logger.info('node stopping')
      await this.#close(this.config.shutdownTimeoutMs)
      this.logger.info('node stopped')
    })()
    return this.stopping
  }

  async #close(timeoutMs: number): Promise<void> {
    for (const cleanup of this.cleanups.splice(0)) cleanup()
    this.groups?.close()
    this.closing.abort()
    await Promise.all([this.rest?.close(timeoutMs), this.s3?.close(timeoutMs)])
    await this.devOidc?.close().catch(() => {})
    await this.searchNode?.close()
    await this.metadataNode?.close()
    await this.member?.stop()
  }
}
