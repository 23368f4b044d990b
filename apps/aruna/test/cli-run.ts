/** Running the command line in tests: captured output streams, and `aruna …` in this process. */
import { PassThrough } from 'node:stream'
import { runCli } from '../src/program.js'

/** A stream whose text so far is `text()`. */
export function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (d) => {
    text += d.toString()
  })
  return { stream, text: () => text }
}

/**
 * Runs `aruna …` and returns its exit code and output; `live` gets standard error's text so far while
 * the command runs (for commands that keep running, such as `meta watch`).
 */
export async function aruna(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
  live?: (err: () => string) => void,
): Promise<{ code: number; out: string; err: string }> {
  const out = capture()
  const err = capture()
  live?.(err.text)
  const code = await runCli([...argv], {
    stdout: out.stream,
    stderr: err.stream,
    env,
    stopSignal: new Promise(() => {}),
  })
  return { code, out: out.text(), err: err.text() }
}
