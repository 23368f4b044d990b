/**
 * `aruna join <invite>`: the new node's side. It dials the realm node named in the invite with its
 * own key (noise authenticates both ends: the invite names the realm node's peer id), redeems the
 * invite over the open join protocol, and keeps what it gets: its delegation and the realm's
 * document URL in `realm.json`, the realm's access key encryption key in `access-keys.key` (0600).
 */
import { join } from 'node:path'
import { verifyDelegation } from '@aruna/auth'
import { describeError, requestOpen } from '@aruna/network'
import { nodeKeyIdOfPeer } from '@aruna/orga'
import { writeFileDurably } from '@aruna/platform'
import { loadNodeIdentity } from '../identity/node-identity.js'
import { RealmExistsError } from './init.js'
import { decodeInvite } from './invite.js'
import { type JoinRefusal, type JoinResponse, joinProtocol } from './join-protocol.js'
import { type RealmFile, readRealmFile, writeRealmFile } from './realm-file.js'

export class JoinError extends Error {
  override readonly name = 'JoinError'
  constructor(
    readonly code: JoinRefusal | 'Unreachable' | 'BadAnswer',
    message: string,
  ) {
    super(message)
  }
}

export interface JoinOptions {
  readonly dataDir: string
  readonly invite: string
  /** Per realm node tried. Default 30 s. */
  readonly timeoutMs?: number
  readonly onProgress?: (message: string) => void
}

export async function joinRealm(options: JoinOptions): Promise<RealmFile> {
  const { dataDir } = options
  if (await readRealmFile(dataDir)) {
    throw new RealmExistsError(`${dataDir} already belongs to a realm; use another --data-dir`)
  }
  const invite = decodeInvite(options.invite)
  const identity = await loadNodeIdentity(dataDir)
  let lastError: JoinError | undefined
  for (const address of invite.bootstrap) {
    options.onProgress?.(`asking ${address} to admit node ${identity.peerId}`)
    let response: JoinResponse
    try {
      response = await requestOpen({
        privateKey: identity.peerKey,
        address,
        protocol: joinProtocol,
        request: { kind: 'join', realm: invite.realm, secret: invite.secret, addresses: [] },
        timeoutMs: options.timeoutMs ?? 30_000,
      })
    } catch (err) {
      lastError = new JoinError('Unreachable', `${address} did not answer: ${describeError(err)}`)
      continue
    }
    if (response.kind === 'refused') {
      if (response.code === 'Unavailable') {
        lastError = new JoinError(response.code, response.message)
        continue
      }
      throw new JoinError(response.code, response.message)
    }
    try {
      verifyDelegation(response.delegation, invite.realm, { node: nodeKeyIdOfPeer(identity.peerId) })
    } catch (err) {
      throw new JoinError(
        'BadAnswer',
        `the realm node sent a delegation that is not valid: ${describeError(err)}`,
      )
    }
    if (response.realmId !== invite.realm)
      throw new JoinError('BadAnswer', 'the realm node answered for another realm')
    await writeFileDurably(
      join(dataDir, 'access-keys.key'),
      `${Buffer.from(response.accessKeyKey).toString('base64url')}\n`,
      { mode: 0o600 },
    )
    const file: RealmFile = {
      version: 1,
      realmId: response.realmId,
      realmName: response.realmName,
      realmUrl: response.realmUrl,
      ...(response.metadataUrl === undefined ? {} : { metadataUrl: response.metadataUrl }),
      kind: 'server',
      delegation: response.delegation,
      operator: invite.operator,
      devLogin: false,
      bootstrap: [...new Set([...response.bootstrap, ...invite.bootstrap])].slice(0, 64),
      listen: [],
      createdAt: new Date().toISOString(),
    }
    await writeRealmFile(dataDir, file)
    return file
  }
  throw lastError ?? new JoinError('Unreachable', 'the invite names no reachable realm node')
}
