/**
 * Node configuration: embedded defaults, overridden by a JSON file, then by ARUNA_* environment
 * variables, then by command-line flags. Every value is validated with one schema; the first bad
 * value becomes a ConfigError naming the key, where it came from, and what is allowed.
 */
import { readFile } from 'node:fs/promises'
import { z } from 'zod'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** Strings from the environment or flags become numbers only when they are plain integers. */
const integerFrom = (v: unknown) => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v)
const booleanFrom = (v: unknown) => {
  if (typeof v !== 'string') return v
  const s = v.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(s)) return true
  if (['false', '0', 'no', 'off'].includes(s)) return false
  return v
}

const port = z.preprocess(
  integerFrom,
  z
    .number({ error: 'must be an integer port from 0 to 65535 (0 picks a free port)' })
    .int({ error: 'must be an integer port from 0 to 65535 (0 picks a free port)' })
    .min(0, { error: 'must be an integer port from 0 to 65535 (0 picks a free port)' })
    .max(65535, { error: 'must be an integer port from 0 to 65535 (0 picks a free port)' }),
)
/** An integer from `min` to `max`, said with `unit` in the error. */
const boundedInteger = (min: number, max: number, unit: string) => {
  const error = `must be an integer number of ${unit} from ${min} to ${max}`
  return z.preprocess(integerFrom, z.number({ error }).int({ error }).min(min, { error }).max(max, { error }))
}
const host = z
  .string({ error: 'must be a host name or IP address' })
  .regex(/^[A-Za-z0-9.:_-]+$/, { error: 'must be a host name or IP address' })

