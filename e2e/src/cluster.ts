/**
 * Starts real `aruna` processes on loopback for end-to-end scenarios and always stops them: each
 * process's pid is written under the run's state directory, so the runner (run.mjs) can kill whatever
 * a crashed or interrupted test left behind.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
/** The node under test: this checkout's build, or `E2E_ARUNA_CLI` (e.g. a build of a clean worktree). */
export const ARUNA_CLI = process.env.E2E_ARUNA_CLI ?? resolve(here, '../../apps/aruna/dist/cli.js')

/** Where the runner collects pid files; a fresh folder when tests run without the runner. */
const pidDir = process.env.E2E_PID_DIR ?? join(tmpdir(), `aruna-e2e-pids-${process.pid}`)

/** The S3 access key the node's development login prints at start. */
export interface S3Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
}

export interface ProcessExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly ms: number
}

export interface NodeProcess {
  readonly name: string
  readonly restUrl: string
  /** The S3 API's base URL (`http://127.0.0.1:<port>`), parsed from the start log line. */
  readonly s3Url: string
  /** The development login's S3 access key, parsed from the log (absent when the login is off). */
  readonly credentials: S3Credentials | undefined
  /** The node's id (libp2p peer id), the `node` field of the start log line. */
  readonly nodeId: string | undefined
  /** The libp2p addresses the node reported at start (`p2p`). */
  readonly p2p: readonly string[]
  readonly dataDir: string
  readonly pid: number
  readonly child: ChildProcess
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string
  /**
   * Sends SIGTERM and resolves with the exit code, or kills it after `timeoutMs`. Removes the data
   * directory afterwards unless `keepDataDir` is set.
   */
  stop(timeoutMs?: number, options?: { keepDataDir?: boolean }): Promise<ProcessExit>
  /** Kills the process with `signal` (default SIGKILL: a crash) and waits for it; keeps the data directory. */
  kill(signal?: NodeJS.Signals): Promise<ProcessExit>
}

const running = new Set<ChildProcess>()

function killAll(): void {
  for (const child of running) child.kill('SIGKILL')
}

/** Forgets an exited process's pid file; without the runner, the folder (this process's own) once empty. */
async function forgetPid(pid: number | undefined): Promise<void> {
  if (pid) await rm(join(pidDir, String(pid)), { force: true })
  if (!process.env.E2E_PID_DIR && running.size === 0) await rmdir(pidDir).catch(() => {})
}
process.once('exit', killAll)

export interface StartOptions {
  readonly name?: string
  readonly args?: readonly string[]
  readonly env?: NodeJS.ProcessEnv
  /** How long to wait for the node to report its REST URL. */
  readonly startTimeoutMs?: number
  /** Start on this existing data directory (a restart) instead of a fresh temp one. */
  readonly dataDir?: string
  /** Wait for the development login line and parse its credentials (default true). */
  readonly devLogin?: boolean
  /** A command the node runs under, e.g. `['ip', 'netns', 'exec', 'ns1']` (it must exec the node in place). */
  readonly prefix?: readonly string[]
}

export interface JoinOptions extends Omit<StartOptions, 'devLogin'> {
  /** The invite line `aruna invite` printed on a node of the realm. */
  readonly invite: string
}

interface StartInfo {
  rest?: string
  s3?: string
  nodeId?: string
  p2p?: string[]
  credentials?: S3Credentials
}

/** Reads the JSON log lines written so far for the URLs and the development login. */
function parseStartLog(out: string): StartInfo {
  const info: StartInfo = {}
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue
    let entry: Record<string, unknown>
    try {
      entry = JSON.parse(line) as Record<string, unknown>
    } catch {
      continue // a line still being written
    }
    if (typeof entry.rest === 'string') {
      info.rest = entry.rest
      if (typeof entry.node === 'string') info.nodeId = entry.node
      if (Array.isArray(entry.p2p)) info.p2p = entry.p2p.filter((a): a is string => typeof a === 'string')
    }
    if (typeof entry.s3 === 'string') info.s3 = entry.s3
    if (typeof entry.accessKeyId === 'string' && typeof entry.secretAccessKey === 'string')
      info.credentials = { accessKeyId: entry.accessKeyId, secretAccessKey: entry.secretAccessKey }
  }
  return info
}

