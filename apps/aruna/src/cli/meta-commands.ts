/**
 * `aruna meta …`: the realm's RO-Crate metadata over the REST API of any node. `list`, `create`, `get`,
 * `set`, `unset`, `patch`, `delete`, `history`, `validate`, `import` (a crate's JSON or zip), `export`
 * (JSON or zip, to a file or standard output) and `watch` (change events as they happen). `--group`
 * takes a group id or the name of a group the caller is a member of. Each takes the client flags of
 * the realm commands (`--url`, `--data-dir`, `--token`, `--json`); a refusal is one line (`aruna: …`),
 * with the crate's problems listed under it when an import is refused.
 */
import { createWriteStream } from 'node:fs'
import { readFile, rename, rm } from 'node:fs/promises'
import { basename } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { type CrateReport, formatCrateReport } from '@aruna/metadata'
import type { Command } from 'commander'
import { CliError, connect, type NodeClient } from './client.js'
import type { CliIo } from './io.js'
import { addClientFlags, type ClientFlags, clientOptions, print } from './realm-commands.js'

interface ResourceRef {
  resourceId: string
  group: string
}
interface Resource extends ResourceRef {
  crate: { '@graph': { '@id': string; [key: string]: unknown }[] }
}
interface ChangeEntry {
  actor: string
  time: string
  message: string
  author?: string
}
interface GroupFlags extends ClientFlags {
  group: string
}

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/
const seg = encodeURIComponent

/** A group id as given, or the id of the caller's group of that name. */
export async function resolveGroup(client: NodeClient, group: string): Promise<string> {
  if (ULID.test(group)) return group
  const { groups } = await client.call<{ groups: { id: string; name: string }[] }>('GET', '/v1/groups')
  const named = groups.filter((g) => g.name === group)
  if (named.length === 1) return (named[0] as { id: string }).id
  if (named.length === 0)
    throw new CliError(`you are a member of no group named "${group}" (aruna group list shows yours)`, 2)
  throw new CliError(
    `several of your groups are named "${group}": give its id (${named.map((g) => g.id).join(', ')})`,
    2,
  )
}

/** A command-line value: JSON when it parses as JSON (numbers, arrays, objects, quoted text), else text. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function crateProblems(err: unknown): string {
  if (!(err instanceof CliError)) return ''
  const problems = (err.problem as { problems?: { severity: string; rule: string; message: string }[] })
    ?.problems
  if (!problems?.length) return ''
  return `\n${problems.map((p) => `  ${p.severity}: [${p.rule}] ${p.message}`).join('\n')}`
}

/** Counts bytes passing through, reporting on stderr at most every 8 MiB. */
function progress(io: CliIo, what: string): Transform {
  let bytes = 0
  let next = 8 * 1024 * 1024
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length
      if (bytes >= next) {
        io.stderr.write(`${what}: ${(bytes / 1024 / 1024).toFixed(0)} MiB\n`)
        next += 8 * 1024 * 1024
      }
      done(null, chunk)
    },
  })
}