export const ConfigSchema = z
  .object({
    dataDir: z
      .string({ error: 'must be a directory path' })
      .min(1, { error: 'must not be empty' })
      .default('./.aruna'),
    realm: z
      .object({
        name: z
          .string({ error: 'must be a string' })
          .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, {
            error: 'must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit',
          })
          .default('default'),
      })
      .strict()
      .prefault({}),
    rest: z
      .object({
        host: host.default('127.0.0.1'),
        port: port.default(8080),
        /**
         * Browser origins (`https://portal.example.org`) allowed to call the REST API with CORS; `*` allows
         * any. Default none: browsers on other origins are refused by their own CORS rules.
         */
        corsOrigins: z
          .array(
            z.string().refine((v) => v === '*' || /^https?:\/\/[^/\s]+$/.test(v), {
              error: 'must be origins such as https://portal.example.org (scheme and host, no path), or *',
            }),
          )
          .default([]),
      })
      .strict()
      .prefault({}),
    s3: z
      .object({ host: host.default('127.0.0.1'), port: port.default(9000) })
      .strict()
      .prefault({}),
    p2p: z
      .object({
        listen: z
          .array(z.string().startsWith('/', { error: 'must be multiaddrs such as /ip4/127.0.0.1/tcp/4001' }))
          // Empty: the addresses of the last run, else loopback TCP and QUIC on free ports.
          .default([]),
        bootstrap: z
          .array(
            z.string().startsWith('/', { error: 'must be multiaddrs such as /ip4/10.0.0.1/tcp/4001/p2p/…' }),
          )
          .default([]),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
        format: z
          .enum(['auto', 'json', 'pretty'], { error: 'must be one of auto, json, pretty' })
          .default('auto'),
      })
      .strict()
      .prefault({}),
    dev: z
      .object({
        /**
         * The built-in development login (an OpenID provider on loopback with one development user,
         * and a printed S3 key). `auto`: on only for a realm this node created on its first start
         * without a configuration file; never for a node that joined a realm.
         */
        login: z
          .preprocess(
            (v) => (v === 'auto' ? v : booleanFrom(v)),
            z.union([z.literal('auto'), z.boolean()], { error: 'must be auto, true or false' }),
          )
          .default('auto'),
        /**
         * The development OpenID provider's port (part of its issuer URL); 0 picks a free one at each
         * start (the CLI finds it through the node, and the operator's identity follows it).
         */
        oidcPort: port.default(0),
      })
      .strict()
      .prefault({}),
    oidc: z
      .object({
        /** OpenID providers whose tokens log users in (production). */
        issuers: z
          .array(
            z
              .object({
                issuer: z.string().url({ error: 'must be the issuer URL exactly as in its tokens' }),
                audiences: z.array(z.string().min(1)).min(1, { error: 'must name at least one audience' }),
                /** The public client `aruna login` uses (device flow); omit to hide the issuer from the CLI. */
                clientId: z.string().min(1).optional(),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .prefault({}),
    gc: z
      .object({
        /** Minutes between garbage collections of unreferenced chunks (stale uploads aborted first); 0: off. */
        intervalMinutes: z
          .preprocess(
            integerFrom,
            z
              .number({ error: 'must be an integer number of minutes from 0 (off) to 10080' })
              .int({ error: 'must be an integer number of minutes from 0 (off) to 10080' })
              .min(0, { error: 'must be an integer number of minutes from 0 (off) to 10080' })
              .max(10080, { error: 'must be an integer number of minutes from 0 (off) to 10080' }),
          )
          .default(360),
      })
      .strict()
      .prefault({}),
    data: z
      .object({
        /** Holders that must have a write durable before it is acknowledged: `majority` of the factor, or a number. */
        writeQuorum: z
          .preprocess(
            (v) => (v === 'majority' ? v : integerFrom(v)),
            z.union([z.literal('majority'), z.number().int().min(1).max(1000)], {
              error: 'must be "majority" or an integer from 1 to 1000',
            }),
          )
          .default('majority'),
        /** Seconds a node may be out of reach before its data is copied to other nodes to restore the factor. */
        downAfterSeconds: boundedInteger(1, 604800, 'seconds').default(300),
        /** Seconds between repair sweeps (missing copies made, moved copies dropped). */
        repairIntervalSeconds: boundedInteger(1, 86400, 'seconds').default(60),
        /** Seconds between comparisons of the key indexes with each connected node. */
        antiEntropySeconds: boundedInteger(1, 86400, 'seconds').default(30),
        /** Minutes between scrubs that re-verify every local chunk; 0: off. */
        scrubIntervalMinutes: boundedInteger(0, 525600, 'minutes').default(1440),
        /** The most a scrub reads per second, in MiB. */
        scrubMiBPerSecond: boundedInteger(1, 100000, 'MiB per second').default(64),
        /** The most the repair sweep sends per second (copies to holders), in MiB. */
        repairMiBPerSecond: boundedInteger(1, 100000, 'MiB per second').default(64),
        /**
         * Chunks of at most this many bytes are kept in the node's small-chunk database (LMDB: concurrent
         * writes share one synced commit) rather than a file each; 0 keeps every chunk in a file.
         */
        smallChunkBytes: boundedInteger(0, 1048576, 'bytes').default(65536),
      })
      .strict()
      .prefault({}),
    metadata: z
      .object({
        /**
         * How many live nodes hold each resource's metadata document: `all` (default) or 1 to 1000. Every
         * node answers for every resource either way, fetching from a holder when it holds none.
         */
        replicationFactor: z
          .preprocess(
            (v) => (v === 'all' ? v : integerFrom(v)),
            z.union([z.literal('all'), z.number().int().min(1).max(1000)], {
              error: 'must be "all" or an integer from 1 to 1000',
            }),
          )
          .default('all'),
      })
      .strict()
      .prefault({}),
    shutdownTimeoutMs: z
      .preprocess(
        integerFrom,
        z
          .number({ error: 'must be an integer number of milliseconds from 100 to 60000' })
          .int({ error: 'must be an integer number of milliseconds from 100 to 60000' })
          .min(100, { error: 'must be an integer number of milliseconds from 100 to 60000' })
          .max(60000, { error: 'must be an integer number of milliseconds from 100 to 60000' }),
      )
      .default(4000),
  })
  .strict()

export type ArunaConfig = z.infer<typeof ConfigSchema>

/** A configuration value that cannot be used; `key` is the dotted path, `origin` where it came from. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(
    readonly key: string,
    message: string,
    readonly origin?: string,
  ) {
    super(message)
  }
}

/** One layer of configuration values and the name of where they came from. */
export interface ConfigLayer {
  readonly origin: string
  readonly values: Record<string, unknown>
}

/** Environment variables, each mapped to a configuration key (the documented ones). */
export const ENV_KEYS: Readonly<Record<string, string>> = {
  ARUNA_DATA_DIR: 'dataDir',
  ARUNA_REALM_NAME: 'realm.name',
  ARUNA_REST_HOST: 'rest.host',
  ARUNA_REST_PORT: 'rest.port',
  ARUNA_REST_CORS_ORIGINS: 'rest.corsOrigins',
  ARUNA_S3_HOST: 's3.host',
  ARUNA_S3_PORT: 's3.port',
  ARUNA_P2P_LISTEN: 'p2p.listen',
  ARUNA_P2P_BOOTSTRAP: 'p2p.bootstrap',
  ARUNA_LOG_LEVEL: 'log.level',
  ARUNA_LOG_FORMAT: 'log.format',
  ARUNA_DEV_LOGIN: 'dev.login',
  ARUNA_DEV_OIDC_PORT: 'dev.oidcPort',
  ARUNA_SHUTDOWN_TIMEOUT_MS: 'shutdownTimeoutMs',
  ARUNA_GC_INTERVAL_MINUTES: 'gc.intervalMinutes',
  ARUNA_METADATA_REPLICATION_FACTOR: 'metadata.replicationFactor',
  ARUNA_DATA_WRITE_QUORUM: 'data.writeQuorum',
  ARUNA_DATA_DOWN_AFTER_SECONDS: 'data.downAfterSeconds',
  ARUNA_DATA_SMALL_CHUNK_BYTES: 'data.smallChunkBytes',
}

const LIST_KEYS = new Set(['p2p.listen', 'p2p.bootstrap', 'rest.corsOrigins'])

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.')
  let node = target
  for (const part of parts.slice(0, -1)) {
    const next = node[part]
    if (!isRecord(next)) node[part] = {}
    node = node[part] as Record<string, unknown>
  }
  node[parts[parts.length - 1] as string] = value
}

/** Builds a layer from dotted keys (`rest.port`) to values; list keys accept comma-separated strings. */
export function layerFromEntries(origin: string, entries: Record<string, unknown>): ConfigLayer {
  const values: Record<string, unknown> = {}
  for (const [key, raw] of Object.entries(entries)) {
    if (raw === undefined) continue
    const value =
      LIST_KEYS.has(key) && typeof raw === 'string'
        ? raw
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : raw
    setPath(values, key, value)
  }
  return { origin, values }
}

/** One layer per ARUNA_* variable set in `env`; an unknown ARUNA_* name is refused. */
export function layersFromEnv(env: NodeJS.ProcessEnv): ConfigLayer[] {
  const layers: ConfigLayer[] = []
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('ARUNA_') || value === undefined || name === 'ARUNA_CONFIG') continue
    const key = ENV_KEYS[name]
    if (!key) {
      throw new ConfigError(
        name,
        `unknown environment variable ${name}; known: ARUNA_CONFIG, ${Object.keys(ENV_KEYS).join(', ')}`,
        'environment',
      )
    }
    layers.push(layerFromEntries(`environment variable ${name}`, { [key]: value }))
  }
  return layers
}

/** Parses the text of a JSON configuration file into a layer (not yet validated). */
export function layerFromText(text: string, origin: string): ConfigLayer {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err)
    throw new ConfigError('(file)', `${origin} is not valid JSON: ${detail}`, origin)
  }
  if (!isRecord(parsed)) {
    throw new ConfigError('(file)', `${origin} must hold a JSON object at the top level`, origin)
  }
  return { origin, values: parsed }
}

