/**
 * The administration commands over the REST API: `group list|create|show`, `member add|remove`,
 * `role list|create|update|delete|assign|revoke`, `user list|show` and `token revoke`. Each takes the client flags of the realm
 * commands (`--url`, `--data-dir`, `--token`, `--json`); the node decides what the caller may do, and a
 * refusal comes back as one line (`aruna: …`).
 */
import type { Command } from 'commander'
import { CliError, connect } from './client.js'
import type { CliIo } from './io.js'
import { addClientFlags, type ClientFlags, clientOptions, print } from './realm-commands.js'

interface Group {
  id: string
  name: string
  members: string[]
  createdAt: string
}

interface User {
  id: string
  displayName: string
}

interface Role {
  id: string
  name: string
  group: string | null
  rules: { pattern: string; permission: string }[]
  members: string[]
  createdAt: string
}

const PERMISSIONS = new Set(['READ', 'WRITE', 'DENY'])

/** `WRITE:/realm/g/group/**` → a rule; the permission is case-insensitive. */
export function parseRule(text: string): { permission: string; pattern: string } {
  const at = text.indexOf(':')
  const permission = text.slice(0, at).toUpperCase()
  const pattern = text.slice(at + 1)
  if (at < 1 || !PERMISSIONS.has(permission) || !pattern.startsWith('/'))
    throw new CliError(`"${text}" is not a rule such as READ:/<realm>/g/<group>/** (READ, WRITE or DENY)`, 2)
  return { permission, pattern }
}

const collect = (value: string, previous: string[]): string[] => [...previous, value]
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

function groupLine(group: Group): string {
  return `${group.id}  ${group.name}  (${plural(group.members.length, 'member')})`
}

function roleLines(role: Role): string {
  const scope = role.group === null ? 'realm role' : `role of group ${role.group}`
  const rules = role.rules.map((rule) => `      ${rule.permission.padEnd(5)} ${rule.pattern}`)
  return [`${role.id}  ${role.name}  (${scope}, ${plural(role.members.length, 'holder')})`, ...rules].join(
    '\n',
  )
}

const seg = encodeURIComponent

