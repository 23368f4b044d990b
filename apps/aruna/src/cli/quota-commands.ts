/**
 * `aruna quota show|set|unset`: the realm's storage quotas and each group's usage, over the REST API
 * (`GET /v1/config`, `PATCH /v1/config`, `GET /v1/usage`). Realm administrators set quotas; anyone sees
 * the usage of the groups they may see. Sizes take units: `10MiB`, `1.5GB`, `500k`, or plain bytes.
 */
import type { Command } from 'commander'
import { CliError, connect, type NodeClient } from './client.js'
import type { CliIo } from './io.js'
import { resolveGroup } from './meta-commands.js'
import { addClientFlags, type ClientFlags, clientOptions, print } from './realm-commands.js'
import { type GroupQuota, type GroupUsage, parseSize, quotaText, usageLine } from './usage-text.js'

interface QuotaConfig {
  defaultGroup: GroupQuota
  groups: Record<string, GroupQuota>
  gracePercent: number
  warnPercent: number
  maxGroupsPerUser?: number
}

function parseCount(text: string, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text)
  if (!/^\d+$/.test(text.trim()) || value < min || value > max)
    throw new CliError(
      `${what} must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}; got "${text}"`,
      2,
    )
  return value
}

interface SetFlags extends ClientFlags {
  defaultBytes?: string
  defaultObjects?: string
  group?: string
  bytes?: string
  objects?: string
  grace?: string
  warn?: string
  maxGroupsPerUser?: string
}

interface UnsetFlags extends ClientFlags {
  group?: string
  defaultBytes?: boolean
  defaultObjects?: boolean
  maxGroupsPerUser?: boolean
}

async function patchQuota(client: NodeClient, quota: Record<string, unknown>): Promise<QuotaConfig> {
  const answer = await client.call<{ config: { quota: QuotaConfig } }>('PATCH', '/v1/config', { quota })
  return answer.config.quota
}

function configLines(quota: QuotaConfig): string {
  const groups = Object.entries(quota.groups).map(([id, q]) => `  group ${id}: ${quotaText(q)}`)
  return [
    `default per group: ${quotaText(quota.defaultGroup)}; grace ${quota.gracePercent}%, warning at ${quota.warnPercent}%${quota.maxGroupsPerUser === undefined ? '' : `; at most ${quota.maxGroupsPerUser} groups per user`}`,
    ...groups,
  ].join('\n')
}

