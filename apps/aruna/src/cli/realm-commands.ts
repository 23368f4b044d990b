/**
 * The commands that talk to a running node's REST API as some caller: `invite`, `node list|remove`,
 * `keys create|list|revoke`, `status` and `gc`. Each takes `--url`, `--data-dir` (whose operator credential
 * is used), `--token` and `--json`; failures are `CliError`s, one line each.
 */

import type { Command } from 'commander'
import { CliError, connect } from './client.js'
import type { CliIo } from './io.js'
import { DEFAULT_NODE_URL } from './login-command.js'
import { type GroupUsage, usageLine } from './usage-text.js'

interface Health {
  status?: string
  realm?: string
  realmId?: string
  nodeId?: string
  kind?: string
  peers?: number
  version?: string
  data?: {
    replicationFactor: number
    nodesLive: number
    nodesDown: number
    chunks: number
    underReplicated: number
    corruptFound: number
    corruptRepaired: number
  }
}

interface NodeList {
  self: string
  nodes: { id: string; kind: string; live: boolean; addresses: string[]; addedAt: string }[]
}

function printNodes(list: NodeList, io: CliIo): void {
  io.stdout.write(`${list.nodes.length} node${list.nodes.length === 1 ? '' : 's'} in the realm:\n`)
  for (const node of list.nodes) {
    const marks = [
      node.kind,
      node.live ? 'live' : 'not reachable',
      ...(node.id === list.self ? ['this node'] : []),
    ]
    io.stdout.write(`  ${node.id}  ${marks.join(', ')}\n`)
    for (const address of node.addresses) io.stdout.write(`      ${address}\n`)
  }
}

async function commandStatus(opts: ClientFlags, io: CliIo): Promise<number> {
  const client = await connect(clientOptions(opts), io.env)
  let health: Health
  let ok: boolean
  try {
    const res = await fetch(`${client.url}/health`, { signal: AbortSignal.timeout(5000) })
    health = (await res.json()) as Health
    ok = res.ok
  } catch (err) {
    const why =
      err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)
    io.stderr.write(`aruna: no node answers at ${client.url}: ${why}\n`)
    return 1
  }
  if (opts.json) {
    const nodes = client.authenticated
      ? await client.call<NodeList>('GET', '/v1/nodes').catch(() => undefined)
      : undefined
    io.stdout.write(`${JSON.stringify({ health, ...(nodes ? { nodes: nodes.nodes } : {}) }, null, 2)}\n`)
    return ok ? 0 : 1
  }
  io.stdout.write(
    `${client.url}: ${health.status ?? 'unknown'} — node ${health.nodeId ?? '?'} (${health.kind ?? '?'}) of realm "${health.realm}" (${health.realmId ?? '?'}), ${health.peers ?? 0} live peer${health.peers === 1 ? '' : 's'}, version ${health.version}\n`,
  )
  const data = health.data
  if (data !== undefined)
    io.stdout.write(
      `data: replication factor ${data.replicationFactor}, ${data.nodesLive} node${data.nodesLive === 1 ? '' : 's'} live, ${data.nodesDown} down; ${data.chunks} chunk${data.chunks === 1 ? '' : 's'} here, ${data.underReplicated} under-replicated; ${data.corruptFound} corrupt found, ${data.corruptRepaired} repaired\n`,
    )
  if (client.authenticated) {
    try {
      printNodes(await client.call<NodeList>('GET', '/v1/nodes'), io)
    } catch (err) {
      io.stderr.write(
        `aruna: cannot list the realm's nodes: ${err instanceof Error ? err.message : String(err)}\n`,
      )
    }
    try {
      const { groups } = await client.call<{ groups: GroupUsage[] }>('GET', '/v1/usage')
      if (groups.length > 0)
        io.stdout.write(`storage per group:\n${groups.map((g) => `  ${usageLine(g)}`).join('\n')}\n`)
    } catch (err) {
      io.stderr.write(
        `aruna: cannot read storage usage: ${err instanceof Error ? err.message : String(err)}\n`,
      )
    }
  } else {
    io.stdout.write(
      '(log in with "aruna login", or run this with the node\'s --data-dir, to list the realm\'s nodes)\n',
    )
  }
  return ok ? 0 : 1
}

export interface ClientFlags {
  url?: string
  token?: string
  dataDir?: string
  json?: boolean
}

export function clientOptions(opts: ClientFlags): { url?: string; token?: string; dataDir?: string } {
  return {
    ...(opts.url === undefined ? {} : { url: opts.url }),
    ...(opts.token === undefined ? {} : { token: opts.token }),
    ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
  }
}

/** The flags of every command that talks to a running node. */
export function addClientFlags(cmd: Command): Command {
  return cmd
    .option('--url <url>', `the node's REST API (default: the node of --data-dir, else ${DEFAULT_NODE_URL})`)
    .option(
      '--data-dir <dir>',
      "a local node's data directory, whose operator credential is used (default ./.aruna)",
    )
    .option(
      '--token <token>',
      'a realm token (default $ARUNA_TOKEN, the operator credential, or "aruna login")',
    )
    .option('--json', 'print JSON for scripts')
}

