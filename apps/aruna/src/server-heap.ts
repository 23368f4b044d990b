/**
 * The memory settings of a running node: V8's heap and glibc's allocator.
 *
 * Node's default young generation here (semi-spaces of up to 32 MiB on this 24 GiB machine) lets an
 * idle node keep about 25 MiB more of it resident, and more after load: an idle node held 194 MiB RSS
 * and 345 MiB after the S3 bench's small-object workloads. With 8 MiB semi-spaces it holds 169–171
 * and 224–238 MiB, and small PUTs and GETs ran as fast or faster (alternating runs of the S3 bench);
 * 4 MiB saved a little more memory but cost a quarter of the small-PUT rate and tripled its p99 (more
 * objects promoted, more full collections).
 *
 * glibc's allocator gives each thread that allocates an arena of its own, up to 8 per core; a node has
 * a dozen threads (libuv's pool, V8's helpers, the QUIC transport's). Two arenas held an idle node's
 * RSS about 5 MiB lower (157 against 162 MiB) and large transfers ran as fast (alternating runs of the
 * S3 bench's 1–64 MiB workloads). A fixed trim threshold as well (`MALLOC_TRIM_THRESHOLD_`, which also
 * ends glibc's adaptive mmap threshold) saved 5–15 MiB more, but every 4 MiB chunk buffer was then a
 * fresh mapping, zeroed and faulted in: 10 and 64 MiB transfers ran 5–10% slower, so it is not set.
 *
 * V8 starts a full collection whenever memory outside its heap (ArrayBuffers: every chunk a node
 * reads or writes is one) has grown by 64 MiB since the last one, however small the heap. A node
 * moving 1 MiB objects did that about every 100 ms, each time marking its whole heap (40–45 MiB once
 * it has served small objects too). `--external-memory-accounted-in-global-limit` counts that memory
 * in V8's usual heap-growing limit instead: in alternating runs of the S3 bench, 1 MiB PUTs took
 * 5.0–5.5 instead of 9.4–10.2 ms of CPU and 1 MiB GETs 1.7–1.8 instead of 4.3–5.2; 64 MiB GETs
 * 100–113 instead of 183–197 ms (the 10 and 64 MiB rates went up by a third to a half, small objects
 * did not change).
 * The price: dead chunk buffers wait longer for a collection, and the RSS right after those workloads
 * was 353–388 instead of 304–318 MiB.
 *
 * Where jemalloc is installed (Debian's `libjemalloc2`, which `scripts/setup.sh` installs), a node runs
 * on it instead of glibc's allocator (`LD_PRELOAD`), with a background thread that gives freed pages
 * back to the system after a second (`MALLOC_CONF`). glibc keeps most of what large transfers freed:
 * after the S3 bench's workloads and a full collection, a node on glibc held 298 MiB RSS (221 MiB
 * anonymous, with V8's heap back at 43 MiB and its ArrayBuffers at 17 MiB), on jemalloc 156 MiB (78);
 * idle 142 against 125-129 MiB, at the same rates (`apps/aruna/bench/s3/NOTES.md`).
 * `LD_PRELOAD=` (empty) keeps glibc's allocator.
 *
 * All can only be set when the process starts, so `aruna start` and `aruna join` start themselves
 * once more with them (`process.execve`: the same process id, no second process), unless they are all
 * set already (an operator's own choice is kept). This module must stay light: it runs before the rest
 * of the CLI is loaded.
 */
import { existsSync } from 'node:fs'

/** Semi-space size (MiB) a node runs with. */
export const NODE_SEMI_SPACE_MIB = 8

/**
 * How far V8 lets its heap (with the memory outside it, see above) grow past what a full collection
 * left before it starts the next one, in per cent. V8 chooses this itself from how fast it collects,
 * and chose about 20% here: with 40 MiB of heap and 24 MiB outside it (LMDB's buffers, Automerge's
 * WebAssembly memory) that left 13 MiB of room, less than one large upload's chunks in flight, and a
 * node storing 64 MiB objects ran a full collection for every one or two of them (35 in 48), each
 * finding nothing to free; at 30% it ran 3. Alternating runs of the S3 bench: PUT 64 MiB c=1 435 -> 322
 * ms of CPU per object and PUT 10 MiB c=8 +17% PUT/s at 50%, 30% the same as 50%; PUT 1 KiB c=20 and the
 * GETs unchanged. 50% held 20-55 MiB more RSS than V8's own choice after the 1-10 MiB workloads.
 */
