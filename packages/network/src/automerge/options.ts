import { NetworkError } from '../errors.js'
import type { PeerId } from '../port.js'
import { assertProtocolId } from '../protocol.js'

/** The protocol the adapter speaks unless told otherwise. */
export const AUTOMERGE_PROTOCOL_ID = '/aruna/automerge/1.0.0'

/**
 * Largest encoded message sent or accepted by default: 16 MiB. The first sync of a large document
 * carries the whole document in one automerge message, so this is larger than the request limit.
 */
export const DEFAULT_AUTOMERGE_MAX_MESSAGE_BYTES = 16 * 1024 * 1024

export interface AutomergeNetworkAdapterOptions {
  /** Stream protocol id, `/aruna/<domain>/<n>.0.0`. Default `AUTOMERGE_PROTOCOL_ID`. */
  protocolId?: string
  /** Largest encoded message, both ways. Default `DEFAULT_AUTOMERGE_MAX_MESSAGE_BYTES`. */
  maxMessageBytes?: number
  /**
   * Which network peers this adapter syncs with (default: every live peer), e.g. the nodes the
   * metadata replication factor chose. Consulted when a peer joins or opens a channel to us, and for
   * every peer by `refreshPeers()`. A predicate that throws says no.
   */
  shouldConnect?: (peer: PeerId) => boolean
  /** `whenReady()` resolves at the latest this long after `connect()`. Default 2000 ms. */
  readyTimeoutMs?: number
  /** Deadline for opening a channel to a peer. Default 5000 ms. */
  openTimeoutMs?: number
  /** After a channel fails while its peer stays live, reach out to the peer again after this long. Default 1000 ms. */
  reconnectDelayMs?: number
  /**
   * Told about everything the adapter drops or gives up on, none of which is thrown: hostile or
   * misaddressed input from a peer (`MalformedMessage`, `MessageTooLarge`), a message it cannot
   * send (`MessageTooLarge`, `InvalidArgument`, `PeerUnreachable`), a channel that failed.
   */
  onError?: (error: NetworkError, peer: PeerId | undefined) => void
}

/** The options with their defaults applied, checked. */
export type AdapterSettings = Required<AutomergeNetworkAdapterOptions>

/** Applies the defaults; `InvalidArgument` for a bad protocol id, size or duration. */
export function resolveOptions(options: AutomergeNetworkAdapterOptions): AdapterSettings {
  const protocolId = options.protocolId ?? AUTOMERGE_PROTOCOL_ID
  assertProtocolId(protocolId)
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_AUTOMERGE_MAX_MESSAGE_BYTES
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1)
    throw new NetworkError('InvalidArgument', 'maxMessageBytes must be a positive integer')
  return {
    protocolId,
    maxMessageBytes,
    shouldConnect: options.shouldConnect ?? (() => true),
    readyTimeoutMs: positive(options.readyTimeoutMs ?? 2000, 'readyTimeoutMs'),
    openTimeoutMs: positive(options.openTimeoutMs ?? 5000, 'openTimeoutMs'),
    reconnectDelayMs: positive(options.reconnectDelayMs ?? 1000, 'reconnectDelayMs'),
    onError: options.onError ?? (() => {}),
  }
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !(value > 0 && Number.isFinite(value)))
    throw new NetworkError('InvalidArgument', `${name} must be a positive number`)
  return value
}
