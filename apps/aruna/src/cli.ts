/**
 * The `aruna` process. A command that runs a node first starts the process again with the node's heap
 * settings (`server-heap.ts`); then the CLI (`cli-main.ts`) is loaded and run.
 */
import { serverRelaunchArgs } from './server-heap.js'

const relaunch = serverRelaunchArgs(process.execPath, process.execArgv, process.argv, process.env)
if (relaunch !== undefined && typeof process.execve === 'function')
  process.execve(process.execPath, relaunch, process.env)
await import('./cli-main.js')
