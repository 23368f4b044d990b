/**
 * The `aruna` process. A command that runs a node first starts the process again with the node's memory
 * settings (`server-heap.ts`); then the CLI (`cli-main.ts`) is loaded and run.
 */
import { serverRelaunch } from './server-heap.js'

const relaunch = serverRelaunch(process.execPath, process.execArgv, process.argv, process.env)
if (relaunch !== undefined && typeof process.execve === 'function') {
  try {
    process.execve(process.execPath, relaunch.args, relaunch.env)
  } catch (err) {
    // The node runs on Node's default memory settings rather than not at all.
    process.stderr.write(
      `aruna: could not restart with the node's memory settings (${String(err)}); going on\n`,
    )
  }
}
await import('./cli-main.js')
