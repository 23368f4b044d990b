// The S3 bench's processes: Aruna nodes (`aruna start` / `aruna join`, built dist), the baseline servers,
// CLI runs, their CPU time and memory from /proc, bounded waits, and stopping every one of them.
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Target } from './client.ts'

const here = dirname(fileURLToPath(import.meta.url))
export const ARUNA_BIN = join(here, '../../bin/aruna.js')
/** USER_HZ, the unit of /proc's CPU times: 100 on Linux. */
const CLOCK_TICKS = 100

/** A server under test: its entry points and bucket, and the processes that serve them. */
export interface Server extends Target {
  readonly name: string
  readonly processes: readonly ChildProcess[]
  readonly startMs: number
}

/** Every process this bench started, so that `stopAll` can end them whatever happened. */
const started = new Set<ChildProcess>()

/** Starts a child process and waits (bounded) for `ready` to find what it needs in its output lines. */
export async function launch<T>(
  name: string,
  args: string[],
  ready: (line: string, state: Partial<T>) => boolean,
  timeoutMs = 60_000,
  nodeArgs: string[] = [],
): Promise<{ child: ChildProcess; state: Partial<T>; ms: number }> {
  const t0 = performance.now()
  const child = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  started.add(child)
  child.once('exit', () => started.delete(child))
  // BENCH_S3_LOG_DIR keeps each process's whole output (its log) in `<name>.log` there.
  const logDir = process.env.BENCH_S3_LOG_DIR
  if (logDir !== undefined && logDir !== '') {
    const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' })
    child.stdout?.pipe(log)
    child.stderr?.pipe(log)
  }
  const state: Partial<T> = {}
  let output = ''
  let pending = ''
  return new Promise((resolve, reject) => {
    let done = false
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${name} did not start in time:\n${output.slice(-2000)}`))
    }, timeoutMs)
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000)
      // Whole lines only: a JSON log line may arrive in pieces.
      const lines = (pending + chunk.toString()).split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines)
        if (!done && line.trim() !== '' && ready(line, state)) {
          done = true
          clearTimeout(timer)
          // From here on the output is only drained (or kept in the log file): parsing every access
          // log line would take CPU from the client and the servers on a 2-core machine.
          child.stdout?.off('data', onData).resume()
          child.stderr?.off('data', onData).resume()
          resolve({ child, state, ms: performance.now() - t0 })
          return
        }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (!done) reject(new Error(`${name} exited (${code}):\n${output.slice(-2000)}`))
    })
  })
}

export function json(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>
  } catch {
    return undefined
  }
}

export interface ArunaNode {
  readonly name: string
  readonly process: ChildProcess
  readonly s3: string
  readonly rest: string
  readonly dataDir: string
  /** The development login's S3 key (absent on a node that joined a realm). */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string }
  /** Process spawn to its S3 API ready, ms. */
  readonly startMs: number
}

/**
 * Runs `aruna start` (a new realm on a fresh data directory, or the node again on an existing one) or
 * `aruna join <invite>`, on free loopback ports, and waits until its S3 API is up (and, for `start`, the
 * development login printed its key).
 */
export async function startArunaNode(options: {
  name: string
  dataDir: string
  invite?: string
  /** Wait for the development login's key (default: unless joining; a joined node never prints one). */
  devLogin?: boolean
  nodeArgs?: string[]
  timeoutMs?: number
  /** The CLI to run (default this checkout's `bin/aruna.js`): another build's, to compare two builds. */
  bin?: string
}): Promise<ArunaNode> {
  const command = options.invite === undefined ? ['start'] : ['join', options.invite]
  const devLogin = options.devLogin ?? options.invite === undefined
  const { child, state, ms } = await launch<{ s3: string; rest: string; key: string; secret: string }>(
    options.name,
    [
      options.bin ?? ARUNA_BIN,
      ...command,
      '--data-dir',
      options.dataDir,
      '--port',
      '0',
      '--s3-port',
      '0',
      '--log-format',
      'json',
      '--log-level',
      process.env.BENCH_S3_LOG_LEVEL ?? 'info',
    ],
    (line, s) => {
      const entry = json(line)
      if (typeof entry?.accessKeyId === 'string') {
        s.key = entry.accessKeyId
        s.secret = String(entry.secretAccessKey)
      }
      if (typeof entry?.s3 === 'string') s.s3 = entry.s3
      if (typeof entry?.rest === 'string') s.rest = entry.rest
      return (s.key !== undefined || !devLogin) && s.s3 !== undefined && s.rest !== undefined
    },
    options.timeoutMs ?? 60_000,
    options.nodeArgs ?? [],
  )
  return {
    name: options.name,
    process: child,
    s3: state.s3 as string,
    rest: state.rest as string,
    dataDir: options.dataDir,
    ...(state.key === undefined
      ? {}
      : { credentials: { accessKeyId: state.key, secretAccessKey: state.secret as string } }),
    startMs: ms,
  }
}

/** A baseline server script of bench/s3 (it prints `{"port": n}`), with its data under `dir`. */
export async function startPlain(
  name: string,
  script: string,
  dir: string,
  bucket: string,
  credentials?: Server['credentials'],
): Promise<Server> {
  const { child, state, ms } = await launch<{ port: number }>(name, [join(here, script), dir], (line, s) => {
    const port = json(line)?.port
    if (typeof port === 'number') s.port = port
    return s.port !== undefined
  })
  return {
    name,
    bases: [`http://127.0.0.1:${state.port}`],
    bucket,
    ...(credentials === undefined ? {} : { credentials }),
    processes: [child],
    startMs: ms,
  }
}

/** Runs the CLI to completion (killed after `timeoutMs`); throws unless it exits 0. Returns its stdout. */
export async function runCli(args: string[], timeoutMs = 60_000): Promise<string> {
  const child = spawn(process.execPath, [ARUNA_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  started.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  clearTimeout(timer)
  started.delete(child)
  if (code !== 0) throw new Error(`aruna ${args[0]} exited with ${code}: ${stderr.trim()} ${stdout.trim()}`)
  return stdout
}

/** Polls `probe` until it returns something other than `undefined`; throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (err) {
      last = err
    }
    if (Date.now() >= deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms${last === undefined ? '' : ` (${String(last)})`}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** A process's CPU time so far (user + system, ms), from /proc/<pid>/stat; 0 where there is none. */
export function cpuMs(pid: number | undefined): Promise<number> {
  return readFile(`/proc/${pid}/stat`, 'utf8')
    .then((text) => {
      // Fields after the command name (which may hold spaces), from field 3 on: utime and stime are 14, 15.
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS
    })
    .catch(() => 0)
}

/** The CPU time of every process of a server (a realm's nodes together). */
export async function serverCpuMs(server: Server): Promise<number> {
  const each = await Promise.all(server.processes.map((p) => cpuMs(p.pid)))
  return each.reduce((sum, ms) => sum + ms, 0)
}

export function rssMiB(pid: number | undefined): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8')
    .then((text) => Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? 0) / 1024)
    .catch(() => 0)
}

/** SIGTERM, then SIGKILL for whichever has not exited after `graceMs`. */
export async function stop(processes: readonly ChildProcess[], graceMs: number): Promise<void> {
  const running = processes.filter((p) => p.exitCode === null && p.signalCode === null)
  const exited = running.map((p) => new Promise<void>((resolve) => p.once('exit', () => resolve())))
  for (const p of running) p.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    Promise.all(exited),
    new Promise((resolve) => {
      timer = setTimeout(resolve, graceMs)
    }),
  ])
  clearTimeout(timer)
  for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
}

/** Stops every process the bench started that still runs (the bench's `finally`). */
export function stopAll(graceMs: number): Promise<void> {
  return stop([...started], graceMs)
}
