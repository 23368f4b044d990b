import { describe, expect, it } from 'vitest'
import {
  isDataError,
  type ReplicationConfig,
  replicationFactorFor,
  validateReplicationConfig,
} from '../src/index.js'

describe('replicationFactorFor', () => {
  const config: ReplicationConfig = {
    realm: 2,
    groups: { G1: 3, G2: 'all' },
    paths: { '/r/g/G1/data/raw': 1, '/r/g/G1/data/raw/keep': 5, '/r/g/G3/': 4 },
  }

  it('takes the longest covering path prefix, then the group, then the realm', () => {
    expect(replicationFactorFor(config, { group: 'G1', path: '/r/g/G1/data/raw/keep/x' })).toBe(5)
    expect(replicationFactorFor(config, { group: 'G1', path: '/r/g/G1/data/raw/x' })).toBe(1)
    expect(replicationFactorFor(config, { group: 'G1', path: '/r/g/G1/data/raw' })).toBe(1)
    expect(replicationFactorFor(config, { group: 'G1', path: '/r/g/G1/data/rawer' })).toBe(3)
    expect(replicationFactorFor(config, { group: 'G2', path: '/r/g/G2/data/b/k' })).toBe('all')
    expect(replicationFactorFor(config, { group: 'G3', path: '/r/g/G3/data/b/k' })).toBe(4)
    expect(replicationFactorFor(config, { group: 'G9' })).toBe(2)
    expect(replicationFactorFor(config)).toBe(2)
    expect(replicationFactorFor({ realm: 1 }, { group: 'toString', path: '/x' })).toBe(1)
  })

  it('accepts integers from 1 to 1000 and all, and refuses any other factor', () => {
    expect(() => validateReplicationConfig(config)).not.toThrow()
    const bad: unknown[] = [0, -1, 1.5, 1001, 'ALL', null, '3']
    for (const factor of bad) {
      for (const candidate of [
        { realm: factor },
        { realm: 1, groups: { G: factor } },
        { realm: 1, paths: { '/p': factor } },
      ]) {
        let code: string | undefined
        try {
          validateReplicationConfig(candidate as ReplicationConfig)
        } catch (err) {
          if (isDataError(err)) code = err.code
        }
        expect(code, JSON.stringify(candidate)).toBe('InvalidArgument')
      }
    }
  })
})