/** Adds the administration commands to `program`; each reports its exit code through `setExit`. */
export function addAdminCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const run =
    <A extends unknown[]>(body: (client: Awaited<ReturnType<typeof connect>>, ...args: A) => Promise<void>) =>
    async (...args: A) => {
      const opts = args.at(-2) as ClientFlags
      await body(await connect(clientOptions(opts), io.env), ...args)
      setExit(0)
    }

  const group = program.command('group').description('groups: who works together on what')
  addClientFlags(group.command('list').description('list the groups you are a member of')).action(
    run(async (client, opts: ClientFlags) => {
      const { groups } = await client.call<{ groups: Group[] }>('GET', '/v1/groups')
      print(io, opts, { groups }, () =>
        groups.length === 0 ? 'you are a member of no group' : groups.map(groupLine).join('\n'),
      )
    }),
  )
  addClientFlags(
    group
      .command('create')
      .argument('<name>', 'the group name')
      .description('create a group (needs WRITE on the realm’s groups)'),
  ).action(
    run(async (client, name: string, opts: ClientFlags) => {
      const made = await client.call<Group>('POST', '/v1/groups', { name })
      print(io, opts, made, () => `created group ${made.name}: ${made.id}`)
    }),
  )
  addClientFlags(
    group.command('show').argument('<id>', 'the group id').description('a group and its members'),
  ).action(
    run(async (client, id: string, opts: ClientFlags) => {
      const shown = await client.call<Group>('GET', `/v1/groups/${seg(id)}`)
      print(io, opts, shown, () => [groupLine(shown), ...shown.members.map((m) => `  ${m}`)].join('\n'))
    }),
  )

  const member = program.command('member').description("a group's members")
  for (const [verb, method, done] of [
    ['add', 'POST', 'added'],
    ['remove', 'DELETE', 'removed'],
  ] as const) {
    addClientFlags(
      member
        .command(verb)
        .argument('<group>', 'the group id')
        .argument('<user>', 'the user id')
        .description(`${verb} a member (needs WRITE on the group’s members)`),
    ).action(
      run(async (client, groupId: string, user: string, opts: ClientFlags) => {
        const changed =
          method === 'POST'
            ? await client.call<Group>('POST', `/v1/groups/${seg(groupId)}/members`, { user })
            : await client.call<Group>('DELETE', `/v1/groups/${seg(groupId)}/members/${seg(user)}`)
        print(io, opts, changed, () => `${done} ${user}: ${groupLine(changed)}`)
      }),
    )
  }

  const role = program.command('role').description('roles: permission rules given to users')
  addClientFlags(
    role
      .command('list')
      .description('list the realm’s roles, or a group’s')
      .option('--group <id>', 'a group’s roles'),
  ).action(
    run(async (client, opts: ClientFlags & { group?: string }) => {
      const query = opts.group === undefined ? '' : `?group=${seg(opts.group)}`
      const { roles } = await client.call<{ roles: Role[] }>('GET', `/v1/roles${query}`)
      print(io, opts, { roles }, () => (roles.length === 0 ? 'no roles' : roles.map(roleLines).join('\n')))
    }),
  )
  addClientFlags(
    role
      .command('create')
      .argument('<name>', 'the role name')
      .description('create a realm role, or with --group a group role')
      .option('--group <id>', 'the group the role belongs to (its rules stay inside the group)')
      .option(
        '--rule <permission:pattern>',
        'a rule, e.g. WRITE:/<realm>/g/<group>/** (repeatable)',
        collect,
        [],
      ),
  ).action(
    run(async (client, name: string, opts: ClientFlags & { group?: string; rule: string[] }) => {
      const rules = opts.rule.map(parseRule)
      const made = await client.call<Role>('POST', '/v1/roles', {
        name,
        rules,
        ...(opts.group === undefined ? {} : { group: opts.group }),
      })
      print(io, opts, made, () => `created ${roleLines(made)}`)
    }),
  )
  addClientFlags(
    role
      .command('update')
      .argument('<id>', 'the role id')
      .description('rename a role and/or replace its rules')
      .option('--name <name>', 'the new name')
      .option('--rule <permission:pattern>', 'a rule of the new set (repeatable)', collect, []),
  ).action(
    run(async (client, id: string, opts: ClientFlags & { name?: string; rule: string[] }) => {
      const patch = {
        ...(opts.name === undefined ? {} : { name: opts.name }),
        ...(opts.rule.length === 0 ? {} : { rules: opts.rule.map(parseRule) }),
      }
      if (Object.keys(patch).length === 0) throw new CliError('say what to change: --name and/or --rule', 2)
      const changed = await client.call<Role>('PATCH', `/v1/roles/${seg(id)}`, patch)
      print(io, opts, changed, () => `updated ${roleLines(changed)}`)
    }),
  )
  addClientFlags(role.command('delete').argument('<id>', 'the role id').description('delete a role')).action(
    run(async (client, id: string, opts: ClientFlags) => {
      await client.call('DELETE', `/v1/roles/${seg(id)}`)
      print(io, opts, { deleted: id }, () => `deleted role ${id}`)
    }),
  )
  for (const [verb, method, done] of [
    ['assign', 'POST', 'gave'],
    ['revoke', 'DELETE', 'took'],
  ] as const) {
    addClientFlags(
      role
        .command(verb)
        .argument('<role>', 'the role id')
        .argument('<user>', 'the user id')
        .description(verb === 'assign' ? 'give a user a role' : 'take a role from a user'),
    ).action(
      run(async (client, roleId: string, user: string, opts: ClientFlags) => {
        const changed =
          method === 'POST'
            ? await client.call<Role>('POST', `/v1/roles/${seg(roleId)}/members`, { user })
            : await client.call<Role>('DELETE', `/v1/roles/${seg(roleId)}/members/${seg(user)}`)
        print(
          io,
          opts,
          changed,
          () => `${done} role ${changed.name} ${verb === 'assign' ? 'to' : 'from'} ${user}`,
        )
      }),
    )
  }

  const user = program
    .command('user')
    .description('the realm’s users (their ids are what member and role take)')
  addClientFlags(user.command('list').description('list the realm’s users (administrators)')).action(
    run(async (client, opts: ClientFlags) => {
      const { users } = await client.call<{ users: User[] }>('GET', '/v1/users')
      print(io, opts, { users }, () => users.map((u) => `${u.id}  ${u.displayName}`).join('\n'))
    }),
  )
  addClientFlags(
    user.command('show').argument('[id]', 'the user id (default: you)').description('a user'),
  ).action(
    run(async (client, id: string | undefined, opts: ClientFlags) => {
      const who = id ?? (await client.call<{ userId: string }>('GET', '/v1/me')).userId
      const shown = await client.call<User>('GET', `/v1/users/${seg(who)}`)
      print(io, opts, shown, () => `${shown.id}  ${shown.displayName}`)
    }),
  )

  const token = program.command('token').description('realm tokens')
  addClientFlags(
    token
      .command('revoke')
      .argument('<jti>', 'the token id (its jti claim)')
      .description('revoke a realm token on every node (realm administrators)'),
  ).action(
    run(async (client, jti: string, opts: ClientFlags) => {
      await client.call('POST', '/v1/tokens/revoke', { jti })
      print(io, opts, { revoked: jti }, () => `revoked token ${jti}`)
    }),
  )
}
