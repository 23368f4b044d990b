#!/usr/bin/env node
// Runs the e2e scenarios and then kills every aruna process they started and did not stop, also
// when the run fails or is interrupted (Ctrl-C): the harness leaves a pid file per process.
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const pidDir = mkdtempSync(join(tmpdir(), 'aruna-e2e-pids-'))
const vitest = spawn('vitest', ['run', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, E2E_PID_DIR: pidDir },
})

function reap() {
  let killed = 0
  for (const pid of readdirSync(pidDir)) {
    try {
      process.kill(Number(pid), 'SIGKILL')
      killed++
    } catch {
      // already gone
    }
  }
  rmSync(pidDir, { recursive: true, force: true })
  if (killed > 0) console.error(`e2e: killed ${killed} node process(es) left running`)
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    vitest.kill(signal)
  })
}
vitest.on('exit', (code, signal) => {
  reap()
  process.exit(code ?? (signal ? 1 : 0))
})
