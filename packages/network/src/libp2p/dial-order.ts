import { type QuicComponents, type QuicOptions, quic } from '@chainsafe/libp2p-quic'
import type { Address, Connection, Transport } from '@libp2p/interface'
import {
  circuitRelayAddressesLast,
  loopbackAddressLast,
  publicAddressesFirst,
  reliableTransportsFirst,
} from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import { raceSignal } from '../deadline.js'
import { describeError } from '../errors.js'

/**
 * The order in which libp2p tries a peer's addresses (`connectionManager.addressSorter`): libp2p's
 * default (loopback last, public first, relays last, certified first), except that among addresses
 * equal on those counts QUIC comes before TCP, where libp2p would put TCP first. libp2p dials the
 * addresses one after the other, so a QUIC dial that fails (UDP blocked, handshake timeout) falls
 * back to the peer's TCP address within the same dial.
 */
export function quicFirst(a: Address, b: Address): -1 | 0 | 1 {
  return (
    loopbackAddressLast(a.multiaddr, b.multiaddr) ||
    publicAddressesFirst(a.multiaddr, b.multiaddr) ||
    circuitRelayAddressesLast(a.multiaddr, b.multiaddr) ||
    certifiedFirst(a, b) ||
    quicBeforeOthers(a.multiaddr, b.multiaddr) ||
    reliableTransportsFirst(a.multiaddr, b.multiaddr)
  )
}

function certifiedFirst(a: Address, b: Address): -1 | 0 | 1 {
  if (a.isCertified === b.isCertified) return 0
  return a.isCertified ? -1 : 1
}

function quicBeforeOthers(a: Multiaddr, b: Multiaddr): -1 | 0 | 1 {
  const [quicA, quicB] = [isQuic(a), isQuic(b)]
  if (quicA === quicB) return 0
  return quicA ? -1 : 1
}

/** A direct QUIC address (`…/udp/<port>/quic-v1`, perhaps with `/p2p/…`), not WebTransport or a relay. */
export function isQuic(address: Multiaddr): boolean {
  const names = address.getComponents().map((component) => component.name)
  return names.includes('quic-v1') && !names.includes('webtransport') && !names.includes('p2p-circuit')
}

/**
 * The QUIC transport with dials bounded by `dialTimeoutMs` (and the dial's signal). The transport
 * ignores both: a dial to a peer whose UDP is blocked waits out QUIC's idle timeout (10 s), which
 * would leave nothing of a dial's budget for the TCP address that `quicFirst` puts after it. A
 * connection that arrives after its dial gave up is closed.
 */
export function boundedQuic(
  dialTimeoutMs: number,
  options?: Partial<QuicOptions>,
): (components: QuicComponents) => Transport {
  const create = quic(options)
  return (components) => {
    const transport = create(components)
    const dial = transport.dial.bind(transport)
    transport.dial = (address, dialOptions) => dialWithin(dial, address, dialOptions, dialTimeoutMs)
    return transport
  }
}

async function dialWithin(
  dial: Transport['dial'],
  address: Multiaddr,
  options: Parameters<Transport['dial']>[1],
  timeoutMs: number,
): Promise<Connection> {
  const limit = AbortSignal.timeout(timeoutMs)
  const signal = options.signal === undefined ? limit : AbortSignal.any([options.signal, limit])
  const attempt = dial(address, { ...options, signal })
  try {
    return await raceSignal(attempt, signal)
  } catch (err) {
    if (signal.aborted) {
      attempt.then(
        (late) => late.abort(new Error('the dial gave up')),
        () => {},
      )
      throw new Error(`QUIC dial to ${address.toString()} gave up: ${describeError(signal.reason)}`, {
        cause: err,
      })
    }
    throw err
  }
}

/** Half the budget, between 1 and 5 s: how long a QUIC dial may take before TCP is tried. */
export function quicDialTimeout(budgetMs: number): number {
  return Math.min(Math.max(budgetMs / 2, 1_000), 5_000)
}
