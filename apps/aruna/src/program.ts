/**
 * The `aruna` command line: every command, its flags and its help text. `runCli` returns the exit
 * code instead of exiting, so it can be tested; `cli.ts` is the thin process wrapper.
 */
import { Command, CommanderError, Option } from 'commander'
import { type ArunaConfig, ConfigError, ENV_KEYS, type FlagValue, loadConfig } from './config.js'
import { ListenError } from './http/listen.js'
import { createLogger } from './logger.js'
import { ArunaNode, NodeStartError } from './node.js'
import { VERSION } from './version.js'

export interface CliIo {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  readonly env: NodeJS.ProcessEnv
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); `start` waits on it. */
  readonly stopSignal: Promise<string>
}

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
  { flags: '--s3-host <host>', key: 's3.host', help: 'address the S3 API listens on (default 127.0.0.1)' },
  { flags: '--s3-port <port>', key: 's3.port', help: 'S3 API port, 0 for any free port (default 9000)' },
  { flags: '--listen <multiaddrs>', key: 'p2p.listen', help: 'comma-separated libp2p listen addresses' },
  { flags: '--bootstrap <multiaddrs>', key: 'p2p.bootstrap', help: 'comma-separated peers to join through' },
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

async function commandStart(config: ArunaConfig, io: CliIo): Promise<number> {
  const logger = createLogger({ level: config.log.level, format: config.log.format, destination: io.stdout })
  const node = new ArunaNode(config, logger)
  await node.start()
  const signal = await io.stopSignal
  logger.info({ signal }, 'shutdown requested')
  await node.stop()
  return 0
}

async function commandStatus(url: string, io: CliIo): Promise<number> {
  const target = new URL('/health', url)
  try {
    const res = await fetch(target, { signal: AbortSignal.timeout(5000) })
    const body = (await res.json()) as { status?: string; realm?: string; version?: string }
    io.stdout.write(
      `${target.origin}: ${body.status ?? 'unknown'} (realm ${body.realm}, version ${body.version})\n`,
    )
    return res.ok ? 0 : 1
  } catch (err) {
    const why =
      err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)
    io.stderr.write(`aruna: no node answers at ${target.origin}: ${why}\n`)
    return 1
  }
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
      .description('run a node; with no flags, a single node on embedded defaults (REST on 127.0.0.1:8080)')
      .addHelpText('after', ENV_HELP),
  ).action(async (opts: Record<string, unknown>, cmd: Command) => {
    setExit(await commandStart(await load(opts, cmd), io))
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

  program
    .command('status')
    .description("ask a running node's REST API for its health")
    .option('--url <url>', 'base URL of the node', 'http://127.0.0.1:8080')
    .action(async (opts: { url: string }) => {
      setExit(await commandStatus(opts.url, io))
    })

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
    if (err instanceof ListenError || err instanceof NodeStartError) {
      io.stderr.write(`aruna: cannot start: ${err.message}\n`)
      return 1
    }
    io.stderr.write(`aruna: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
}
