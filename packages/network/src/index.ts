/**
 * `@aruna/network`: how Aruna nodes talk to each other. The `Network` port gives a node its peer
 * identity, typed and versioned request/response protocols (`/aruna/<domain>/<n>.0.0`) whose
 * messages pass explicit codecs that treat every input as hostile, byte streams with backpressure
 * for large bodies and long-lived channels (CRDT sync), provider records for content ids, and
 * realm membership with join/leave/unreachable events, gated by a predicate the layer above
 * supplies. `createMemoryNetwork` is the in-memory implementation with fault injection (drop, delay,
 * partition, kill); `createLibp2pNetwork` is the real node (TCP and QUIC, Noise, Yamux, a
 * realm-private Kademlia DHT, a realm handshake with pluggable `RealmCredentials`); `requestOpen`
 * lets a process that is not a member yet call a node's open protocols (e.g. to join). Both pass
 * `runNetworkTests` from `@aruna/network/testing`.
 */
export { AutomergeNetworkAdapter } from './automerge/adapter.js'
export type { AutomergeNetworkAdapterOptions } from './automerge/options.js'
export { AUTOMERGE_PROTOCOL_ID, DEFAULT_AUTOMERGE_MAX_MESSAGE_BYTES } from './automerge/options.js'
export type { AutomergeWireMessage } from './automerge/wire.js'
export { automergeWireCodec, MAX_REPO_ID_LENGTH } from './automerge/wire.js'
export type { MessageChannelOptions } from './channel.js'
export { MessageChannel, openMessageChannel } from './channel.js'
export type { Validator } from './codec.js'
export { bytesCodec, MAX_MESSAGE_DEPTH, messageCodec } from './codec.js'
export type { Deadline } from './deadline.js'
export { raceSignal, startDeadline } from './deadline.js'
export type { NetworkErrorCode } from './errors.js'
export { describeError, isNetworkError, NetworkError, toNetworkError } from './errors.js'
export { decodeVarint, encodeFrame, encodeVarint, FrameDecoder } from './framing.js'
export type { LaneMessage } from './lane-wire.js'
export { CALLS_PROTOCOL_ID, decodeLaneMessage, encodeLaneMessage } from './lane-wire.js'
export type { RealmCredentials } from './libp2p/credentials.js'
export { kadProtocolFor } from './libp2p/credentials.js'
export { LANE_MAX_CALLS_IN_FLIGHT } from './libp2p/lanes.js'
export { createLibp2pNetwork, Libp2pNetwork } from './libp2p/node.js'
export type { OpenRequestInit } from './libp2p/open.js'
export { requestOpen } from './libp2p/open.js'
export type { Libp2pNetworkInit, LogEntry, NetworkLogger, TransportName } from './libp2p/options.js'
export { createPeerKey, loadOrCreatePeerKey, peerIdOf } from './libp2p/peer-key.js'
export type { MemoryNetworkOptions, MemoryNodeOptions, MemoryOpenRequest } from './memory/hub.js'
export { createMemoryCluster, createMemoryNetwork, MemoryNetworkHub } from './memory/hub.js'
export { MemoryNetwork } from './memory/node.js'
export type {
  AbortOptions,
  Codec,
  DeadlineOptions,
  FindProvidersOptions,
  HandleOptions,
  HandlerContext,
  MembershipPredicate,
  Network,
  NetworkEventListener,
  NetworkEventName,
  NetworkEvents,
  NetworkStream,
  PeerId,
  Protocol,
  RequestHandler,
  StreamContext,
  StreamHandler,
} from './port.js'
export { DEFAULT_TIMEOUT_MS } from './port.js'
export {
  assertContentId,
  assertPeerId,
  assertProtocolId,
  DEFAULT_MAX_MESSAGE_BYTES,
  defineProtocol,
  HANDSHAKE_PROTOCOL_ID,
  MAX_CONTENT_ID_LENGTH,
} from './protocol.js'
export type { Reply } from './reply.js'
export { decodeReply, encodeReply, REMOTE_ERROR_CODES } from './reply.js'
