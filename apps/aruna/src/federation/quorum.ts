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
 * Resolves once `needed` of `pushes` have resolved; fails with `ServiceUnavailable` as soon as too
 * many have failed for that (`what` names the record in the message). With `settleMs`, a write that
 * has its quorum still waits, at most that long, for the other pushes to answer, so a node that is
 * merely a little behind has the record too. No push is left with an unhandled rejection.
 */
export async function awaitConfirmations(
  pushes: readonly Promise<unknown>[],
  needed: number,
  what: string,
  options: { settleMs?: number } = {},
): Promise<void> {
  for (const push of pushes) push.catch(() => undefined)
  await quorumOf(pushes, needed, what)
  if (options.settleMs === undefined || options.settleMs <= 0) return
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([
    Promise.allSettled(pushes),
    new Promise((resolve) => {
      timer = setTimeout(resolve, options.settleMs)
    }),
  ])
  clearTimeout(timer)
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
