import { describe, expect, it } from 'vitest'
import {
  IDLE_MEMORY_DEFAULTS,
  IdleMemoryPolicy,
  type IdleMemorySettings,
  reducingCollector,
  startIdleMemoryReducer,
} from '../src/idle-memory.js'
import { waitFor } from './wait-for.js'

const MiB = 1024 * 1024
const settings: IdleMemorySettings = {
  quietUtilization: 0.02,
  quietSamples: 2,
  rssGrowthBytes: 16 * MiB,
  minIntervalMs: 30_000,
}
const quiet = (nowMs: number, rssBytes = 100 * MiB) => ({ utilization: 0.001, rssBytes, nowMs })
const busy = (nowMs: number, rssBytes = 100 * MiB) => ({ utilization: 0.5, rssBytes, nowMs })

describe('IdleMemoryPolicy', () => {
  it('collects once after start-up, when the node has been quiet for the set number of samples', () => {
    const policy = new IdleMemoryPolicy(0, 100 * MiB, settings)
    expect(policy.sample(quiet(1000))).toBe(false)
    expect(policy.sample(quiet(2000))).toBe(true)
    policy.collected(2000, 80 * MiB)
    for (let t = 3000; t < 120_000; t += 1000) expect(policy.sample(quiet(t, 80 * MiB))).toBe(false)
  })

  it('collects again after work, once quiet again, but not sooner than the least interval', () => {
    const policy = new IdleMemoryPolicy(0, 100 * MiB, settings)
    policy.sample(quiet(1000))
    expect(policy.sample(quiet(2000))).toBe(true)
    policy.collected(2000, 80 * MiB)
    expect(policy.sample(busy(3000))).toBe(false)
    expect(policy.sample(quiet(4000))).toBe(false)
    // Quiet long enough, but only 3 s after the last collection.
    expect(policy.sample(quiet(5000))).toBe(false)
    const decisions: number[] = []
    for (let t = 6000; t <= 40_000; t += 1000) if (policy.sample(quiet(t))) decisions.push(t)
    expect(decisions[0]).toBe(32_000)
  })

  it('does not collect while the node is busy, and a busy sample restarts the quiet count', () => {
    const policy = new IdleMemoryPolicy(0, 100 * MiB, settings)
    for (let t = 1000; t <= 60_000; t += 1000) expect(policy.sample(busy(t))).toBe(false)
    expect(policy.sample(quiet(61_000))).toBe(false)
    expect(policy.sample(busy(62_000))).toBe(false)
    expect(policy.sample(quiet(63_000))).toBe(false)
    expect(policy.sample(quiet(64_000))).toBe(true)
  })

  it('counts grown RSS as work even when every sample was quiet', () => {
    const policy = new IdleMemoryPolicy(0, 100 * MiB, settings)
    policy.sample(quiet(1000))
    expect(policy.sample(quiet(2000))).toBe(true)
    policy.collected(2000, 80 * MiB)
    // Short bursts the once-a-second samples see as quiet: only the RSS shows them.
    for (let t = 3000; t <= 60_000; t += 1000) expect(policy.sample(quiet(t, 90 * MiB))).toBe(false)
    expect(policy.sample(quiet(61_000, 97 * MiB))).toBe(true)
  })

  it('has defaults that wait for quiet seconds and space collections out', () => {
    expect(IDLE_MEMORY_DEFAULTS.quietSamples).toBeGreaterThanOrEqual(2)
    expect(IDLE_MEMORY_DEFAULTS.minIntervalMs).toBeGreaterThanOrEqual(10_000)
  })
})

describe('reducingCollector', () => {
  it('runs a real full collection without putting gc on the global object', async () => {
    const collect = reducingCollector()
    expect(collect).toBeTypeOf('function')
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined()
    let target: object | undefined = { payload: new Array(1000).fill('x') }
    const ref = new WeakRef(target)
    target = undefined
    // A WeakRef keeps its target for the rest of the job that made it.
    await new Promise((resolve) => setImmediate(resolve))
    collect?.()
    expect(ref.deref()).toBeUndefined()
  })
})

describe('startIdleMemoryReducer', () => {
  it('collects on a quiet process, by itself and when asked, and stops sampling when stopped', async () => {
    const calls: string[] = []
    const reducer = startIdleMemoryReducer({
      sampleMs: 20,
      // Any RSS counts as grown: every quiet pair of samples is a moment to collect.
      settings: { ...settings, minIntervalMs: 0, rssGrowthBytes: Number.NEGATIVE_INFINITY },
      collect: () => calls.push('collect'),
    })
    try {
      await waitFor('two collections on a quiet process', () => reducer.collections >= 2, 10_000)
      const before = reducer.collections
      reducer.collectNow()
      expect(reducer.collections).toBe(before + 1)
      expect(calls.length).toBe(reducer.collections)
    } finally {
      reducer.stop()
    }
    const after = reducer.collections
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(reducer.collections).toBe(after)
  })

  it('survives a collection that throws: nothing escapes, and it is not counted', () => {
    const reducer = startIdleMemoryReducer({
      sampleMs: 60_000,
      collect: () => {
        throw new Error('no collection today')
      },
    })
    try {
      expect(() => reducer.collectNow()).not.toThrow()
      expect(reducer.collections).toBe(0)
    } finally {
      reducer.stop()
    }
  })
})
