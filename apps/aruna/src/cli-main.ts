/** The `aruna` CLI, loaded by `cli.ts`: wires signals and exit codes to `runCli`. */
import { tolerateLmdbCommitFailures } from '@aruna/data'
import { runCli } from './program.js'

// A commit of the node's LMDB stores that fails (a full disk) is answered to its writers (503, with the
// cause); lmdb-js also leaves one promise of it unhandled, which must not end the node.
tolerateLmdbCommitFailures()

// automerge-repo's save throttle sometimes computes a negative delay; Node then warns
// (TimeoutNegativeWarning) on stderr, in the middle of JSON logs. It is harmless (the timer runs at
// once); every other warning is still printed as Node would.
process.removeAllListeners('warning')
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning')
    process.stderr.write(`(node) ${warning.name}: ${warning.message}\n`)
})

let signals = 0
const stopSignal = new Promise<string>((resolve) => {
  const onSignal = (signal: NodeJS.Signals) => {
    signals++
    if (signals > 1) process.exit(130) // a second Ctrl-C: stop waiting
    resolve(signal)
    // Whatever still holds the event loop after the graceful stop must not keep the process alive.
    setTimeout(() => process.exit(1), 5000).unref()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
})

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  stopSignal,
})
process.exit(code)
