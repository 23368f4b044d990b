import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { type NodeProcess, runAruna, startNode, waitForHealth } from '../src/cluster.js'

/** Where a node looks for jemalloc (apps/aruna/src/server-heap.ts, JEMALLOC_PATHS). */
const JEMALLOC_PATHS = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
]

describe('a single node', () => {
  let node: NodeProcess | undefined
  afterEach(async () => {
    await node?.stop()
    node = undefined
  })

  it('starts on embedded defaults, answers /health, and stops cleanly on SIGTERM within 5 s', async () => {
    node = await startNode()
    const res = await waitForHealth(node.restUrl)
    expect(await res.json()).toMatchObject({ status: 'ok', realm: 'default' })
    const status = await runAruna(['status', '--url', node.restUrl])
    expect(status.code).toBe(0)
    expect(status.stdout).toContain(': ok — node ')
    expect(status.stdout).toContain('of realm "default"')
    const stopped = await node.stop()
    expect(stopped.code).toBe(0)
    expect(stopped.ms).toBeLessThan(5000)
    expect(node.output()).toContain('"msg":"node stopped"')
    await expect(fetch(`${node.restUrl}/health`)).rejects.toThrow()
  })

  it('runs with the memory settings it starts itself with (one process, the same pid)', async () => {
    node = await startNode()
    await waitForHealth(node.restUrl)
    // \0-separated: the Node binary, its flags, then the script and the command.
    const commandLine = (await readFile(`/proc/${node.pid}/cmdline`, 'utf8')).split('\0')
    expect(commandLine).toContain('--max-semi-space-size=8')
    expect(commandLine).toContain('--external-memory-accounted-in-global-limit')
    expect(commandLine).toContain('--heap-growing-percent=30')
    expect(commandLine).toContain('start')
    // glibc's allocator setting, in the environment the process was started with.
    const environment = (await readFile(`/proc/${node.pid}/environ`, 'utf8')).split('\0')
    expect(environment).toContain('MALLOC_ARENA_MAX=2')
    // jemalloc where this machine has it (scripts/setup.sh installs it), loaded into the process.
    const jemalloc = JEMALLOC_PATHS.find((path) => existsSync(path))
    const maps = await readFile(`/proc/${node.pid}/maps`, 'utf8')
    if (jemalloc !== undefined) {
      expect(environment).toContain(`LD_PRELOAD=${jemalloc}`)
      expect(maps).toContain(jemalloc)
      // jemalloc names every setting of MALLOC_CONF it cannot use on standard error.
      expect(environment.some((entry) => entry.startsWith('MALLOC_CONF=narenas:2,'))).toBe(true)
      expect(node.output()).not.toContain('<jemalloc>')
    } else {
      expect(environment.some((entry) => entry.startsWith('LD_PRELOAD='))).toBe(false)
      expect(maps).not.toContain('libjemalloc')
    }
  })

  it("keeps glibc's allocator when started with LD_PRELOAD= (empty)", async () => {
    node = await startNode({ env: { LD_PRELOAD: '' } })
    await waitForHealth(node.restUrl)
    expect(await readFile(`/proc/${node.pid}/maps`, 'utf8')).not.toContain('libjemalloc')
    const environment = (await readFile(`/proc/${node.pid}/environ`, 'utf8')).split('\0')
    expect(environment).toContain('LD_PRELOAD=')
    expect(environment).toContain('MALLOC_ARENA_MAX=2')
  })

  it('gives back the memory its start-up used before it says it has started', async () => {
    node = await startNode({ args: ['--log-level', 'debug'] })
    await waitForHealth(node.restUrl)
    const lines = node
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string; rssBefore?: number; rssAfter?: number })
    const collected = lines.findIndex((l) => l.msg?.startsWith('memory given back on a quiet node') === true)
    const started = lines.findIndex((l) => / started \(/.test(l.msg ?? ''))
    expect(collected).toBeGreaterThanOrEqual(0)
    expect(collected).toBeLessThan(started)
    const { rssBefore, rssAfter } = lines[collected] ?? {}
    expect(rssAfter).toBeLessThan(rssBefore ?? 0)
  })

  it('stops cleanly on SIGINT as well', async () => {
    node = await startNode()
    await waitForHealth(node.restUrl)
    node.child.kill('SIGINT')
    const stopped = await node.stop()
    expect(stopped.code).toBe(0)
  })

  it('exits non-zero with one clear line for an invalid port', async () => {
    const run = await runAruna(['start', '--port', 'notanumber'])
    expect(run.code).toBe(2)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stderr).toContain('rest.port')
    expect(run.stdout).toBe('')
  })

  it('refuses a bad value from the environment, naming the variable', async () => {
    const run = await runAruna(['start'], { ARUNA_S3_PORT: '99999' })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('environment variable ARUNA_S3_PORT')
  })
})
