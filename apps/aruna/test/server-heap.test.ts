/** When the `aruna` process starts itself again with the node's heap settings (`server-heap.ts`). */
import { describe, expect, it } from 'vitest'
import { NODE_SEMI_SPACE_MIB, serverRelaunchArgs } from '../src/server-heap.js'

const NODE = '/usr/bin/node'
const SCRIPT = '/opt/aruna/dist/cli.js'

describe('serverRelaunchArgs', () => {
  it('starts `start` and `join` again with the semi-space size, keeping Node flags and arguments', () => {
    expect(serverRelaunchArgs(NODE, ['--cpu-prof'], [NODE, SCRIPT, 'start', '--port', '0'], {})).toEqual([
      NODE,
      `--max-semi-space-size=${NODE_SEMI_SPACE_MIB}`,
      '--cpu-prof',
      SCRIPT,
      'start',
      '--port',
      '0',
    ])
    expect(
      serverRelaunchArgs(NODE, [], [NODE, SCRIPT, 'join', 'x', '--log-level', 'info'], {})?.slice(2),
    ).toEqual([SCRIPT, 'join', 'x', '--log-level', 'info'])
  })

  it('leaves every other command, and a size chosen already, alone', () => {
    expect(serverRelaunchArgs(NODE, [], [NODE, SCRIPT, 'status'], {})).toBeUndefined()
    expect(serverRelaunchArgs(NODE, [], [NODE, SCRIPT], {})).toBeUndefined()
    expect(serverRelaunchArgs(NODE, [], [NODE, SCRIPT, '--help', 'start'], {})).toBeUndefined()
    expect(
      serverRelaunchArgs(NODE, ['--max-semi-space-size=16'], [NODE, SCRIPT, 'start'], {}),
    ).toBeUndefined()
    expect(
      serverRelaunchArgs(NODE, [], [NODE, SCRIPT, 'start'], { NODE_OPTIONS: '--max-semi-space-size=8' }),
    ).toBeUndefined()
  })
})
