import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'

/**
 * Runs `script` (a writer of this directory, straight from `src/` under `--experimental-transform-types`)
 * with `args` until it has printed at least `acks` lines, then kills it with SIGKILL (no exit handlers,
 * no close) and returns the lines it printed: each one a write it saw acknowledged.
 */
export async function runUntilKilled(script: string, args: string[], acks: number): Promise<string[]> {
  const child = spawn(
    process.execPath,
    [
      '--experimental-transform-types',
      '--no-warnings',
      fileURLToPath(new URL(script, import.meta.url)),
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const acked: string[] = []
  let stderr = ''
  let buffered = ''
  child.stderr.on('data', (data: Buffer) => {
    stderr += data.toString()
  })
  const exited = new Promise<NodeJS.Signals | number | null>((done) => {
    child.on('exit', (code, signal) => done(signal ?? code))
  })
  await new Promise<void>((done, fail) => {
    child.stdout.on('data', (data: Buffer) => {
      buffered += data.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop()!
      acked.push(...lines)
      if (acked.length >= acks && child.kill('SIGKILL')) done()
    })
    child.on('exit', (code) => fail(new Error(`the writer exited (${code}) before it was killed: ${stderr}`)))
  })
  expect(await exited).toBe('SIGKILL')
  return acked
}
