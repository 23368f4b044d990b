/**
 * The write quorum's settle wait: a write that has its quorum waits (bounded) for the other nodes, but a
 * node that let that wait run out is not waited for again until it confirms a push (a node that died
 * and is not yet seen as gone must not slow every write down until the liveness timeout).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { awaitConfirmations, type Laggards } from '../src/federation/quorum.js'

const SETTLE_MS = 1000

/** A push that stays out until the test settles it. */
function held(): { push: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve: () => void = () => {}
  let reject: (err: Error) => void = () => {}
  const push = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { push, resolve, reject }
}

/** A write's pushes: b answers at once, c when `c` settles. */
function pushes(c: Promise<void>): { peer: string; push: Promise<void> }[] {
  return [
    { peer: 'b', push: Promise.resolve() },
    { peer: 'c', push: c },
  ]
}

/** Whether `promise` has settled once the microtasks queued so far have run (no timer advances). */
async function settledNow(promise: Promise<unknown>): Promise<boolean> {
  let done = false
  promise.then(
    () => {
      done = true
    },
    () => {
      done = true
    },
  )
  await vi.advanceTimersByTimeAsync(0)
  return done
}

describe('awaitConfirmations with laggards', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('waits for a slow node once, then not again until it confirms a push', async () => {
    const laggards: Laggards = new Set()
    // Write 1: b answers, c (dead, not yet known) never does.
    const c1 = held()
    const first = awaitConfirmations(pushes(c1.push), 1, 'write 1', { settleMs: SETTLE_MS, laggards })
    expect(await settledNow(first)).toBe(false)
    await vi.advanceTimersByTimeAsync(SETTLE_MS - 1)
    expect(await settledNow(first)).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await settledNow(first)).toBe(true)
    expect(laggards.has('c')).toBe(true)

    // Write 2: acknowledged as soon as b has it, without waiting for c.
    const c2 = held()
    const second = awaitConfirmations(pushes(c2.push), 1, 'write 2', { settleMs: SETTLE_MS, laggards })
    expect(await settledNow(second)).toBe(true)

    // c comes back: its confirmation makes writes wait for it again.
    c2.resolve()
    await vi.advanceTimersByTimeAsync(0)
    expect(laggards.has('c')).toBe(false)
    const c3 = held()
    const third = awaitConfirmations(pushes(c3.push), 1, 'write 3', { settleMs: SETTLE_MS, laggards })
    expect(await settledNow(third)).toBe(false)
    c3.resolve()
    expect(await settledNow(third)).toBe(true)
    c1.reject(new Error('gone'))
  })

  it('still fails a write whose quorum a laggard was needed for', async () => {
    const laggards: Laggards = new Set()
    laggards.add('c')
    const c = held()
    const write = awaitConfirmations(
      [
        { peer: 'b', push: Promise.reject(new Error('down')) },
        { peer: 'c', push: c.push },
      ],
      1,
      'the record of k',
      { settleMs: SETTLE_MS, laggards },
    )
    write.catch(() => {})
    expect(await settledNow(write)).toBe(false)
    c.reject(new Error('down too'))
    await expect(write).rejects.toMatchObject({ code: 'ServiceUnavailable' })
  })

  it('without laggards waits for every push each time (bounded by the settle time)', async () => {
    for (let round = 0; round < 2; round++) {
      const c = held()
      const write = awaitConfirmations(pushes(c.push), 1, 'write', { settleMs: SETTLE_MS })
      expect(await settledNow(write)).toBe(false)
      await vi.advanceTimersByTimeAsync(SETTLE_MS)
      expect(await settledNow(write)).toBe(true)
    }
  })
})
