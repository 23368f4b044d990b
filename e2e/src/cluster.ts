/**
 * Starts real `aruna` processes on loopback for end-to-end scenarios and always stops them: each
 * process's pid is written under the run's state directory, so the runner (run.mjs) can kill whatever
 * a crashed or interrupted test left behind.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
export const ARUNA_CLI = resolve(here, '../../apps/aruna/dist/cli.js')

/** Where the runner collects pid files; a fresh folder when tests run without the runner. */
const pidDir = process.env.E2E_PID_DIR ?? join(tmpdir(), `aruna-e2e-pids-${process.pid}`)

export interface NodeProcess {
  readonly name: string
  readonly restUrl: string
  readonly dataDir: string
  readonly child: ChildProcess
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string
  /** Sends SIGTERM and resolves with the exit code, or kills it after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>
}

const running = new Set<ChildProcess>()

function killAll(): void {
  for (const child of running) child.kill('SIGKILL')
}
process.once('exit', killAll)

export interface StartOptions {
  readonly name?: string
  readonly args?: readonly string[]
  readonly env?: NodeJS.ProcessEnv
  /** How long to wait for the node to report its REST URL. */
  readonly startTimeoutMs?: number
}

/** Starts one node with its own temp data directory on free loopback ports and waits until it is up. */
export async function startNode(options: StartOptions = {}): Promise<NodeProcess> {
  const name = options.name ?? 'node'
  const dataDir = await mkdtemp(join(tmpdir(), `aruna-e2e-${name}-`))
  await mkdir(pidDir, { recursive: true })
  const args = ['start', '--port', '0', '--s3-port', '0', '--data-dir', dataDir, '--log-format', 'json']
  const child = spawn(process.execPath, [ARUNA_CLI, ...args, ...(options.args ?? [])], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  if (child.pid) await writeFile(join(pidDir, String(child.pid)), name)
  let out = ''
  child.stdout?.on('data', (d) => {
    out += d.toString()
  })
  child.stderr?.on('data', (d) => {
    out += d.toString()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => {
      running.delete(child)
      if (child.pid) void rm(join(pidDir, String(child.pid)), { force: true })
      r({ code, signal })
    }),
  )

  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000)
  let restUrl: string | undefined
  while (!restUrl) {
    restUrl = /"rest":"(http:\/\/[^"]+)"/.exec(out)?.[1]
    if (restUrl) break
    if (child.exitCode !== null)
      throw new Error(`${name} exited with ${child.exitCode} before starting:\n${out}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${name} did not start within the time limit:\n${out}`)
    }
    await new Promise((r) => setTimeout(r, 25))
  }

  return {
    name,
    restUrl,
    dataDir,
    child,
    output: () => out,
    async stop(timeoutMs = 10_000) {
      const t0 = Date.now()
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      const result = await exited
      clearTimeout(timer)
      await rm(dataDir, { recursive: true, force: true })
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
