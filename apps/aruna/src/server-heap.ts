/**
 * The V8 heap settings of a running node. Node's default young generation here (semi-spaces of up to
 * 32 MiB on this 24 GiB machine) lets an idle node keep about 25 MiB more of it resident, and more
 * after load: an idle node held 194 MiB RSS and 345 MiB after the S3 bench's small-object workloads.
 * With 8 MiB semi-spaces it holds 169–171 and 224–238 MiB, and small PUTs and GETs ran as fast or
 * faster (alternating runs of the S3 bench); 4 MiB saved a little more memory but cost a quarter of
 * the small-PUT rate and tripled its p99 (more objects promoted, more full collections). The size can
 * only be set when the process starts, so `aruna start` and `aruna join` start themselves once more
 * with it (`process.execve`: the same process id, no second process), unless it is already set. This
 * module must stay light: it runs before the rest of the CLI is loaded.
 */

/** Semi-space size (MiB) a node runs with. */
export const NODE_SEMI_SPACE_MIB = 8

const SERVER_COMMANDS = new Set(['start', 'join'])
const FLAG = '--max-semi-space-size'

/**
 * The arguments to start this process again with the node's heap settings (for `execve`), or
 * `undefined` when it needs none: not a command that runs a node, or the size is already chosen (on
 * the command line of Node or in `NODE_OPTIONS`).
 */
export function serverRelaunchArgs(
  execPath: string,
  execArgv: readonly string[],
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string[] | undefined {
  // The command comes first (the program has no options of its own).
  const command = argv[2]
  if (command === undefined || !SERVER_COMMANDS.has(command)) return undefined
  if (execArgv.some((arg) => arg.startsWith(FLAG)) || (env.NODE_OPTIONS ?? '').includes(FLAG))
    return undefined
  return [execPath, `${FLAG}=${NODE_SEMI_SPACE_MIB}`, ...execArgv, ...argv.slice(1)]
}
