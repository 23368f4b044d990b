import { Writable } from 'node:stream'
import type { HandlerContext, Libp2pNetwork } from '@aruna/network'
import type { AutomergeOrgaStore, OrgaService } from '@aruna/orga'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../src/logger.js'
import { Admission } from '../src/realm/admission.js'
import type { JoinRequest, JoinResponse } from '../src/realm/join-protocol.js'
import type { RealmFile } from '../src/realm/realm-file.js'

const logger = createLogger({
  level: 'silent',
  format: 'json',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
})

function admission(): (request: JoinRequest, peer: string) => Promise<JoinResponse> {
  let join: ((request: JoinRequest, context: HandlerContext) => Promise<JoinResponse>) | undefined
  const network = {
    handle: (protocol: { id: string }, handler: never) => {
      if (protocol.id === '/aruna/join/1.0.0') join = handler
    },
    peers: () => [],
    multiaddrs: [],
  } as unknown as Libp2pNetwork
  new Admission({
    network,
    store: { listNodes: async () => [] } as unknown as AutomergeOrgaStore,
    orga: { holdsRealmKey: false } as unknown as OrgaService,
    realm: { realmId: 'realm-a' } as RealmFile,
    accessKeyKey: new Uint8Array(32),
    logger,
  }).register()
  return (request, peer) => {
    if (!join) throw new Error('no join handler')
    return join(request, { peer, protocol: '/aruna/join/1.0.0', signal: new AbortController().signal })
  }
}

/** The refusal code of an answer (`joined` when it was not refused). */
const codeOf = (answer: JoinResponse) => (answer.kind === 'refused' ? answer.code : answer.kind)

const request = (realm: string): JoinRequest => ({
  kind: 'join',
  realm,
  secret: 's'.repeat(43),
  addresses: [],
})

describe('serving joins', () => {
  it('refuses an invite of another realm, and a server node with no management node in reach says so', async () => {
    const join = admission()
    expect(await join(request('realm-b'), 'p1')).toMatchObject({ kind: 'refused', code: 'WrongRealm' })
    expect(await join(request('realm-a'), 'p1')).toMatchObject({ kind: 'refused', code: 'Unavailable' })
  })

  it('limits join attempts per peer and overall, since anyone who can reach the node may try', async () => {
    const join = admission()
    for (let i = 0; i < 5; i++) expect(codeOf(await join(request('realm-b'), 'eager'))).toBe('WrongRealm')
    expect(await join(request('realm-b'), 'eager')).toMatchObject({
      code: 'Unavailable',
      message: expect.stringContaining('too many'),
    })
    for (let i = 0; i < 25; i++)
      expect(codeOf(await join(request('realm-b'), `peer-${i}`))).toBe('WrongRealm')
    expect(codeOf(await join(request('realm-b'), 'latecomer'))).toBe('Unavailable')
  })
})
