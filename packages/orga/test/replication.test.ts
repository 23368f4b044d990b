import { describe, expect, it } from 'vitest'
import { configWarnings, resolveFactor } from '../src/replication.js'
import type { ReplicationConfig } from '../src/types.js'

const config: ReplicationConfig = {
  default: { data: 2, metadata: 'all' },
  groups: { G2: { data: 9 }, G1: { metadata: 4 } },
  paths: { '/r/g/G1/data/b': { data: 'all' }, '/r/g/G1/data': { data: 6 } },
}

describe('resolveFactor', () => {
  it('takes the longest covering prefix that sets the kind', () => {
    expect(resolveFactor(config, 'r', 'data', '/r/g/G1/data/x', 3)).toBe(6)
    expect(resolveFactor(config, 'r', 'data', '/r/g/G1/data/b/k', 3)).toBe(3)
    expect(resolveFactor(config, 'r', 'data', '/r/g/G1/meta/x', 3)).toBe(2)
    expect(resolveFactor(config, 'r', 'metadata', '/r/g/G1/data/b/k', 3)).toBe(4)
    expect(resolveFactor(config, 'r', 'data', '/r/g/G2', 3)).toBe(9)
  })

  it('turns "all" into the node count, never below one', () => {
    expect(resolveFactor(config, 'r', 'metadata', '/r/x', 5)).toBe(5)
    expect(resolveFactor(config, 'r', 'metadata', '/r/x', 0)).toBe(1)
  })
})

describe('configWarnings', () => {
  it('lists the default, then groups by id, then prefixes in order, skipping "all"', () => {
    const warnings = configWarnings(config, 3)
    expect(warnings.map((w) => [w.target, w.kind, w.factor])).toEqual([
      [{ scope: 'group', groupId: 'G1' }, 'metadata', 4],
      [{ scope: 'group', groupId: 'G2' }, 'data', 9],
      [{ scope: 'path', prefix: '/r/g/G1/data' }, 'data', 6],
    ])
    expect(warnings[0]?.message).toContain('3 node')
    expect(configWarnings(config, 10)).toEqual([])
  })
})