/** Adds `aruna quota …` to `program`; each reports its exit code through `setExit`. */
export function addQuotaCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const quota = program
    .command('quota')
    .description('storage quotas per group, and what each group stores (sizes like 10MiB, 1.5GB, 500k)')

  addClientFlags(
    quota
      .command('show')
      .description('the realm’s quotas (administrators) and the usage of the groups you may see')
      .option('--group <group>', 'only this group (id or the name of one of your groups)'),
  ).action(async (opts: ClientFlags & { group?: string }) => {
    const client = await connect(clientOptions(opts), io.env)
    const group = opts.group === undefined ? undefined : await resolveGroup(client, opts.group)
    const config = await client
      .call<{ config: { quota: QuotaConfig } }>('GET', '/v1/config')
      .then((answer) => answer.config.quota)
      .catch((err: unknown) => {
        // Only administrators read the realm config; the others still see their usage.
        if (err instanceof CliError && (err.problem as { status?: number } | undefined)?.status === 403)
          return undefined
        throw err
      })
    const { groups } = await client.call<{ groups: GroupUsage[] }>(
      'GET',
      `/v1/usage${group === undefined ? '' : `?group=${encodeURIComponent(group)}`}`,
    )
    print(io, opts, { ...(config === undefined ? {} : { quota: config }), usage: groups }, () =>
      [
        ...(config === undefined ? [] : [configLines(config)]),
        groups.length === 0 ? 'no group you may see stores anything' : groups.map(usageLine).join('\n'),
      ].join('\n'),
    )
    setExit(0)
  })

  addClientFlags(
    quota
      .command('set')
      .description(
        'set quotas (realm administrators): the default per group, one group’s, grace, warning, groups per user',
      )
      .option('--default-bytes <size>', 'bytes each group may store unless it has its own quota')
      .option('--default-objects <n>', 'object versions each group may store unless it has its own quota')
      .option('--group <group>', 'set this group’s own quota (id or name) with --bytes and --objects')
      .option('--bytes <size>', 'with --group: the bytes the group may store')
      .option('--objects <n>', 'with --group: the object versions the group may store')
      .option('--grace <percent>', 'percent above a quota still accepted (0-100)')
      .option('--warn <percent>', 'percent of a quota at which a warning is logged and shown (1-100)')
      .option('--max-groups-per-user <n>', 'groups one user may be a member of'),
  ).action(async (opts: SetFlags) => {
    const client = await connect(clientOptions(opts), io.env)
    const update: Record<string, unknown> = {}
    const defaults: Record<string, number> = {}
    if (opts.defaultBytes !== undefined) defaults.bytes = parseSize(opts.defaultBytes)
    if (opts.defaultObjects !== undefined)
      defaults.objects = parseCount(opts.defaultObjects, '--default-objects', 0)
    if (Object.keys(defaults).length > 0) update.defaultGroup = defaults
    if ((opts.bytes !== undefined || opts.objects !== undefined) && opts.group === undefined)
      throw new CliError('--bytes and --objects set one group’s quota: name it with --group', 2)
    if (opts.group !== undefined) {
      if (opts.bytes === undefined && opts.objects === undefined)
        throw new CliError(
          '--group needs --bytes or --objects (aruna quota unset --group removes its quota)',
          2,
        )
      const id = await resolveGroup(client, opts.group)
      update.groups = {
        [id]: {
          ...(opts.bytes === undefined ? {} : { bytes: parseSize(opts.bytes) }),
          ...(opts.objects === undefined ? {} : { objects: parseCount(opts.objects, '--objects', 0) }),
        },
      }
    }
    if (opts.grace !== undefined) update.gracePercent = parseCount(opts.grace, '--grace', 0, 100)
    if (opts.warn !== undefined) update.warnPercent = parseCount(opts.warn, '--warn', 1, 100)
    if (opts.maxGroupsPerUser !== undefined)
      update.maxGroupsPerUser = parseCount(opts.maxGroupsPerUser, '--max-groups-per-user', 1)
    if (Object.keys(update).length === 0) throw new CliError('nothing to set: see aruna quota set --help', 2)
    const config = await patchQuota(client, update)
    print(io, opts, { quota: config }, () => configLines(config))
    setExit(0)
  })

  addClientFlags(
    quota
      .command('unset')
      .description(
        'remove quotas (realm administrators): a group’s own, the default’s, the cap on groups per user',
      )
      .option('--group <group>', 'remove this group’s own quota (it falls back to the default)')
      .option('--default-bytes', 'remove the default byte quota')
      .option('--default-objects', 'remove the default object quota')
      .option('--max-groups-per-user', 'remove the cap on groups per user'),
  ).action(async (opts: UnsetFlags) => {
    const client = await connect(clientOptions(opts), io.env)
    const update: Record<string, unknown> = {}
    const defaults: Record<string, null> = {}
    if (opts.defaultBytes === true) defaults.bytes = null
    if (opts.defaultObjects === true) defaults.objects = null
    if (Object.keys(defaults).length > 0) update.defaultGroup = defaults
    if (opts.group !== undefined) update.groups = { [await resolveGroup(client, opts.group)]: null }
    if (opts.maxGroupsPerUser === true) update.maxGroupsPerUser = null
    if (Object.keys(update).length === 0)
      throw new CliError('nothing to remove: see aruna quota unset --help', 2)
    const config = await patchQuota(client, update)
    print(io, opts, { quota: config }, () => configLines(config))
    setExit(0)
  })
}