/** Reads a JSON configuration file into a layer; a missing or unreadable file is a ConfigError. */
export async function layerFromFile(path: string): Promise<ConfigLayer> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'unknown error'})`
    throw new ConfigError('(file)', `configuration file ${path} ${why}`, path)
  }
  return layerFromText(text, `file ${path}`)
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  // A null prototype makes a "__proto__" key an ordinary (and so unknown, refused) key.
  const out: Record<string, unknown> = Object.assign(Object.create(null), base)
  for (const [k, v] of Object.entries(over)) {
    const prev = out[k]
    out[k] = isRecord(prev) && isRecord(v) ? merge(prev, v) : v
  }
  return out
}

/** The origin of the innermost layer that sets `path` (or one of its parents). */
function originOf(layers: readonly ConfigLayer[], path: readonly PropertyKey[]): string | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    let node: unknown = (layers[i] as ConfigLayer).values
    let found = true
    for (const part of path) {
      if (!isRecord(node) || !(String(part) in node)) {
        found = false
        break
      }
      node = node[String(part)]
    }
    if (found) return (layers[i] as ConfigLayer).origin
  }
  return undefined
}

function describeValue(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function valueAt(values: unknown, path: readonly PropertyKey[]): unknown {
  let node = values
  for (const part of path) node = isRecord(node) || Array.isArray(node) ? (node as never)[part] : undefined
  return node
}

/** Validates merged layers (lowest priority first) into a configuration. */
export function resolveConfig(layers: readonly ConfigLayer[]): ArunaConfig {
  const merged = layers.reduce<Record<string, unknown>>((acc, l) => merge(acc, l.values), {})
  const result = ConfigSchema.safeParse(merged)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  if (!issue) throw new ConfigError('(config)', 'configuration is invalid')
  if (issue.code === 'unrecognized_keys') {
    const key = [...issue.path, issue.keys[0] ?? ''].map(String).join('.')
    const origin = originOf(layers, [...issue.path, issue.keys[0] ?? ''])
    throw new ConfigError(
      key,
      `unknown configuration key "${key}"${origin ? ` (from ${origin})` : ''}`,
      origin,
    )
  }
  const key = issue.path.map(String).join('.') || '(root)'
  const origin = originOf(layers, issue.path)
  const got = valueAt(merged, issue.path)
  throw new ConfigError(
    key,
    `configuration key "${key}"${origin ? ` (from ${origin})` : ''} ${issue.message}; got ${describeValue(got)}`,
    origin,
  )
}

/** Parses and validates the text of a JSON configuration file on its own (defaults fill the rest). */
export function parseConfigText(text: string, source = 'config'): ArunaConfig {
  return resolveConfig([layerFromText(text, source)])
}

/** A configuration value set by a command-line flag. */
export interface FlagValue {
  readonly flag: string
  readonly key: string
  readonly value: unknown
}

export interface LoadConfigOptions {
  /** Path of a JSON configuration file; defaults to $ARUNA_CONFIG when set. */
  readonly file?: string
  /** Values given as command-line flags, each with its dotted key and the flag that set it. */
  readonly flags?: readonly FlagValue[]
  readonly env?: NodeJS.ProcessEnv
}

/** Loads the effective configuration: defaults < file < environment < flags. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ArunaConfig> {
  const env = options.env ?? process.env
  const layers: ConfigLayer[] = []
  const file = options.file ?? env.ARUNA_CONFIG
  if (file) layers.push(await layerFromFile(file))
  layers.push(...layersFromEnv(env))
  for (const f of options.flags ?? []) {
    if (f.value !== undefined) layers.push(layerFromEntries(`flag ${f.flag}`, { [f.key]: f.value }))
  }
  return resolveConfig(layers)
}
