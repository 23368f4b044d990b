import type { Identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { Protocol, RequestHandler, StreamHandler } from '../port.js'

/** The libp2p services an Aruna node runs. */
export type ArunaServices = {
  identify: Identify
  ping: Ping
  dht: KadDHT
}

/** One run of the libp2p node under a `Libp2pNetwork` (a fresh one per start). */
export type Libp2pNode = Libp2p<ArunaServices>

/** A content id as the DHT takes it: a CIDv1 (the `multiformats` class, reached through kad-dht's types). */
export type ContentKey = Parameters<KadDHT['provide']>[0]

export type HandlerEntry =
  | {
      kind: 'request'
      protocol: Protocol<unknown, unknown>
      handler: RequestHandler<unknown, unknown>
      /** Served to any authenticated peer, not only to admitted members (`HandleOptions.open`). */
      open: boolean
    }
  | { kind: 'stream'; handler: StreamHandler }
