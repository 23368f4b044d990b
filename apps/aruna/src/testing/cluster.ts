/**
 * The cluster harness: `createCluster({ nodes: n })` starts n complete Aruna nodes in this process,
 * each with its own data directory, loopback ports and real libp2p, the first creating the realm and
 * each next one joining with an invite made on the node before it (an invite chain, as operators do
 * it). Each node gives its REST URL, its S3 endpoint, its operator token (a realm token for the
 * realm's administrator) and an S3 client factory; nodes can be stopped, killed, restarted, added,
 * and partitioned from each other.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ArunaConfig, layerFromEntries, resolveConfig } from '../config.js'
import { createLogger, type Logger } from '../logger.js'
import { ArunaNode, type NodeOptions } from '../node.js'
import { joinRealm } from '../realm/join.js'
import { readOperatorFile } from '../services/operator-file.js'

export interface ClusterOptions {
  /** How many nodes to start (1 or more). */
  readonly nodes: number
  /** Where the data directories go. Default: a new temporary directory, removed by `stop()`. */
  readonly directory?: string
  /** Whether the first node runs the development login. Default true. */
  readonly devLogin?: boolean
  /** Log level of every node. Default `silent` (`ARUNA_TEST_LOG` overrides). */
  readonly logLevel?: ArunaConfig['log']['level']
  /** Liveness settings for all nodes. Default: 2 s liveness timeout, so failures show quickly. */
  readonly network?: NodeOptions['network']
  /** Configuration keys for every node, as a configuration file would give them, e.g. `{'metadata.replicationFactor': 1}`. */
  readonly config?: Readonly<Record<string, string | number | boolean>>
}

export interface S3Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
}

export class ClusterNode {
  node: ArunaNode
  #ports: { rest: number; s3: number; oidc: number } | undefined

  constructor(
    readonly index: number,
    readonly dataDir: string,
    private readonly makeConfig: (
      dataDir: string,
      ports?: { rest: number; s3: number; oidc: number },
    ) => ArunaConfig,
    private readonly makeNode: (config: ArunaConfig) => ArunaNode,
  ) {
    this.node = makeNode(makeConfig(dataDir))
  }

  get running(): boolean {
    return this.node.status().status === 'ok'
  }

  get nodeId(): string {
    return this.node.nodeId ?? ''
  }

  get restUrl(): string {
    return this.node.restUrl ?? ''
  }

  get s3Url(): string {
    return this.node.s3Url ?? ''
  }

  /** The operator's realm token (the realm administrator on these nodes). */
  async token(): Promise<string> {
    const operator = await readOperatorFile(this.dataDir)
    if (!operator) throw new Error(`node ${this.index} has no operator credential`)
    return operator.token
  }

