/**
 * Finding the S3 command-line tools on this machine and running them with bounded time. A tool that
 * is missing is an error with a clear message, never a skipped test.
 */
import { spawn } from 'node:child_process'
import { access, constants } from 'node:fs/promises'
import { delimiter, join } from 'node:path'

export interface RunResult {
  readonly command: string
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: Buffer
  readonly stderr: string
  readonly ms: number
  readonly timedOut: boolean
}

export interface RunOptions {
  readonly env: NodeJS.ProcessEnv
  readonly timeoutMs: number
  readonly cwd?: string
  readonly input?: string
}

/** A shell-like rendering of a command line, for error messages. */
export function renderCommand(cmd: string, args: readonly string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)
  return [cmd, ...args].map(quote).join(' ')
}

/** Runs a command to completion (or kills it at the time limit); never throws for a non-zero exit. */
export function run(cmd: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const command = renderCommand(cmd, args)
  return new Promise((resolve, reject) => {
    const t0 = Date.now()
    const child = spawn(cmd, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    let err = ''
    let timedOut = false
    child.stdout?.on('data', (d: Buffer) => out.push(d))
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (d: string) => {
      // Debug dumps can be long: keep the head and the tail.
      err = err.length > 4_000_000 ? `${err.slice(0, 1_000_000)}\n…\n${err.slice(-1_000_000)}${d}` : err + d
    })
    if (options.input !== undefined) child.stdin?.end(options.input)
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, options.timeoutMs)
    child.once('error', (e) => {
      clearTimeout(timer)
      reject(new Error(`cannot run ${command}: ${e.message}`))
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        command,
        code,
        signal,
        stdout: Buffer.concat(out),
        stderr: err,
        ms: Date.now() - t0,
        timedOut,
      })
    })
  })
}

export class CommandError extends Error {
  override readonly name = 'CommandError'
  constructor(readonly result: RunResult) {
    const why = result.timedOut ? 'timed out and was killed' : `exited with ${result.code ?? result.signal}`
    const tail = (s: string) => (s.length > 6000 ? `…${s.slice(-6000)}` : s)
    super(
      `${result.command}\n  ${why} after ${result.ms} ms\n  stderr: ${tail(result.stderr.trim()) || '(empty)'}\n  stdout: ${
        tail(result.stdout.toString('utf8').trim()) || '(empty)'
      }`,
    )
  }
}

/** Runs a command and throws a `CommandError` (command, exit code, output) unless it exits 0. */
export async function runOk(cmd: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const result = await run(cmd, args, options)
  if (result.code !== 0 || result.timedOut) throw new CommandError(result)
  return result
}

export class MissingToolError extends Error {
  override readonly name = 'MissingToolError'
}

export interface Tool {
  readonly name: string
  readonly path: string
  readonly version: string
}

/** Every executable named `name` on PATH, in PATH order. */
async function candidates(name: string): Promise<string[]> {
  const found: string[] = []
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const path = join(dir, name)
    try {
      await access(path, constants.X_OK)
      if (!found.includes(path)) found.push(path)
    } catch {
      // not here
    }
  }
  return found
}

interface ToolSpec {
  /** The executable's name on PATH. */
  readonly name: string
  /** Arguments that print the version (run with the machine's environment). */
  readonly versionArgs: readonly string[]
  /** How to install it, for the error message. */
  readonly install: string
  /** Whether a candidate is usable; default: it printed a version and exited 0. */
  readonly accept?: (output: string) => boolean
  /** Among usable candidates, the preferred ones (e.g. a major version); default: the first. */
  readonly prefer?: (output: string) => boolean
  /** The path to run, from the version output (e.g. a Python interpreter behind a pyenv shim). */
  readonly pathFrom?: (output: string, candidate: string) => string
}

const resolved = new Map<string, Promise<Tool>>()

async function resolveUncached(spec: ToolSpec): Promise<Tool> {
  const paths = await candidates(spec.name)
  const usable: Tool[] = []
  const refused: string[] = []
  for (const path of paths) {
    const result = await run(path, spec.versionArgs, { env: process.env, timeoutMs: 30_000 }).catch(
      (e: Error) => e,
    )
    if (result instanceof Error) {
      refused.push(`${path}: ${result.message}`)
      continue
    }
    const output = `${result.stdout.toString('utf8')}${result.stderr}`.trim()
    if (result.code === 0 && (spec.accept?.(output) ?? true)) {
      usable.push({ name: spec.name, path: spec.pathFrom?.(output, path) ?? path, version: output })
    } else refused.push(`${path}: ${output.split('\n').slice(-2).join(' ') || `exit ${result.code}`}`)
  }
  const chosen = usable.find((t) => spec.prefer?.(t.version) ?? true) ?? usable[0]
  if (!chosen) {
    const tried = refused.length > 0 ? `; tried ${refused.join('; ')}` : ''
    throw new MissingToolError(
      `S3 client tool "${spec.name}" is missing: no usable ${spec.name} on PATH (${process.env.PATH})${tried}. ` +
        `Install it (${spec.install}); the S3 client matrix does not skip missing clients.`,
    )
  }
  return chosen
}

export function resolveTool(spec: ToolSpec): Promise<Tool> {
  let found = resolved.get(spec.name)
  if (!found) {
    found = resolveUncached(spec)
    resolved.set(spec.name, found)
  }
  return found
}

export const TOOLS = {
  s3cmd: { name: 's3cmd', versionArgs: ['--version'], install: 'Debian package s3cmd' },
  aws: {
    name: 'aws',
    versionArgs: ['--version'],
    install: 'Debian package awscli (aws-cli v2)',
    accept: (out: string) => /aws-cli\/\d/.test(out),
    prefer: (out: string) => /aws-cli\/2\./.test(out),
  },
  rclone: { name: 'rclone', versionArgs: ['version'], install: 'Debian package rclone' },
  python3: {
    name: 'python3',
    versionArgs: [
      '-c',
      'import sys, boto3, botocore; print(sys.executable, boto3.__version__, botocore.__version__)',
    ],
    install: 'python3 with boto3: Debian package python3-boto3 or pip install boto3',
    pathFrom: (out: string) => out.split(/\s+/)[0] ?? 'python3',
  },
} satisfies Record<string, ToolSpec>

export type ToolName = keyof typeof TOOLS

export function tool(name: ToolName): Promise<Tool> {
  return resolveTool(TOOLS[name])
}