export function print(io: CliIo, opts: ClientFlags, value: unknown, human: () => string): void {
  io.stdout.write(opts.json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`)
}

/** `30m`, `24h`, `7d`, or plain seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim())
  if (!match) throw new CliError(`"${text}" is not a duration such as 30m, 24h or 7d`, 2)
  const factor = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd']
  return Number(match[1]) * factor
}

/** Adds the realm commands to `program`; each reports its exit code through `setExit`. */
export function addRealmCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  addClientFlags(
    program
      .command('invite')
      .description("make a one-time invite for a new node (needs the right to manage the realm's nodes)")
      .option(
        '--ttl <duration>',
        'how long the invite is valid: 30m, 24h, 7d (default 24h, at most 30d)',
        '24h',
      ),
  ).action(async (opts: ClientFlags & { ttl: string }) => {
    const ttlSeconds = parseDuration(opts.ttl)
    const client = await connect(clientOptions(opts), io.env)
    const made = await client.call<{ id: string; invite: string; expiresAt: string }>('POST', '/v1/invites', {
      ttlSeconds,
    })
    print(
      io,
      opts,
      made,
      () =>
        `${made.invite}\n(one node may join with it, until ${made.expiresAt}: aruna join <invite> --data-dir <dir>)`,
    )
    setExit(0)
  })

  const nodeCommand = program.command('node').description("the realm's nodes")
  addClientFlags(
    nodeCommand.command('list').description("list the realm's nodes with liveness and addresses"),
  ).action(async (opts: ClientFlags) => {
    const client = await connect(clientOptions(opts), io.env)
    const list = await client.call<NodeList>('GET', '/v1/nodes')
    if (opts.json) print(io, opts, list, () => '')
    else printNodes(list, io)
    setExit(0)
  })
  addClientFlags(
    nodeCommand
      .command('remove')
      .argument('<id>', 'the node id (libp2p peer id) to remove')
      .description('remove a node: every node disconnects it and refuses it from then on'),
  ).action(async (id: string, opts: ClientFlags) => {
    const client = await connect(clientOptions(opts), io.env)
    await client.call('DELETE', `/v1/nodes/${encodeURIComponent(id)}`)
    print(io, opts, { removed: id }, () => `removed node ${id} from the realm`)
    setExit(0)
  })

  const keysCommand = program
    .command('keys')
    .description('S3 access keys (usable on every node of the realm)')
  addClientFlags(
    keysCommand
      .command('create')
      .description('create an access key; its secret is shown only now')
      .option('--description <text>', 'what the key is for')
      .option('--user <id>', "another user's id (needs WRITE on the realm's keys)"),
  ).action(async (opts: ClientFlags & { description?: string; user?: string }) => {
    const client = await connect(clientOptions(opts), io.env)
    const body = {
      ...(opts.description === undefined ? {} : { description: opts.description }),
      ...(opts.user === undefined ? {} : { user: opts.user }),
    }
    const key = await client.call<{ accessKeyId: string; secretAccessKey: string; userId: string }>(
      'POST',
      '/v1/keys',
      body,
    )
    print(
      io,
      opts,
      key,
      () =>
        `access key ${key.accessKeyId}\nsecret     ${key.secretAccessKey}\n(the secret is shown only now)`,
    )
    setExit(0)
  })
  addClientFlags(
    keysCommand.command('list').description('list access keys').option('--user <id>', "another user's keys"),
  ).action(async (opts: ClientFlags & { user?: string }) => {
    const client = await connect(clientOptions(opts), io.env)
    const query = opts.user === undefined ? '' : `?user=${encodeURIComponent(opts.user)}`
    const list = await client.call<{
      keys: { accessKeyId: string; createdAt: string; description?: string }[]
    }>('GET', `/v1/keys${query}`)
    print(io, opts, list, () =>
      list.keys.length === 0
        ? 'no access keys'
        : list.keys
            .map((key) => `${key.accessKeyId}  ${key.createdAt}  ${key.description ?? ''}`.trimEnd())
            .join('\n'),
    )
    setExit(0)
  })
  addClientFlags(
    keysCommand
      .command('revoke')
      .argument('<id>', 'the access key id')
      .description('revoke an access key on every node'),
  ).action(async (id: string, opts: ClientFlags) => {
    const client = await connect(clientOptions(opts), io.env)
    await client.call('DELETE', `/v1/keys/${encodeURIComponent(id)}`)
    print(io, opts, { revoked: id }, () => `revoked access key ${id}`)
    setExit(0)
  })

  addClientFlags(
    program
      .command('status')
      .description("a node's health, and the realm's nodes with liveness and addresses"),
  ).action(async (opts: ClientFlags) => {
    setExit(await commandStatus(opts, io))
  })

  addClientFlags(
    program
      .command('gc')
      .description(
        "free the node's chunks that no object version or upload references (stale uploads are aborted first); the node logs its progress",
      ),
  ).action(async (opts: ClientFlags) => {
    const client = await connect(clientOptions(opts), io.env)
    if (!opts.json)
      io.stderr.write(`aruna: collecting garbage on ${client.url} (progress in the node's log)\n`)
    const result = await client.call<{
      chunksFreed: number
      bytesFreed: number
      chunksLive: number
      uploadsAborted: number
      durationMs: number
    }>('POST', '/v1/gc')
    print(
      io,
      opts,
      result,
      () =>
        `freed ${result.chunksFreed} chunk${result.chunksFreed === 1 ? '' : 's'} (${result.bytesFreed} bytes), ${result.chunksLive} in use, ${result.uploadsAborted} stale upload${result.uploadsAborted === 1 ? '' : 's'} aborted, in ${Math.round(result.durationMs)} ms`,
    )
    setExit(0)
  })
}
