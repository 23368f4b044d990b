import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseConfigText } from '../src/config.js'
import { NotListedError } from '../src/federation/realm-member.js'
import { createLogger } from '../src/logger.js'
import { ArunaNode } from '../src/node.js'
import { readRealmFile } from '../src/realm/realm-file.js'

const lines: string[] = []
const logger = createLogger({
  level: 'warn',
  format: 'json',
  destination: new Writable({
    write: (chunk, _e, cb) => {
      lines.push(chunk.toString())
      cb()
    },
  }),
})

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

describe('a node’s realm membership across restarts', () => {
  let dir: string
  const servers: Server[] = []
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aruna-member-'))
  })
  afterEach(async () => {
    for (const server of servers.splice(0)) server.close()
    await rm(dir, { recursive: true, force: true })
  })

  const config = () =>
    parseConfigText(
      JSON.stringify({ dataDir: dir, rest: { port: 0 }, s3: { port: 0 }, dev: { login: false } }),
    )

  it('listens on the addresses of its last run, and on new ports when those are taken', async () => {
    const first = new ArunaNode(config(), logger, { initIfMissing: { devLogin: false } })
    await first.start()
    const tcp = first.federation?.network.multiaddrs.find((a) => a.includes('/tcp/')) ?? ''
    const port = Number(/\/tcp\/(\d+)/.exec(tcp)?.[1])
    await until('the listen addresses are saved', async () =>
      ((await readRealmFile(dir))?.listen ?? []).some((a) => a.includes(`/tcp/${port}`)),
    )
    await first.stop()

    const again = new ArunaNode(config(), logger)
    await again.start()
    expect(again.federation?.network.multiaddrs.some((a) => a.includes(`/tcp/${port}/`))).toBe(true)
    await again.stop()

    const blocker = createServer()
    servers.push(blocker)
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve))
    const moved = new ArunaNode(config(), logger)
    await moved.start()
    expect(moved.federation?.network.multiaddrs.some((a) => a.includes(`/tcp/${port}/`))).toBe(false)
    expect(lines.some((line) => line.includes('previous p2p addresses are taken'))).toBe(true)
    await moved.stop()
  })

  it('will not start once its own node list no longer names it', async () => {
    const node = new ArunaNode(config(), logger, { initIfMissing: { devLogin: false }, loadTimeoutMs: 300 })
    await node.start()
    const id = node.nodeId ?? ''
    await node.federation?.store.removeNode(id)
    await node.stop()
    const removed = new ArunaNode(config(), logger, { loadTimeoutMs: 300 })
    const failure = await removed.start().then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(failure).toBeInstanceOf(NotListedError)
    expect(String((failure as Error).message)).toContain(`this node (${id}) is not in the realm's node list`)
  })
})
