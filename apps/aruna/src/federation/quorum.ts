/**
 * The write quorum of records replicated to every node (key indexes, multipart uploads): how many
 * other nodes must confirm a record before its write is acknowledged, and the wait for them.
 */
import { DataError } from '@aruna/data'
import type { WriteQuorum } from './realm-blob-store.js'
import type { RealmNodes } from './realm-nodes.js'

/**
 * Other nodes that must have a record durable before its write is acknowledged: `factor`'s majority
 * (or the configured number) of the realm's nodes not gone past the grace period, this one included,
 * never more than there are; this node's own copy is not counted.
 */
export function othersNeeded(nodes: RealmNodes, writeQuorum: WriteQuorum, factor: number): number {
  const realm = nodes.members().filter((member) => member.state !== 'down').length
  const wanted = writeQuorum === 'majority' ? Math.floor(factor / 2) + 1 : writeQuorum
  return Math.max(1, Math.min(wanted, realm)) - 1
}

/**
 * The peers that let a write's settle wait run out and have not confirmed a push since: a node that
 * died but is not yet seen as gone (that takes the liveness timeout), or one far behind. Later writes
 * still push to them but do not wait for them, so one such node costs one settle wait, not one per
 * write until it is declared gone. A peer leaves the set with its next confirmed push.
 */
export type Laggards = Set<string>

/** A push of a record to one peer. */
export interface PeerPush {
  readonly peer: string
  readonly push: Promise<unknown>
}

/**
 * Resolves once `needed` of `pushes` have resolved; fails with `ServiceUnavailable` as soon as too
 * many have failed for that (`what` names the record in the message). With `settleMs`, a write that
 * has its quorum still waits, at most that long, for the other pushes to answer, so a node that is
 * merely a little behind has the record too; not for the `laggards`, and a peer whose push is still
 * out when the wait ends becomes one. No push is left with an unhandled rejection.
 */
export async function awaitConfirmations(
  pushes: readonly PeerPush[],
  needed: number,
  what: string,
  options: { settleMs?: number; laggards?: Laggards } = {},
): Promise<void> {
  const { laggards } = options
  const done = new Set<string>()
  for (const { peer, push } of pushes)
    push.then(
      () => {
        done.add(peer)
        laggards?.delete(peer)
      },
      () => {
        done.add(peer)
      },
    )
  await quorumOf(
    pushes.map(({ push }) => push),
    needed,
    what,
  )
  if (options.settleMs === undefined || options.settleMs <= 0) return
  const awaited = pushes.filter(({ peer }) => laggards?.has(peer) !== true)
  if (awaited.every(({ peer }) => done.has(peer))) return
  let timer: ReturnType<typeof setTimeout> | undefined
  const allSettled = Promise.allSettled(awaited.map(({ push }) => push)).then(() => true)
  const settled = await Promise.race([
    allSettled,
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), options.settleMs)
    }),
  ])
  clearTimeout(timer)
  if (!settled && laggards !== undefined)
    for (const { peer } of awaited) if (!done.has(peer)) laggards.add(peer)
}

function quorumOf(pushes: readonly Promise<unknown>[], needed: number, what: string): Promise<void> {
  if (needed === 0) return Promise.resolve()
  return new Promise<void>((resolve, reject) => {
    let stored = 0
    let failed = 0
    let settled = false
    const check = (): void => {
      if (settled) return
      if (stored >= needed) {
        settled = true
        resolve()
      } else if (pushes.length - failed < needed) {
        settled = true
        reject(
          new DataError(
            'ServiceUnavailable',
            `only ${stored + 1} of the ${needed + 1} nodes a write needs stored ${what}`,
          ),
        )
      }
    }
    for (const push of pushes)
      push.then(
        () => {
          stored++
          check()
        },
        () => {
          failed++
          check()
        },
      )
    check()
  })
}
