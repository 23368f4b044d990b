/** When the `aruna` process starts itself again with the node's memory settings (`server-heap.ts`). */
import { describe, expect, it } from 'vitest'
import { NODE_MALLOC_ENV, NODE_SEMI_SPACE_MIB, serverRelaunch } from '../src/server-heap.js'

const NODE = '/usr/bin/node'
const SCRIPT = '/opt/aruna/dist/cli.js'
const SET = { MALLOC_ARENA_MAX: '4' }

describe('serverRelaunch', () => {
  it('starts `start` and `join` again with the semi-space size, keeping Node flags and arguments', () => {
    expect(serverRelaunch(NODE, ['--cpu-prof'], [NODE, SCRIPT, 'start', '--port', '0'], SET)?.args).toEqual([
      NODE,
      `--max-semi-space-size=${NODE_SEMI_SPACE_MIB}`,
      '--cpu-prof',
      SCRIPT,
      'start',
      '--port',
      '0',
    ])
    expect(
      serverRelaunch(NODE, [], [NODE, SCRIPT, 'join', 'x', '--log-level', 'info'], SET)?.args.slice(2),
    ).toEqual([SCRIPT, 'join', 'x', '--log-level', 'info'])
  })

  it("adds the allocator's settings to the environment, keeping the rest and an operator's own values", () => {
    expect(NODE_MALLOC_ENV).toEqual({ MALLOC_ARENA_MAX: '2' })
    const fresh = serverRelaunch(NODE, [], [NODE, SCRIPT, 'start'], { HOME: '/home/a', PATH: '/bin' })
    expect(fresh?.env).toEqual({ HOME: '/home/a', PATH: '/bin', ...NODE_MALLOC_ENV })
    // The operator's own value is kept (the semi-space flag still brings the process round again).
    const own = serverRelaunch(NODE, [], [NODE, SCRIPT, 'start'], { MALLOC_ARENA_MAX: '8' })
    expect(own?.env).toEqual({ MALLOC_ARENA_MAX: '8' })
    // A chosen heap size and a missing allocator setting: the flag is not added twice.
    const chosen = serverRelaunch(NODE, ['--max-semi-space-size=16'], [NODE, SCRIPT, 'start'], { HOME: '/' })
    expect(chosen?.args).toEqual([NODE, '--max-semi-space-size=16', SCRIPT, 'start'])
    expect(chosen?.env).toEqual({ HOME: '/', MALLOC_ARENA_MAX: '2' })
    // An empty value is a value chosen.
    expect(
      serverRelaunch(NODE, ['--max-semi-space-size=16'], [NODE, SCRIPT, 'start'], { MALLOC_ARENA_MAX: '' }),
    ).toBeUndefined()
  })

  it('leaves every other command, and settings all chosen already, alone', () => {
    expect(serverRelaunch(NODE, [], [NODE, SCRIPT, 'status'], {})).toBeUndefined()
    expect(serverRelaunch(NODE, [], [NODE, SCRIPT], {})).toBeUndefined()
    expect(serverRelaunch(NODE, [], [NODE, SCRIPT, '--help', 'start'], {})).toBeUndefined()
    expect(serverRelaunch(NODE, ['--max-semi-space-size=16'], [NODE, SCRIPT, 'start'], SET)).toBeUndefined()
    expect(
      serverRelaunch(NODE, [], [NODE, SCRIPT, 'start'], { NODE_OPTIONS: '--max-semi-space-size=8', ...SET }),
    ).toBeUndefined()
  })

  it('needs no third start: what it adds is what it then finds', () => {
    const first = serverRelaunch(NODE, [], [NODE, SCRIPT, 'start'], {})
    expect(first).toBeDefined()
    const [, flag, ...argv] = first!.args
    expect(serverRelaunch(NODE, [flag!], [NODE, ...argv], first!.env)).toBeUndefined()
  })
})
