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
export const ARUNA_CLI = resolve(here, '../../apps/aruna/dist/cli.js')

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
}

interface StartInfo {
  rest?: string
  s3?: string
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
    if (typeof entry.rest === 'string') info.rest = entry.rest
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
  const devLogin = options.devLogin ?? true
  await mkdir(pidDir, { recursive: true })
  const args = ['start', '--port', '0', '--s3-port', '0', '--data-dir', dataDir, '--log-format', 'json']
  const child = spawn(process.execPath, [ARUNA_CLI, ...args, ...(options.args ?? [])], {
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

  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000)
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

  const { rest: restUrl, s3: s3Url, credentials } = info
  if (!restUrl || !s3Url) throw new Error(`${name} reported no REST or S3 URL:\n${out}`)
  return {
    name,
    restUrl,
    s3Url,
    credentials,
    dataDir,
    pid: child.pid ?? -1,
    child,
    output: () => out,
    async stop(timeoutMs = 10_000, stopOptions = {}) {
      const t0 = Date.now()
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
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

/** Runs the CLI once to completion and returns its exit code and output. */
export function runAruna(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveRun) => {
    const child = spawn(process.execPath, [ARUNA_CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    running.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d) => {
      stderr += d.toString()
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      running.delete(child)
      resolveRun({ code, stdout, stderr })
    })
  })
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
