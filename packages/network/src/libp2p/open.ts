import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { startDeadline } from '../deadline.js'
import { describeError, NetworkError } from '../errors.js'
import { DEFAULT_TIMEOUT_MS, type DeadlineOptions, type PeerId, type Protocol } from '../port.js'
import { assertProtocol, encodeRequest } from '../protocol.js'
import { readResponse } from '../reply.js'
import { exchange, openLibp2pStream } from './calls.js'
import { boundedQuic, quicDialTimeout } from './dial-order.js'
import { peerAddress, stopNode } from './libp2p-node.js'
import type { TransportName } from './options.js'
import { peerIdOf } from './peer-key.js'

/** What `requestOpen` sends, and to whom. */
export interface OpenRequestInit<Req, Res> extends DeadlineOptions {
  /** The caller's key: its peer id is what the serving node sees as `HandlerContext.peer`. */
  privateKey: PrivateKey
  /**
   * The node to ask: a TCP or QUIC multiaddr ending in `/p2p/<peer id>`, e.g.
   * `/ip4/10.0.0.2/tcp/4001/p2p/12D3KooW…`, so that the transport authenticates that node.
   */
  address: string
  protocol: Protocol<Req, Res>
  request: Req
}

/** How long `requestOpen` waits for its libp2p to stop before dropping the connection. */
const STOP_TIMEOUT_MS = 2_000

/**
 * Sends one request on an open protocol (one the serving node handles with `{ open: true }`) from
 * a process that is not, or not yet, a realm member: e.g. a node joining with an invite. It starts
 * a minimal libp2p with `privateKey` (the transport `address` needs, Noise, Yamux; no DHT, no realm
 * handshake, no listening), dials `address`, sends the request with the same framing, codecs, size
 * limits and reply as `Network.request`, and always stops its libp2p before it settles. A protocol
 * the node serves to members only answers `NotMember`.
 *
 * Fails like `Network.request`: `InvalidArgument` (no key, an address that is not TCP or QUIC or
 * lacks `/p2p/<peer id>`, the caller's own peer id, an unencodable request), `MessageTooLarge`,
 * `PeerUnreachable`, `NotMember`, `NoHandler`, `MalformedMessage`, `HandlerFailed`, `Timeout`
 * (`timeoutMs`, default 10 s, covers the whole call) and `Aborted`.
 */
export async function requestOpen<Req, Res>(init: OpenRequestInit<Req, Res>): Promise<Res> {
  const { privateKey, protocol } = init
  if (typeof privateKey?.sign !== 'function')
    throw new NetworkError('InvalidArgument', 'requestOpen needs a private key')
  assertProtocol(protocol as Protocol<unknown, unknown>)
  const target = openTarget(init.address, peerIdOf(privateKey))
  const frame = encodeRequest(protocol, init.request)
  const deadline = startDeadline(init, DEFAULT_TIMEOUT_MS, `open request ${protocol.id} to ${target.peer}`)
  let node: Libp2p | undefined
  try {
    node = await startCaller(privateKey, target.transport, init.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    const stream = await openLibp2pStream(node, target.peer, protocol.id, deadline.signal, target.address)
    const answer = await exchange(
      stream,
      target.peer,
      protocol as Protocol<unknown, unknown>,
      frame,
      deadline.signal,
    )
    return readResponse(protocol, answer, target.peer)
  } finally {
    deadline.clear()
    if (node !== undefined) await stopNode(node, STOP_TIMEOUT_MS)
  }
}

/** Checks the address: a TCP or QUIC multiaddr naming a peer other than the caller. */
function openTarget(
  address: unknown,
  self: PeerId,
): { peer: PeerId; address: Multiaddr; transport: TransportName } {
  const located = typeof address === 'string' ? peerAddress(address) : undefined
  if (located === undefined) {
    throw new NetworkError(
      'InvalidArgument',
      `${String(address)} is not a multiaddr ending in /p2p/<peer id>`,
    )
  }
  const names = located.address.getComponents().map((component) => component.name)
  const transport = names.includes('quic-v1') ? 'quic' : names.includes('tcp') ? 'tcp' : undefined
  if (transport === undefined) {
    throw new NetworkError('InvalidArgument', `${address as string} is neither a TCP nor a QUIC address`)
  }
  if (located.peer === self) throw new NetworkError('InvalidArgument', 'requestOpen to the caller itself')
  return { peer: located.peer, address: multiaddr(address as string), transport }
}

/**
 * A libp2p that only dials: one transport, Noise and Yamux, no services, no listening. A QUIC dial
 * gets half the call's budget (at most 5 s), so a node that does not answer is `PeerUnreachable`.
 */
async function startCaller(
  privateKey: PrivateKey,
  transport: TransportName,
  budgetMs: number,
): Promise<Libp2p> {
  try {
    return await createLibp2p({
      privateKey,
      addresses: { listen: [] },
      transports: [transport === 'tcp' ? tcp() : boundedQuic(quicDialTimeout(budgetMs))],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionMonitor: { enabled: false },
    })
  } catch (err) {
    throw new NetworkError('PeerUnreachable', `cannot start libp2p: ${describeError(err)}`, { cause: err })
  }
}
