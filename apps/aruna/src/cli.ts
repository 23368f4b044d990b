/**
 * The `aruna` process. A command that runs a node first starts the process again with the node's memory
 * settings (`server-heap.ts`); then the CLI (`cli-main.ts`) is loaded and run.
 */
import module from 'node:module'
import { findJemalloc, serverRelaunch } from './server-heap.js'

const relaunch = serverRelaunch(process.execPath, process.execArgv, process.argv, process.env, findJemalloc())
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
// V8's compiled code for the CLI's modules (some 1400) is kept on disk between runs: Node's compile
// cache, in `NODE_COMPILE_CACHE` or else `node-compile-cache` in the system's temp directory, checked
// against each module's source (`NODE_DISABLE_COMPILE_CACHE=1` turns it off). A node then starts about
// a tenth sooner; the first run on a machine fills it.
module.enableCompileCache?.()
await import('./cli-main.js')