  /** Calls the node's REST API as `token` (default: the operator); resolves with status and JSON body. */
  async rest<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: T }> {
    const bearer = token ?? (await this.token())
    const response = await fetch(`${this.restUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T }
  }

  /** An AWS SDK S3 client for this node (path-style), with the given credentials. */
  async s3Client(credentials: S3Credentials) {
    const { S3Client } = await import('@aws-sdk/client-s3')
    return new S3Client({
      endpoint: this.s3Url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials,
    })
  }

  async start(): Promise<void> {
    await this.node.start()
    this.#ports ??= {
      rest: Number(new URL(this.restUrl).port),
      s3: Number(new URL(this.s3Url).port),
      oidc: this.node.devIssuer ? Number(new URL(this.node.devIssuer).port) : 0,
    }
  }

  /** Stops the node gracefully (peers see it leave). */
  async stop(): Promise<void> {
    await this.node.stop()
  }

  /** Stops the node as a crash would: peers are not told and find out by liveness. */
  async kill(): Promise<void> {
    await this.node.kill()
  }

  /** Starts a stopped node again on the same data directory and ports. */
  async restart(): Promise<void> {
    if (this.running) await this.stop()
    this.node = this.makeNode(this.makeConfig(this.dataDir, this.#ports))
    await this.node.start()
  }
}

export class Cluster {
  readonly nodes: ClusterNode[] = []

  constructor(
    readonly directory: string,
    private readonly ownsDirectory: boolean,
    private readonly makeConfig: (
      dataDir: string,
      ports?: { rest: number; s3: number; oidc: number },
    ) => ArunaConfig,
    private readonly logger: Logger,
    private readonly options: NodeOptions,
  ) {}

  node(index: number): ClusterNode {
    const found = this.nodes[index]
    if (!found) throw new Error(`no node ${index} in a cluster of ${this.nodes.length}`)
    return found
  }

  /** An invite made on node `via` by its operator. */
  async invite(via: number, ttlSeconds = 3600): Promise<string> {
    const made = await this.node(via).rest<{ invite: string }>('POST', '/v1/invites', { ttlSeconds })
    if (made.status !== 201) throw new Error(`invite on node ${via} failed: ${JSON.stringify(made.body)}`)
    return made.body.invite
  }

  /** A new node that joins with an invite made on node `via` (default: the last node), and starts. */
  async addNode(via = this.nodes.length - 1): Promise<ClusterNode> {
    const index = this.nodes.length
    const dataDir = join(this.directory, `node-${index}`)
    await joinRealm({ dataDir, invite: await this.invite(via) })
    const node = new ClusterNode(
      index,
      dataDir,
      this.makeConfig,
      (config) => new ArunaNode(config, this.logger.child({ n: index }), this.options),
    )
    this.nodes.push(node)
    await node.start()
    return node
  }

  /**
   * Cuts the network between two groups of nodes, as a firewall would: their connections drop and new
   * ones are refused until `heal`. Each side keeps working with its own.
   */
  partition(sideA: readonly number[], sideB: readonly number[]): void {
    const ids = (side: readonly number[]) => side.map((i) => this.node(i).nodeId)
    for (const i of sideA) this.node(i).node.federation?.block(ids(sideB))
    for (const i of sideB) this.node(i).node.federation?.block(ids(sideA))
  }

  /** Ends every partition: blocked peers are accepted and dialled again. */
  heal(): void {
    const all = this.nodes.map((n) => n.nodeId)
    for (const node of this.nodes) if (node.running) node.node.federation?.unblock(all)
  }

  /** Stops every node (ignoring failures) and removes the data unless the caller gave the directory. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.nodes.map((node) => node.stop()))
    if (this.ownsDirectory) await rm(this.directory, { recursive: true, force: true })
  }
}

export async function createCluster(options: ClusterOptions): Promise<Cluster> {
  if (!Number.isInteger(options.nodes) || options.nodes < 1)
    throw new Error('a cluster needs at least one node')
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'aruna-cluster-')))
  const level =
    (process.env.ARUNA_TEST_LOG as ArunaConfig['log']['level'] | undefined) ?? options.logLevel ?? 'silent'
  const logger = createLogger({ level, format: 'json', destination: process.stderr })
  const makeConfig = (dataDir: string, ports?: { rest: number; s3: number; oidc: number }) =>
    resolveConfig([
      layerFromEntries('cluster', {
        ...options.config,
        dataDir,
        'rest.port': ports?.rest ?? 0,
        's3.port': ports?.s3 ?? 0,
        'dev.oidcPort': ports?.oidc ?? 0,
        'log.level': level,
      }),
    ])
  const nodeOptions: NodeOptions = {
    network: options.network ?? { livenessTimeoutMs: 2000, handshakeTimeoutMs: 3000 },
    loadTimeoutMs: 20_000,
  }
  const cluster = new Cluster(directory, options.directory === undefined, makeConfig, logger, nodeOptions)
  try {
    const first = new ClusterNode(
      0,
      join(directory, 'node-0'),
      makeConfig,
      (config) =>
        new ArunaNode(config, logger.child({ n: 0 }), {
          ...nodeOptions,
          initIfMissing: { devLogin: options.devLogin ?? true },
        }),
    )
    cluster.nodes.push(first)
    await first.start()
    for (let i = 1; i < options.nodes; i++) await cluster.addNode(i - 1)
  } catch (err) {
    await cluster.stop()
    throw err
  }
  return cluster
}
