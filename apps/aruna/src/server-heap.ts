/**
 * The V8 heap settings of a running node. Node's default young generation (semi-spaces of up to 16 MiB
 * here) lets a node keep about 40 MiB of it committed after start, and keeps the memory V8 grew under
 * load: an idle node held 194 MiB RSS, 345 MiB after small-object load. With 4 MiB semi-spaces it holds
 * 161 and 207–232 MiB, with no throughput difference the S3 bench could see (BENCHMARKS.md). The size
 * can only be set when the process starts, so `aruna start` and `aruna join` start themselves once
 * more with it (`process.execve`: the same process id, no second process), unless it is already set.
 * This module must stay light: it runs before the rest of the CLI is loaded.
 */

/** Semi-space size (MiB) a node runs with. */
export const NODE_SEMI_SPACE_MIB = 4

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
