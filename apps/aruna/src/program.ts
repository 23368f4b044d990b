/**
 * The `aruna` command line: every command, its flags and its help text. `runCli` returns the exit
 * code instead of exiting, so it can be tested; `cli.ts` is the thin process wrapper.
 */
import module from 'node:module'
import { resolve } from 'node:path'
import { Command, CommanderError, Option } from 'commander'
import { addAdminCommands } from './cli/admin-commands.js'
import { CliError } from './cli/client.js'
import type { CliIo } from './cli/io.js'
import { addLoginCommand } from './cli/login-command.js'
import { addMetaCommands } from './cli/meta-commands.js'
import { addQuotaCommands } from './cli/quota-commands.js'
import { addRealmCommands } from './cli/realm-commands.js'
import { addSearchCommand } from './cli/search-command.js'
import { addValidateCommand } from './cli/validate-command.js'
import { type ArunaConfig, ConfigError, ENV_KEYS, type FlagValue, loadConfig } from './config.js'
import { NotListedError } from './federation/realm-member.js'
import { ListenError } from './http/listen.js'
import { startIdleMemoryReducer } from './idle-memory.js'
import { createLogger } from './logger.js'
import { ArunaNode, NodeStartError } from './node.js'
import { initRealmDirectory, RealmExistsError } from './realm/init.js'
import { InviteError } from './realm/invite.js'
import { JoinError, joinRealm } from './realm/join.js'
import { RealmFileError } from './realm/realm-file.js'
import { VERSION } from './version.js'

export type { CliIo } from './cli/io.js'

/** Flags shared by the commands that load the configuration, each bound to a configuration key. */
const CONFIG_FLAGS = [
  { flags: '--data-dir <dir>', key: 'dataDir', help: 'where the node keeps its data (default ./.aruna)' },
  {
    flags: '--realm <name>',
    key: 'realm.name',
    help: 'name of the realm created on first start (default "default")',
  },
  { flags: '--host <host>', key: 'rest.host', help: 'address the REST API listens on (default 127.0.0.1)' },
  { flags: '--port <port>', key: 'rest.port', help: 'REST API port, 0 for any free port (default 8080)' },
  {
    flags: '--cors-origins <origins>',
    key: 'rest.corsOrigins',
    help: 'comma-separated browser origins allowed to call the REST API (CORS), or * (default none)',
  },
  { flags: '--s3-host <host>', key: 's3.host', help: 'address the S3 API listens on (default 127.0.0.1)' },
  { flags: '--s3-port <port>', key: 's3.port', help: 'S3 API port, 0 for any free port (default 9000)' },
  {
    flags: '--listen <multiaddrs>',
    key: 'p2p.listen',
    help: "comma-separated libp2p listen addresses (default: the last run's, else loopback TCP+QUIC on free ports)",
  },
  { flags: '--bootstrap <multiaddrs>', key: 'p2p.bootstrap', help: 'comma-separated peers to join through' },
  {
    flags: '--dev-oidc-port <port>',
    key: 'dev.oidcPort',
    help: 'port of the development OpenID provider (default 0: any free port)',
  },
  {
    flags: '--log-level <level>',
    key: 'log.level',
    help: 'fatal|error|warn|info|debug|trace|silent (default info)',
  },
  {
    flags: '--log-format <format>',
    key: 'log.format',
    help: 'auto|json|pretty (default auto: pretty on a terminal)',
  },
] as const

function addConfigFlags(cmd: Command): Command {
  cmd.option('-c, --config <file>', 'JSON configuration file (default $ARUNA_CONFIG)')
  for (const f of CONFIG_FLAGS) cmd.addOption(new Option(f.flags, f.help))
  return cmd
}

function flagValues(opts: Record<string, unknown>, cmd: Command): FlagValue[] {
  return CONFIG_FLAGS.map((f) => {
    const option = cmd.options.find((o) => o.flags === f.flags)
    const name = option?.attributeName() ?? ''
    return { flag: option?.long ?? f.flags, key: f.key, value: opts[name] }
  })
}

const ENV_HELP = `
Configuration is read from, lowest priority first: built-in defaults, the JSON file given by
--config or $ARUNA_CONFIG, environment variables, then flags. Environment variables:
${Object.entries(ENV_KEYS)
  .map(([name, key]) => `  ${name.padEnd(26)} ${key}`)
  .join('\n')}
`

async function runNode(
  config: ArunaConfig,
  io: CliIo,
  initIfMissing?: { devLogin: boolean },
): Promise<number> {
  const logger = createLogger({ level: config.log.level, format: config.log.format, destination: io.stdout })
  // One node per process here (the harness runs several in one and leaves the heap to V8).
  const memory = startIdleMemoryReducer({
    onCollected: ({ rssBefore, rssAfter, ms }) =>
      logger.debug(
        { rssBefore, rssAfter, ms: Math.round(ms) },
        `memory given back on a quiet node: RSS ${mib(rssBefore)} -> ${mib(rssAfter)} MiB`,
      ),
  })
  const node = new ArunaNode(config, logger, {
    ...(initIfMissing === undefined ? {} : { initIfMissing }),
    onStarted: () => memory.collectNow(),
  })
  try {
    await node.start()
    // The code compiled so far goes to Node's compile cache now (`cli.ts`), not only at exit: a node
    // that is killed starts again as fast.
    module.flushCompileCache?.()
    const signal = await io.stopSignal
    logger.info({ signal }, 'shutdown requested')
    await node.stop()
  } finally {
    memory.stop()
  }
  return 0
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0)

