import { describe, expect, it } from 'vitest'
import {
  formatVersionId,
  type HlcTimestamp,
  HybridLogicalClock,
  parseVersionId,
  receive,
  tick,
} from '../src/index.js'

const T = Date.UTC(2025, 5, 1)

function compareTimestamps(a: HlcTimestamp, b: HlcTimestamp): number {
  return (
    a.wallTime - b.wallTime ||
    a.counter - b.counter ||
    (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0)
  )
}

describe('version ids', () => {
  it('round-trip through their string form', () => {
    const ts = { wallTime: T, counter: 42, nodeId: '12D3KooWabc' }
    const id = formatVersionId(ts)
    expect(id).toBe(`${T.toString(16).padStart(12, '0')}-0000002a-12D3KooWabc`)
    expect(parseVersionId(id)).toEqual(ts)
  })

  it('sort as strings exactly as (time, counter, node id) sort', () => {
    const samples: HlcTimestamp[] = []
    for (const wallTime of [0, 9, 10, 255, 256, T, T + 1]) {
      for (const counter of [0, 1, 15, 16, 2 ** 32 - 1]) {
        for (const nodeId of ['A', 'B', 'a', 'a1', 'b', 'node-z']) samples.push({ wallTime, counter, nodeId })
      }
    }
    const byString = [...samples].sort((a, b) => {
      const x = formatVersionId(a)
      const y = formatVersionId(b)
      return x < y ? -1 : x > y ? 1 : 0
    })
    expect(byString).toEqual([...samples].sort(compareTimestamps))
  })

  it('refuses malformed ids and out-of-range fields', () => {
    for (const bad of [
      '',
      'x',
      `${formatVersionId({ wallTime: T, counter: 0, nodeId: 'n' })}/`,
      '000-00000000-n',
    ]) {
      expect(() => parseVersionId(bad)).toThrow(expect.objectContaining({ code: 'InvalidVersionId' }))
    }
    expect(() => formatVersionId({ wallTime: -1, counter: 0, nodeId: 'n' })).toThrow(
      expect.objectContaining({ code: 'InvalidVersionId' }),
    )
    expect(() => formatVersionId({ wallTime: T, counter: 2 ** 32, nodeId: 'n' })).toThrow(
      expect.objectContaining({ code: 'InvalidVersionId' }),
    )
    expect(() => formatVersionId({ wallTime: T, counter: 0, nodeId: 'has space' })).toThrow(
      expect.objectContaining({ code: 'InvalidArgument' }),
    )
  })
})

describe('HLC state transitions', () => {
  it('follows the wall clock when it moves forward', () => {
    expect(tick({ wallTime: T, counter: 5 }, T + 3)).toEqual({ wallTime: T + 3, counter: 0 })
  })

  it('counts within a millisecond and when the wall clock goes backwards', () => {
    expect(tick({ wallTime: T, counter: 5 }, T)).toEqual({ wallTime: T, counter: 6 })
    expect(tick({ wallTime: T, counter: 5 }, T - 1000)).toEqual({ wallTime: T, counter: 6 })
  })

  it('borrows the next millisecond when the counter is full', () => {
    expect(tick({ wallTime: T, counter: 2 ** 32 - 1 }, T)).toEqual({ wallTime: T + 1, counter: 0 })
  })

  it('moves past a remote timestamp ahead of it', () => {
    expect(receive({ wallTime: T, counter: 9 }, { wallTime: T + 50, counter: 3 }, T + 1)).toEqual({
      wallTime: T + 50,
      counter: 4,
    })
  })

  it('moves past both when local and remote share a millisecond', () => {
    expect(receive({ wallTime: T, counter: 2 }, { wallTime: T, counter: 7 }, T - 5)).toEqual({
      wallTime: T,
      counter: 8,
    })
  })

  it('keeps its own time when a remote timestamp is behind', () => {
    expect(receive({ wallTime: T, counter: 2 }, { wallTime: T - 9, counter: 7 }, T - 5)).toEqual({
      wallTime: T,
      counter: 3,
    })
  })

  it('takes the wall clock when it is ahead of both', () => {
    expect(receive({ wallTime: T, counter: 2 }, { wallTime: T, counter: 7 }, T + 1)).toEqual({
      wallTime: T + 1,
      counter: 0,
    })
  })
})

describe('HybridLogicalClock', () => {
  it('issues strictly increasing ids even when the wall clock stalls or jumps back', () => {
    const times = [T, T, T, T - 10_000, T + 1, T + 1, T - 1]
    let i = 0
    const clock = new HybridLogicalClock('node-a', { now: () => times[i++]! })
    const ids = times.map(() => clock.next())
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.every((id) => parseVersionId(id).nodeId === 'node-a')).toBe(true)
  })

  it('issues ids after those it has observed from a node whose clock is ahead', () => {
    const remote = new HybridLogicalClock('node-b', { now: () => T + 60_000 })
    const local = new HybridLogicalClock('node-a', { now: () => T })
    const seen = remote.next()
    local.observe(seen)
    expect(local.next() > seen).toBe(true)
  })

  it('continues after the last id it issued before a restart', () => {
    const before = new HybridLogicalClock('node-a', { now: () => T }).next()
    const restarted = new HybridLogicalClock('node-a', { now: () => T - 5000, after: before })
    expect(restarted.next() > before).toBe(true)
  })

  it('uses the system clock by default', () => {
    const start = Date.now()
    const { wallTime } = parseVersionId(new HybridLogicalClock('n').next())
    expect(wallTime).toBeGreaterThanOrEqual(start)
    expect(wallTime).toBeLessThanOrEqual(Date.now())
  })

  it('refuses a node id that would break the id format', () => {
    for (const nodeId of ['', 'a b', 'x/y', 'é', 'n'.repeat(129)]) {
      expect(() => new HybridLogicalClock(nodeId)).toThrow(
        expect.objectContaining({ code: 'InvalidArgument' }),
      )
    }
  })
})
