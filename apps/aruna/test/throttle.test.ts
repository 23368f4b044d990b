import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Throttle } from '../src/federation/data-upkeep.js'

describe('Throttle', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('holds work back until the bytes taken are due at the rate', async () => {
    const throttle = new Throttle(1000)
    throttle.reset()
    let done = false
    const taking = throttle.take(2000).then(() => {
      done = true
    })
    await vi.advanceTimersByTimeAsync(1990)
    expect(done).toBe(false)
    await vi.advanceTimersByTimeAsync(20)
    await taking
    expect(done).toBe(true)
  })

  it('lets work through at once while it is below the rate, and stops waiting when aborted', async () => {
    const throttle = new Throttle(1000)
    throttle.reset()
    await vi.advanceTimersByTimeAsync(3000)
    await throttle.take(2000) // due 2 s after the start, which has passed
    const stop = new AbortController()
    let done = false
    const taking = throttle.take(100_000, stop.signal).then(() => {
      done = true
    })
    await vi.advanceTimersByTimeAsync(10)
    expect(done).toBe(false)
    stop.abort()
    await taking
    expect(done).toBe(true)
  })
})