/** `--no-dev` on the command line wins over every other layer. */
function withDevFlag(config: ArunaConfig, opts: Record<string, unknown>): ArunaConfig {
  return opts.dev === false ? { ...config, dev: { ...config.dev, login: false } } : config
}

export function createProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('aruna')
    .description('Aruna: a peer-to-peer, federated data management node for research data')
    .version(VERSION, '-v, --version')
    .showHelpAfterError('(run "aruna --help" for the list of commands and flags)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()

  const load = async (opts: Record<string, unknown>, cmd: Command) =>
    loadConfig({ file: opts.config as string | undefined, flags: flagValues(opts, cmd), env: io.env })

  addConfigFlags(
    program
      .command('start')
      .description(
        'run a node; on a fresh data directory it creates a realm (with the development login unless --no-dev or a configuration file is given)',
      )
      .option('--no-dev', 'turn the built-in development login off')
      .addHelpText('after', ENV_HELP),
  ).action(async (opts: Record<string, unknown>, cmd: Command) => {
    const config = withDevFlag(await load(opts, cmd), opts)
    const configured = opts.config !== undefined || io.env.ARUNA_CONFIG !== undefined
    const devLogin = config.dev.login === true || (config.dev.login === 'auto' && !configured)
    setExit(await runNode(config, io, { devLogin }))
  })

  addConfigFlags(
    program
      .command('init')
      .description(
        'create a new realm in the data directory (realm key, organisation, first administrator) without starting',
      )
      .option('--admin-issuer <url>', 'OIDC issuer of the first administrator')
      .option('--admin-subject <sub>', 'OIDC subject of the first administrator')
      .option('--dev', "run the built-in development login on this realm's node")
      .addHelpText('after', ENV_HELP),
  ).action(async (opts: Record<string, unknown>, cmd: Command) => {
    const config = await load(opts, cmd)
    const issuer = opts.adminIssuer as string | undefined
    const subject = opts.adminSubject as string | undefined
    if ((issuer === undefined) !== (subject === undefined)) {
      throw new CliError('give both --admin-issuer and --admin-subject, or neither', 2)
    }
    const realm = await initRealmDirectory({
      dataDir: resolve(config.dataDir),
      realmName: config.realm.name,
      devLogin: opts.dev === true,
      ...(issuer && subject ? { admin: { issuer, subject } } : {}),
    })
    io.stdout.write(
      `created realm "${realm.realmName}" (${realm.realmId}) in ${resolve(config.dataDir)}; start it with "aruna start --data-dir ${config.dataDir}"\n`,
    )
    setExit(0)
  })

  addConfigFlags(
    program
      .command('join')
      .argument('<invite>', 'the invite line "aruna invite" printed on a realm node')
      .description(
        'join a realm with an invite, then run the node (later starts: "aruna start" with the same --data-dir)',
      )
      .addHelpText('after', ENV_HELP),
  ).action(async (invite: string, opts: Record<string, unknown>, cmd: Command) => {
    const config = await load(opts, cmd)
    const dataDir = resolve(config.dataDir)
    const realm = await joinRealm({
      dataDir,
      invite,
      onProgress: (message) => io.stderr.write(`aruna: ${message}\n`),
    })
    io.stderr.write(`aruna: joined realm "${realm.realmName}" (${realm.realmId}); starting the node\n`)
    setExit(await runNode(config, io))
  })

  addConfigFlags(
    program
      .command('config')
      .description('print the effective configuration (defaults, file, environment and flags merged) as JSON')
      .addHelpText('after', ENV_HELP),
  ).action(async (opts: Record<string, unknown>, cmd: Command) => {
    io.stdout.write(`${JSON.stringify(await load(opts, cmd), null, 2)}\n`)
    setExit(0)
  })

  addRealmCommands(program, io, setExit)
  addAdminCommands(program, io, setExit)
  addMetaCommands(program, io, setExit)
  addQuotaCommands(program, io, setExit)
  addSearchCommand(program, io, setExit)
  addValidateCommand(program, io, setExit)

  addLoginCommand(program, io, setExit)

  return program
}

/** Runs the command line and returns the process exit code; errors become one clear line on stderr. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code = 0
  const program = createProgram(io, (c) => {
    code = c
  })
  if (argv.length === 0) {
    program.outputHelp()
    return 0
  }
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return code
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version print and succeed; any other usage error is exit code 2, as for bad config.
      return err.exitCode === 0 ? 0 : 2
    }
    if (err instanceof ConfigError) {
      io.stderr.write(`aruna: invalid configuration: ${err.message}\n`)
      return 2
    }
    if (err instanceof ListenError || err instanceof NodeStartError || err instanceof NotListedError) {
      io.stderr.write(`aruna: cannot start: ${err.message}\n`)
      return 1
    }
    if (err instanceof CliError) {
      io.stderr.write(`aruna: ${err.message}\n`)
      return err.exitCode
    }
    if (
      err instanceof InviteError ||
      err instanceof JoinError ||
      err instanceof RealmExistsError ||
      err instanceof RealmFileError
    ) {
      io.stderr.write(`aruna: ${err.message}\n`)
      return 1
    }
    io.stderr.write(`aruna: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
}
