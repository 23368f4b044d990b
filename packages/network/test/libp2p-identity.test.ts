import { once } from 'node:events'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createLibp2pNetwork,
  type Libp2pNetwork,
  type LogEntry,
  loadOrCreatePeerKey,
  peerIdOf,
} from '../src/index.js'
import { ECHO, echoHandler, expectNetworkError, nextEvent } from '../src/testing/index.js'
import { createTestNode, TEST_NODE_SETTINGS } from '../src/testing/libp2p-cluster.js'
import { createTestRealm } from '../src/testing/realm.js'

let dirs: string[] = []
let nodes: Libp2pNetwork[] = []

afterEach(async () => {
  await Promise.all(nodes.map((node) => node.stop()))
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })))
  nodes = []
  dirs = []
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aruna-peer-key-'))
  dirs.push(dir)
  return dir
}

describe('loadOrCreatePeerKey', () => {
  it('creates an Ed25519 key readable by its owner only, and loads the same key afterwards', async () => {
    const path = join(await tempDir(), 'nested', 'peer.key')
    const created = await loadOrCreatePeerKey(path)
    expect(created.type).toBe('Ed25519')
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const loaded = await loadOrCreatePeerKey(path)
    expect(peerIdOf(loaded)).toBe(peerIdOf(created))
    expect(Buffer.from(loaded.raw).equals(Buffer.from(created.raw))).toBe(true)
  })

  it('gives processes racing to create the key one and the same identity', async () => {
    const path = join(await tempDir(), 'peer.key')
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreatePeerKey(path)))
    expect(new Set(keys.map(peerIdOf)).size).toBe(1)
    expect(peerIdOf(await loadOrCreatePeerKey(path))).toBe(peerIdOf(keys[0] ?? keys[1]!))
  })

  it('refuses a file that does not hold a key instead of replacing the identity', async () => {
    const path = join(await tempDir(), 'peer.key')
    await writeFile(path, 'not a key', { mode: 0o600 })
    await expectNetworkError(loadOrCreatePeerKey(path), 'InvalidArgument')
    expect(await readFile(path, 'utf8')).toBe('not a key')
    await expectNetworkError(loadOrCreatePeerKey(join(path, 'below-a-file')), 'InvalidArgument')
  })

  it('keeps a node peer id across a process restart through its key file', async () => {
    const realm = createTestRealm()
    const path = join(await tempDir(), 'peer.key')
    const first = await createTestNode(realm, {
      privateKey: await loadOrCreatePeerKey(path),
      transports: ['tcp'],
    })
    nodes.push(first)
    await first.start()
    const addresses = first.multiaddrs
    await first.stop()
    // A new process: a new Libp2pNetwork object, the key loaded from disk.
    const again = await createTestNode(realm, {
      privateKey: await loadOrCreatePeerKey(path),
      transports: ['tcp'],
    })
    nodes.push(again)
    expect(again.peerId).toBe(first.peerId)
    await again.start()
    const peer = await createTestNode(realm, { transports: ['tcp'], bootstrap: again.multiaddrs })
    nodes.push(peer)
    again.handle(ECHO, echoHandler())
    const joined = nextEvent(again, 'peer:join', peer.peerId)
    await peer.start()
    await joined
    expect(
      (await peer.request(first.peerId, ECHO, { kind: 'echo', text: 'same node', body: new Uint8Array(0) }))
        .text,
    ).toBe('same node')
    expect(addresses.every((address) => address.endsWith(`/p2p/${first.peerId}`))).toBe(true)
  })
})

describe('createLibp2pNetwork', () => {
  const realm = createTestRealm()
  const credentials = realm.credentialsFor('any')

  it('refuses bad settings with InvalidArgument', async () => {
    const bad = [
      { credentials: { ...credentials, realmId: 'has/slash' } },
      { credentials: { realmId: 'x' } as never },
      { credentials, transports: [] },
      { credentials, transports: ['udp' as never] },
      { credentials, listen: ['not a multiaddr'] },
      { credentials, bootstrap: ['/ip4/127.0.0.1/tcp/1'] },
      { credentials, livenessTimeoutMs: 0 },
      { credentials, streamWindowBytes: Number.NaN },
    ]
    for (const init of bad) await expectNetworkError(createLibp2pNetwork(init), 'InvalidArgument')
  })

  it('listens afresh when the ports of its previous run are taken', async () => {
    const log: LogEntry[] = []
    const node = await createTestNode(createTestRealm(), {
      transports: ['tcp'],
      log: (entry) => log.push(entry),
    })
    nodes.push(node)
    await node.start()
    const port = Number(node.multiaddrs[0]?.split('/')[4])
    await node.stop()
    const squatter = createServer()
    squatter.listen(port, '127.0.0.1')
    await once(squatter, 'listening')
    try {
      await node.start()
      expect(Number(node.multiaddrs[0]?.split('/')[4])).not.toBe(port)
      expect(log).toContainEqual(expect.objectContaining({ event: 'ports-changed' }))
    } finally {
      squatter.close()
    }
  })

  it('fails to start with InvalidArgument when it cannot listen, and does nothing before start', async () => {
    const node = await createLibp2pNetwork({
      ...TEST_NODE_SETTINGS,
      credentials,
      listen: ['/ip4/192.0.2.1/tcp/4001'],
      transports: ['tcp'],
    })
    nodes.push(node)
    expect(node.peers()).toEqual([])
    expect(node.multiaddrs).toEqual([])
    expect(node.libp2p).toBeUndefined()
    await expectNetworkError(node.provide('x'), 'NotStarted')
    await expectNetworkError(node.start(), 'InvalidArgument')
    await node.stop()
  })
})