/** Starts one node with its own temp data directory on free loopback ports and waits until it is up. */
export async function startNode(options: StartOptions = {}): Promise<NodeProcess> {
  const name = options.name ?? 'node'
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), `aruna-e2e-${name}-`)))
  return launch(name, dataDir, ['start'], options, options.devLogin ?? true, 15_000)
}

/**
 * Joins a realm with `aruna join <invite>` on a fresh temp data directory (or `dataDir`), and waits until
 * the node runs (its REST/S3 log line; a joined node has no development login). Progress and a refusal
 * are in `output()`: a join that exits before starting throws with its output.
 */
export async function joinNode(options: JoinOptions): Promise<NodeProcess> {
  const name = options.name ?? 'joined'
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), `aruna-e2e-${name}-`)))
  return launch(name, dataDir, ['join', options.invite], options, false, 30_000)
}

async function launch(
  name: string,
  dataDir: string,
  command: readonly string[],
  options: Omit<StartOptions, 'devLogin' | 'dataDir' | 'name'>,
  devLogin: boolean,
  defaultTimeoutMs: number,
): Promise<NodeProcess> {
  await mkdir(pidDir, { recursive: true })
  const args = [...command, '--port', '0', '--s3-port', '0', '--data-dir', dataDir, '--log-format', 'json']
  const [command0, ...prefixArgs] = [...(options.prefix ?? []), process.execPath]
  const child = spawn(command0 as string, [...prefixArgs, ARUNA_CLI, ...args, ...(options.args ?? [])], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  if (child.pid) await writeFile(join(pidDir, String(child.pid)), name)
  let out = ''
  child.stdout?.setEncoding('utf8')
  child.stderr?.setEncoding('utf8')
  child.stdout?.on('data', (d) => {
    out += d.toString()
  })
  child.stderr?.on('data', (d) => {
    out += d.toString()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => {
      running.delete(child)
      void forgetPid(child.pid)
      r({ code, signal })
    }),
  )

  const deadline = Date.now() + (options.startTimeoutMs ?? defaultTimeoutMs)
  let info: StartInfo = {}
  for (;;) {
    info = parseStartLog(out)
    if (info.rest && info.s3 && (info.credentials || !devLogin)) break
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${name} exited with ${child.exitCode ?? child.signalCode} before starting:\n${out}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${name} did not start within the time limit:\n${out}`)
    }
    await new Promise((r) => setTimeout(r, 25))
  }

  const { rest: restUrl, s3: s3Url, credentials, nodeId, p2p = [] } = info
  if (!restUrl || !s3Url) throw new Error(`${name} reported no REST or S3 URL:\n${out}`)
  return {
    name,
    restUrl,
    s3Url,
    credentials,
    nodeId,
    p2p,
    dataDir,
    pid: child.pid ?? -1,
    child,
    output: () => out,
    async stop(timeoutMs = 10_000, stopOptions = {}) {
      const t0 = Date.now()
      // A process already sent a signal (e.g. SIGINT by a test) is only waited for: a second signal
      // makes the CLI give up its graceful stop (exit 130).
      if (child.exitCode === null && child.signalCode === null && !child.killed) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      const result = await exited
      clearTimeout(timer)
      if (!stopOptions.keepDataDir) await rm(dataDir, { recursive: true, force: true })
      return { ...result, ms: Date.now() - t0 }
    },
    async kill(signal = 'SIGKILL') {
      const t0 = Date.now()
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      const result = await exited
      return { ...result, ms: Date.now() - t0 }
    },
  }
}

/** Polls `url` until it answers 200 or the bounded wait ends. */
export async function waitForHealth(url: string, timeoutMs = 10_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })
      if (res.status === 200) return res
      last = `status ${res.status}`
    } catch (err) {
      last = err
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`no healthy answer from ${url} within ${timeoutMs} ms (last: ${String(last)})`)
}

export interface CliRun {
  /** The command line, for messages (`aruna invite --data-dir …`). */
  readonly command: string
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
  /** It ran past `timeoutMs` and was killed. */
  readonly timedOut: boolean
}

export interface CliOptions {
  /** Killed (SIGKILL) after this long; default 30 s. */
  readonly timeoutMs?: number
  /** Added to the minimal environment (`PATH`, `HOME`). */
  readonly env?: NodeJS.ProcessEnv
  /** Called with each piece of stdout as it arrives (e.g. to act on a prompt while the command waits). */
  readonly onStdout?: (chunk: string) => void
  /** A command the CLI runs under, e.g. `['ip', 'netns', 'exec', 'ns1']`. */
  readonly prefix?: readonly string[]
}

/**
 * Runs the CLI once to completion (or kills it at the time limit) and returns its exit code and output.
 * Its pid is recorded like a node's, so a hung command is reaped by the runner too.
 */
export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  await mkdir(pidDir, { recursive: true })
  const command = ['aruna', ...args].map((a) => (a.length > 80 ? `${a.slice(0, 40)}…` : a)).join(' ')
  const t0 = Date.now()
  const [command0, ...prefixArgs] = [...(options.prefix ?? []), process.execPath]
  const child = spawn(command0 as string, [...prefixArgs, ARUNA_CLI, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  if (child.pid) await writeFile(join(pidDir, String(child.pid)), command)
  let stdout = ''
  let stderr = ''
  let timedOut = false
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stdout.on('data', (d: string) => {
    stdout += d
    options.onStdout?.(d)
  })
  child.stderr.on('data', (d: string) => {
    stderr += d
  })
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, options.timeoutMs ?? 30_000)
  return new Promise<CliRun>((resolveRun, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer)
      running.delete(child)
      void forgetPid(child.pid)
      reject(new Error(`cannot run ${command}: ${err.message}`))
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      running.delete(child)
      void forgetPid(child.pid)
      resolveRun({ command, code, signal, stdout, stderr, ms: Date.now() - t0, timedOut })
    })
  })
}

/** How a CLI run ended, with its output, for assertion messages. */
export function describeRun(run: CliRun): string {
  const how = run.timedOut ? 'timed out and was killed' : `exited with ${run.code ?? run.signal}`
  return `${run.command}: ${how} after ${run.ms} ms\n  stderr: ${run.stderr.trim() || '(empty)'}\n  stdout: ${
    run.stdout.trim() || '(empty)'
  }`
}

/** Runs the CLI with `--json` expected to succeed and parses its output; throws with the run otherwise. */
export async function runCliJson<T>(args: readonly string[], options: CliOptions = {}): Promise<T> {
  const run = await runCli(args, options)
  if (run.code !== 0 || run.timedOut) throw new Error(describeRun(run))
  try {
    return JSON.parse(run.stdout) as T
  } catch {
    throw new Error(`${describeRun(run)}\n  (stdout is not JSON)`)
  }
}

/** Runs the CLI once to completion and returns its exit code and output (30 s limit). */
export async function runAruna(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const { code, stdout, stderr } = await runCli(args, { env })
  return { code, stdout, stderr }
}

/**
 * Calls `probe` until it returns a value other than `undefined`, every `intervalMs`, for at most
 * `timeoutMs`; then throws naming `what` and the last value or error `describe` gives. No fixed sleeps.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; describe?: () => string },
): Promise<{ value: T; ms: number }> {
  const t0 = Date.now()
  const deadline = t0 + options.timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return { value, ms: Date.now() - t0 }
    } catch (err) {
      last = err
    }
    if (Date.now() >= deadline) {
      const detail = options.describe?.() ?? (last instanceof Error ? last.message : String(last ?? ''))
      throw new Error(`${what}: not within ${options.timeoutMs} ms${detail ? `\n${detail}` : ''}`)
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 250))
  }
}

/** A process's memory from `/proc/<pid>/status`, in bytes: `VmHWM` is the peak resident set so far. */
export interface ProcessMemory {
  readonly rss: number
  readonly peakRss: number
}

export async function memoryOf(pid: number): Promise<ProcessMemory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string) => {
    const value = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]
    if (value === undefined) throw new Error(`/proc/${pid}/status has no ${field}`)
    return Number(value) * 1024
  }
  return { rss: kib('VmRSS'), peakRss: kib('VmHWM') }
}