export const NODE_HEAP_GROWING_PERCENT = 30

/** The V8 flags a node runs with, each by its name (as `--name`, `--no-name` or `--name=…`) and as given. */
export const NODE_V8_FLAGS: readonly { readonly name: string; readonly arg: string }[] = Object.freeze([
  { name: 'max-semi-space-size', arg: `--max-semi-space-size=${NODE_SEMI_SPACE_MIB}` },
  { name: 'external-memory-accounted-in-global-limit', arg: '--external-memory-accounted-in-global-limit' },
  { name: 'heap-growing-percent', arg: `--heap-growing-percent=${NODE_HEAP_GROWING_PERCENT}` },
])

/** glibc's allocator settings a node runs with (read from the environment at process start). */
export const NODE_MALLOC_ENV: Readonly<Record<string, string>> = Object.freeze({
  MALLOC_ARENA_MAX: '2',
})

/** Where Linux distributions install jemalloc's shared library (Debian and Ubuntu first). */
export const JEMALLOC_PATHS: readonly string[] = Object.freeze([
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
])

/**
 * jemalloc's settings: two arenas (as `MALLOC_ARENA_MAX` for glibc), freed pages given back after a
 * second by jemalloc's own thread, also when the node has gone quiet and allocates nothing. And no
 * arena of its own for allocations of 8 MiB and more (`oversize_threshold:0`): that arena gives their
 * pages back at once, so each large PUT faulted its buffers in afresh (64 MiB PUTs took 8-18% more
 * CPU than on glibc, 1 MiB PUTs 8-10%; with it, the same as glibc in alternating runs).
 */
export const JEMALLOC_CONF =
  'narenas:2,background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0,oversize_threshold:0'

/** The allocator variables a node runs with: glibc's, and jemalloc's when `jemalloc` names its library. */
export function nodeMallocEnv(jemalloc: string | undefined): Record<string, string> {
  return jemalloc === undefined
    ? { ...NODE_MALLOC_ENV }
    : { ...NODE_MALLOC_ENV, LD_PRELOAD: jemalloc, MALLOC_CONF: JEMALLOC_CONF }
}

const SERVER_COMMANDS = new Set(['start', 'join'])

/** The first of `JEMALLOC_PATHS` that exists, or `undefined`. */
export function findJemalloc(exists: (path: string) => boolean = existsSync): string | undefined {
  if (process.platform !== 'linux') return undefined
  return JEMALLOC_PATHS.find((path) => exists(path))
}

/** How to start this process again (for `execve`): its arguments and environment. */
export interface Relaunch {
  readonly args: string[]
  readonly env: Record<string, string | undefined>
}

/** The flag's name as V8 reads it: `--no-x_y=1` is `x-y`. */
function flagName(arg: string): string {
  return (arg.replace(/^--?(no-)?/, '').split('=')[0] ?? '').replaceAll('_', '-')
}

/**
 * How to start this process again with the node's memory settings, or `undefined` when it needs
 * none: not a command that runs a node, or every setting chosen already (each V8 flag on the command
 * line of Node or in `NODE_OPTIONS`, in any spelling, also turned off; each allocator variable in the
 * environment, even empty). `jemalloc`: the path of jemalloc's library, when there is one.
 */
export function serverRelaunch(
  execPath: string,
  execArgv: readonly string[],
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  jemalloc?: string,
): Relaunch | undefined {
  // The command comes first (the program has no options of its own).
  const command = argv[2]
  if (command === undefined || !SERVER_COMMANDS.has(command)) return undefined
  const given = new Set([...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].map(flagName))
  const flags = NODE_V8_FLAGS.filter(({ name }) => !given.has(name)).map(({ arg }) => arg)
  const missing = Object.entries(nodeMallocEnv(jemalloc)).filter(([name]) => env[name] === undefined)
  if (flags.length === 0 && missing.length === 0) return undefined
  return {
    args: [execPath, ...flags, ...execArgv, ...argv.slice(1)],
    env: { ...env, ...Object.fromEntries(missing) },
  }
}
