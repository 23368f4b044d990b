import { describe, expect, it } from 'vitest'
import { PeerEvents } from '../src/events.js'
import { type NetworkError, raceSignal, startDeadline } from '../src/index.js'
import { expectNetworkError, expectNetworkErrorSync } from '../src/testing/index.js'

describe('startDeadline', () => {
  it('aborts with Timeout after timeoutMs', async () => {
    const deadline = startDeadline({ timeoutMs: 20 }, 1000, 'test call')
    await expectNetworkError(raceSignal(new Promise(() => {}), deadline.signal), 'Timeout')
    expect((deadline.signal.reason as NetworkError).message).toBe('test call timed out after 20 ms')
  })

  it('aborts with Aborted when the caller signal fires, keeping its reason as cause', async () => {
    const controller = new AbortController()
    const deadline = startDeadline({ signal: controller.signal }, 10_000, 'test call')
    controller.abort('user pressed stop')
    const err = await expectNetworkError(raceSignal(new Promise(() => {}), deadline.signal), 'Aborted')
    expect(err.cause).toBe('user pressed stop')
    deadline.clear()
  })

  it('throws Aborted for an already aborted signal and InvalidArgument for a bad timeout', () => {
    expectNetworkErrorSync(() => startDeadline({ signal: AbortSignal.abort() }, 100, 'x'), 'Aborted')
    for (const timeoutMs of [0, -5, Number.NaN])
      expectNetworkErrorSync(() => startDeadline({ timeoutMs }, 100, 'x'), 'InvalidArgument')
    const unbounded = startDeadline({ timeoutMs: Number.POSITIVE_INFINITY }, 100, 'x')
    expect(unbounded.signal.aborted).toBe(false)
    unbounded.clear()
  })

  it('settles like the promise when the signal stays quiet', async () => {
    const deadline = startDeadline(undefined, 1000, 'x')
    await expect(raceSignal(Promise.resolve(7), deadline.signal)).resolves.toBe(7)
    await expect(raceSignal(Promise.reject(new Error('no')), deadline.signal)).rejects.toThrow('no')
    await expect(raceSignal(Promise.resolve(8), undefined)).resolves.toBe(8)
    deadline.clear()
    expect(deadline.signal.aborted).toBe(false)
  })
})

describe('PeerEvents', () => {
  it('calls listeners in order, per subscription, and isolates a throwing listener', () => {
    const events = new PeerEvents()
    const calls: string[] = []
    const listener = (event: { peer: string }) => calls.push(event.peer)
    const first = events.on('peer:join', listener)
    events.on('peer:join', () => {
      throw new Error('broken listener')
    })
    events.on('peer:join', listener)
    events.on('peer:leave', () => calls.push('leave'))
    events.emit('peer:join', { peer: 'p1' })
    first()
    first()
    events.emit('peer:join', { peer: 'p2' })
    events.emit('peer:unreachable', { peer: 'nobody listens' })
    expect(calls).toEqual(['p1', 'p1', 'p2'])
  })
})

describe('raceSignal with a signal that is already aborted', () => {
  it('rejects at once and leaves no unhandled rejection when the raced promise fails later (found in CI)', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const controller = new AbortController()
      controller.abort(new Error('gave up'))
      let fail: (err: Error) => void = () => {}
      const late = new Promise<void>((_resolve, reject) => {
        fail = reject
      })
      await expect(raceSignal(late, controller.signal)).rejects.toThrow('gave up')
      fail(new Error('failed after nobody waited'))
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})