export function addMetaCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const run =
    <A extends unknown[]>(body: (client: NodeClient, ...args: A) => Promise<number | undefined>) =>
    async (...args: A) => {
      const opts = args.at(-2) as ClientFlags
      setExit((await body(await connect(clientOptions(opts), io.env), ...args)) ?? 0)
    }
  const meta = program
    .command('meta')
    .description("RO-Crate metadata of the realm's resources (datasets), through any node")
  const withGroup = (cmd: Command) =>
    addClientFlags(cmd.requiredOption('--group <group>', 'a group id, or the name of one of your groups'))

  withGroup(
    meta
      .command('list')
      .description("list a group's resources you may read")
      .option('--limit <n>', 'rows per page (1-1000)', '100')
      .option('--cursor <cursor>', 'continue after a previous page'),
  ).action(
    run(async (client, opts: GroupFlags & { limit: string; cursor?: string }) => {
      const group = await resolveGroup(client, opts.group)
      const query = new URLSearchParams({ group, limit: opts.limit })
      if (opts.cursor !== undefined) query.set('cursor', opts.cursor)
      const page = await client.call<{
        resources: { resourceId: string; name: string }[]
        nextCursor?: string
      }>('GET', `/v1/resources?${query}`)
      print(io, opts, page, () =>
        [
          ...(page.resources.length === 0 ? ['no resources you may read'] : []),
          ...page.resources.map((r) => `${r.resourceId}  ${r.name}`),
          ...(page.nextCursor === undefined ? [] : [`more: --cursor ${page.nextCursor}`]),
        ].join('\n'),
      )
      return 0
    }),
  )

  withGroup(
    meta
      .command('create')
      .argument('<name>', "the dataset's name")
      .description('create a resource with a fresh RO-Crate (needs WRITE on the group’s metadata)')
      .option('--description <text>', "the dataset's description")
      .option('--id <id>', 'the resource id (default: a new ULID)'),
  ).action(
    run(async (client, name: string, opts: GroupFlags & { description?: string; id?: string }) => {
      const made = await client.call<ResourceRef>('POST', '/v1/resources', {
        group: await resolveGroup(client, opts.group),
        name,
        ...(opts.description === undefined ? {} : { description: opts.description }),
        ...(opts.id === undefined ? {} : { resourceId: opts.id }),
      })
      print(io, opts, made, () => `created ${made.resourceId}`)
      return 0
    }),
  )

  addClientFlags(
    meta
      .command('get')
      .argument('<id>', 'the resource id')
      .description("print a resource's ro-crate-metadata.json"),
  ).action(
    run(async (client, id: string, opts: ClientFlags) => {
      const resource = await client.call<Resource>('GET', `/v1/resources/${seg(id)}`)
      print(io, opts, resource, () => JSON.stringify(resource.crate, null, 2))
      return 0
    }),
  )

  addClientFlags(
    meta
      .command('set')
      .argument('<id>', 'the resource id')
      .argument('<property>', 'the property, e.g. description or license')
      .argument('<value>', 'the value: JSON (e.g. \'{"@id": "https://spdx.org/licenses/MIT"}\') or text')
      .option('--entity <id>', 'the entity to change (default: the root dataset ./)', './')
      .description('set one property of one entity (merged with concurrent edits)'),
  ).action(
    run(
      async (client, id: string, property: string, value: string, opts: ClientFlags & { entity: string }) => {
        const resource = await client.call<Resource>('PATCH', `/v1/resources/${seg(id)}`, {
          edits: [{ op: 'set', entity: opts.entity, property, value: parseValue(value) }],
        })
        print(io, opts, resource, () => `set ${property} of ${opts.entity} in ${id}`)
        return 0
      },
    ),
  )

  addClientFlags(
    meta
      .command('unset')
      .argument('<id>', 'the resource id')
      .argument('<property>', 'the property to remove')
      .option('--entity <id>', 'the entity to change (default: the root dataset ./)', './')
      .description('remove one property of one entity'),
  ).action(
    run(async (client, id: string, property: string, opts: ClientFlags & { entity: string }) => {
      const resource = await client.call<Resource>('PATCH', `/v1/resources/${seg(id)}`, {
        edits: [{ op: 'remove', entity: opts.entity, property }],
      })
      print(io, opts, resource, () => `removed ${property} of ${opts.entity} in ${id}`)
      return 0
    }),
  )

  addClientFlags(
    meta
      .command('patch')
      .argument('<id>', 'the resource id')
      .argument('<file>', 'a JSON file (or - for standard input): {"edits": [{"op": "set", …}, …]}')
      .description('apply a list of edits (set, remove, addEntity, removeEntity, link), see /docs'),
  ).action(
    run(async (client, id: string, file: string, opts: ClientFlags) => {
      const text = file === '-' ? await readStdin() : await readText(file)
      const body = parseValue(text)
      if (typeof body !== 'object' || body === null)
        throw new CliError(`${file} is not a JSON object such as {"edits": [...]}`, 2)
      const resource = await client.call<Resource>('PATCH', `/v1/resources/${seg(id)}`, body)
      print(io, opts, resource, () => `patched ${id}`)
      return 0
    }),
  )

  addClientFlags(
    meta
      .command('delete')
      .argument('<id>', 'the resource id')
      .description('delete a resource, on every node'),
  ).action(
    run(async (client, id: string, opts: ClientFlags) => {
      await client.call('DELETE', `/v1/resources/${seg(id)}`)
      print(io, opts, { deleted: id }, () => `deleted ${id}`)
      return 0
    }),
  )

  addClientFlags(
    meta
      .command('history')
      .argument('<id>', 'the resource id')
      .description("a resource's changes, oldest first"),
  ).action(
    run(async (client, id: string, opts: ClientFlags) => {
      const { changes } = await client.call<{ changes: ChangeEntry[] }>(
        'GET',
        `/v1/resources/${seg(id)}/history`,
      )
      print(io, opts, { changes }, () =>
        changes.map((c) => `${c.time}  ${c.author ?? c.actor}  ${c.message}`).join('\n'),
      )
      return 0
    }),
  )

  addClientFlags(
    meta
      .command('validate')
      .argument('<id>', 'the resource id')
      .description("validate a resource's crate; exit code 1 when it breaks a MUST rule"),
  ).action(
    run(async (client, id: string, opts: ClientFlags) => {
      const report = await client.call<CrateReport>('GET', `/v1/resources/${seg(id)}/validation`)
      print(io, opts, report, () => formatCrateReport(report))
      return report.valid ? 0 : 1
    }),
  )

  withGroup(
    meta
      .command('import')
      .argument('<file>', 'an RO-Crate: its ro-crate-metadata.json, or a zip')
      .option('--id <id>', 'the resource id (default: a new ULID)')
      .description(
        'create a resource from an RO-Crate; a crate that breaks RO-Crate rules is refused with its problems',
      ),
  ).action(
    run(async (client, file: string, opts: GroupFlags & { id?: string }) => {
      const bytes = await readBytes(file)
      const zip = bytes[0] === 0x50 && bytes[1] === 0x4b // "PK"
      const query = new URLSearchParams({ group: await resolveGroup(client, opts.group) })
      if (opts.id !== undefined) query.set('resourceId', opts.id)
      if (!opts.json)
        io.stderr.write(`uploading ${basename(file)} (${bytes.length} bytes, ${zip ? 'zip' : 'JSON'})…\n`)
      let response: Response
      try {
        response = await client.request('POST', `/v1/resources/import?${query}`, {
          body: bytes,
          contentType: zip ? 'application/zip' : 'application/json',
          timeoutMs: 10 * 60_000,
        })
      } catch (err) {
        if (err instanceof CliError) throw new CliError(`${err.message}${crateProblems(err)}`, err.exitCode)
        throw err
      }
      const made = (await response.json()) as ResourceRef
      print(io, opts, made, () => `imported ${basename(file)} as ${made.resourceId}`)
      return 0
    }),
  )

  addClientFlags(
    meta
      .command('export')
      .argument('<id>', 'the resource id')
      .option('--zip', 'an RO-Crate zip (default: ro-crate-metadata.json)')
      .option('-o, --output <file>', 'write to this file (default: standard output)')
      .description('download a resource as ro-crate-metadata.json or as an RO-Crate zip'),
  ).action(
    run(async (client, id: string, opts: ClientFlags & { zip?: boolean; output?: string }) => {
      const response = await client.request(
        'GET',
        `/v1/resources/${seg(id)}/export?format=${opts.zip ? 'zip' : 'json'}`,
        {
          timeoutMs: 10 * 60_000,
        },
      )
      const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>)
      if (opts.output === undefined) {
        if (opts.zip && io.stdout === process.stdout && process.stdout.isTTY)
          throw new CliError('a zip is binary: give --output <file>, or redirect standard output', 2)
        await pipeline(body, io.stdout, { end: false })
        return 0
      }
      // Written next to the target and renamed at the end: an interrupted download leaves no half file.
      const partial = `${opts.output}.part`
      try {
        await pipeline(body, progress(io, `exporting ${id}`), createWriteStream(partial))
        await rename(partial, opts.output)
      } catch (err) {
        await rm(partial, { force: true })
        throw new CliError(
          `writing ${opts.output} failed: ${err instanceof Error ? err.message : String(err)}`,
        )
      }
      io.stderr.write(`wrote ${opts.output}\n`)
      return 0
    }),
  )

  addClientFlags(
    meta
      .command('watch')
      .description('print change events of the resources you may read, as they happen (Ctrl-C stops)')
      .option('--group <group>', 'only this group (an id, or the name of one of your groups)')
      .option('--count <n>', 'stop after this many events'),
  ).action(
    run(async (client, opts: ClientFlags & { group?: string; count?: string }) => {
      const count = opts.count === undefined ? Number.POSITIVE_INFINITY : Number(opts.count)
      if (!(count >= 1)) throw new CliError('--count must be a positive number', 2)
      const query = opts.group === undefined ? '' : `?group=${seg(await resolveGroup(client, opts.group))}`
      const response = await client.request('GET', `/v1/events${query}`, { timeoutMs: undefined })
      const reader = (response.body as ReadableStream<Uint8Array>).getReader()
      const decoder = new TextDecoder()
      let buffer = ''
      let seen = 0
      const stopped = io.stopSignal.then(() => 'stop' as const)
      try {
        while (seen < count) {
          const read = await Promise.race([reader.read(), stopped])
          if (read === 'stop') break
          if (read.done) throw new CliError('the node closed the event stream')
          buffer += decoder.decode(read.value, { stream: true })
          for (let at = buffer.indexOf('\n\n'); at >= 0 && seen < count; at = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, at)
            buffer = buffer.slice(at + 2)
            const event = /^event: (.*)$/m.exec(block)?.[1]
            const data = /^data: (.*)$/m.exec(block)?.[1]
            if (event === 'ready') io.stderr.write('watching for changes (Ctrl-C stops)\n')
            if (event === undefined || data === undefined || event === 'ready') continue
            const change = JSON.parse(data) as {
              type: string
              resourceId: string
              group: string
              origin: string
            }
            seen++
            io.stdout.write(
              opts.json
                ? `${JSON.stringify(change)}\n`
                : `${change.type} ${change.resourceId} (group ${change.group}, ${change.origin})\n`,
            )
          }
        }
      } finally {
        await reader.cancel().catch(() => {})
      }
      return 0
    }),
  )
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file))
  } catch (err) {
    throw new CliError(`${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`, 2)
  }
}

async function readText(file: string): Promise<string> {
  return new TextDecoder().decode(await readBytes(file))
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
