/** When the `aruna` process starts itself again with the node's memory settings (`server-heap.ts`). */
import { describe, expect, it } from 'vitest'
import {
  findJemalloc,
  JEMALLOC_CONF,
  JEMALLOC_PATHS,
  NODE_HEAP_GROWING_PERCENT,
  NODE_MALLOC_ENV,
  NODE_SEMI_SPACE_MIB,
  NODE_V8_FLAGS,
  nodeMallocEnv,
  serverRelaunch,
} from '../src/server-heap.js'

const NODE = '/usr/bin/node'
const SCRIPT = '/opt/aruna/dist/cli.js'
const SET = { MALLOC_ARENA_MAX: '4' }
const SEMI = `--max-semi-space-size=${NODE_SEMI_SPACE_MIB}`
const EXTERNAL = '--external-memory-accounted-in-global-limit'
const GROWING = `--heap-growing-percent=${NODE_HEAP_GROWING_PERCENT}`
const ALL_FLAGS = [SEMI, EXTERNAL, GROWING]
const LIB = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'

describe('serverRelaunch', () => {
  it('starts `start` and `join` again with the V8 flags, keeping Node flags and arguments', () => {
    expect(NODE_V8_FLAGS.map(({ arg }) => arg)).toEqual(ALL_FLAGS)
    expect(serverRelaunch(NODE, ['--cpu-prof'], [NODE, SCRIPT, 'start', '--port', '0'], SET)?.args).toEqual([
      NODE,
      ...ALL_FLAGS,
      '--cpu-prof',
      SCRIPT,
      'start',
      '--port',
      '0',
    ])
    expect(
      serverRelaunch(NODE, [], [NODE, SCRIPT, 'join', 'x', '--log-level', 'info'], SET)?.args.slice(
        1 + ALL_FLAGS.length,
      ),
    ).toEqual([SCRIPT, 'join', 'x', '--log-level', 'info'])
  })

  it('adds only the flags not chosen already, in any spelling, also turned off', () => {
    const args = (execArgv: string[], env: Record<string, string> = SET) =>
      serverRelaunch(NODE, execArgv, [NODE, SCRIPT, 'start'], env)?.args
    expect(args(['--max-semi-space-size=16'])).toEqual([
      NODE,
      EXTERNAL,
      GROWING,
      '--max-semi-space-size=16',
      SCRIPT,
      'start',
    ])
    expect(args(['--max_semi_space_size=16'])).toEqual([
      NODE,
      EXTERNAL,
      GROWING,
      '--max_semi_space_size=16',
      SCRIPT,
      'start',
    ])
    expect(args(['--no-external-memory-accounted-in-global-limit'])).toEqual([
      NODE,
      SEMI,
      GROWING,
      '--no-external-memory-accounted-in-global-limit',
      SCRIPT,
      'start',
    ])
    expect(args([], { ...SET, NODE_OPTIONS: '--max-semi-space-size=4  --inspect' })).toEqual([
      NODE,
      EXTERNAL,
      GROWING,
      SCRIPT,
      'start',
    ])
    // A flag that merely starts like one of ours is another flag.
    expect(args(['--max-semi-space-size-typo=1'])).toEqual([
      NODE,
      ...ALL_FLAGS,
      '--max-semi-space-size-typo=1',
      SCRIPT,
      'start',
    ])
  })

  it("adds the allocator's settings to the environment, keeping the rest and an operator's own values", () => {
    expect(NODE_MALLOC_ENV).toEqual({ MALLOC_ARENA_MAX: '2' })
    const fresh = serverRelaunch(NODE, [], [NODE, SCRIPT, 'start'], { HOME: '/home/a', PATH: '/bin' })
    expect(fresh?.env).toEqual({ HOME: '/home/a', PATH: '/bin', ...NODE_MALLOC_ENV })
    // The operator's own value is kept (the V8 flags still bring the process round again).
    const own = serverRelaunch(NODE, [], [NODE, SCRIPT, 'start'], { MALLOC_ARENA_MAX: '8' })
    expect(own?.env).toEqual({ MALLOC_ARENA_MAX: '8' })
    // Every flag chosen and an allocator setting missing: no flag is added twice.
    const chosen = serverRelaunch(
      NODE,
      ['--max-semi-space-size=16', EXTERNAL, GROWING],
      [NODE, SCRIPT, 'start'],
      {
        HOME: '/',
      },
    )
    expect(chosen?.args).toEqual([NODE, '--max-semi-space-size=16', EXTERNAL, GROWING, SCRIPT, 'start'])
    expect(chosen?.env).toEqual({ HOME: '/', MALLOC_ARENA_MAX: '2' })
    // An empty value is a value chosen.
    expect(
      serverRelaunch(NODE, ['--max-semi-space-size=16', EXTERNAL, GROWING], [NODE, SCRIPT, 'start'], {
        MALLOC_ARENA_MAX: '',
      }),
    ).toBeUndefined()
  })

  it('leaves every other command, and settings all chosen already, alone', () => {
    expect(serverRelaunch(NODE, [], [NODE, SCRIPT, 'status'], {})).toBeUndefined()
    expect(serverRelaunch(NODE, [], [NODE, SCRIPT], {})).toBeUndefined()
    expect(serverRelaunch(NODE, [], [NODE, SCRIPT, '--help', 'start'], {})).toBeUndefined()
    expect(
      serverRelaunch(NODE, ['--max-semi-space-size=16', EXTERNAL, GROWING], [NODE, SCRIPT, 'start'], SET),
    ).toBeUndefined()
    expect(
      serverRelaunch(NODE, [], [NODE, SCRIPT, 'start'], {
        NODE_OPTIONS: `--max-semi-space-size=8 ${EXTERNAL} ${GROWING}`,
        ...SET,
      }),
    ).toBeUndefined()
  })

  it('needs no third start: what it adds is what it then finds', () => {
    for (const jemalloc of [undefined, LIB]) {
      const first = serverRelaunch(NODE, [], [NODE, SCRIPT, 'start'], {}, jemalloc)
      expect(first).toBeDefined()
      const [, ...rest] = first!.args
      const flags = rest.slice(0, NODE_V8_FLAGS.length)
      const argv = rest.slice(NODE_V8_FLAGS.length)
      expect(serverRelaunch(NODE, flags, [NODE, ...argv], first!.env, jemalloc)).toBeUndefined()
    }
  })

  it('puts the node on jemalloc where it is installed, unless the environment chose otherwise', () => {
    const envOf = (env: Record<string, string>, jemalloc: string | null = LIB) =>
      serverRelaunch(NODE, [], [NODE, SCRIPT, 'start'], env, jemalloc ?? undefined)?.env
    expect(envOf({ HOME: '/' })).toEqual({
      HOME: '/',
      MALLOC_ARENA_MAX: '2',
      LD_PRELOAD: LIB,
      MALLOC_CONF: JEMALLOC_CONF,
    })
    expect(JEMALLOC_CONF).toContain('background_thread:true')
    expect(JEMALLOC_CONF).toContain('oversize_threshold:0')
    // Not installed: glibc's setting only.
    expect(envOf({ HOME: '/' }, null)).toEqual({ HOME: '/', MALLOC_ARENA_MAX: '2' })
    // `LD_PRELOAD=` keeps glibc's allocator; an operator's own library and configuration are kept.
    expect(envOf({ LD_PRELOAD: '' })?.LD_PRELOAD).toBe('')
    expect(envOf({ LD_PRELOAD: '/opt/lib/libtcmalloc.so' })?.LD_PRELOAD).toBe('/opt/lib/libtcmalloc.so')
    expect(envOf({ MALLOC_CONF: 'narenas:1' })).toMatchObject({ LD_PRELOAD: LIB, MALLOC_CONF: 'narenas:1' })
    // Every variable and flag chosen already: no restart at all.
    expect(
      serverRelaunch(
        NODE,
        ALL_FLAGS,
        [NODE, SCRIPT, 'start'],
        { ...SET, LD_PRELOAD: '', MALLOC_CONF: '' },
        LIB,
      ),
    ).toBeUndefined()
    expect(nodeMallocEnv(undefined)).toEqual(NODE_MALLOC_ENV)
  })

  it('finds jemalloc at the first of the places distributions install it', () => {
    const seen: string[] = []
    const found = findJemalloc((path) => {
      seen.push(path)
      return path === JEMALLOC_PATHS[2]
    })
    expect(found).toBe(process.platform === 'linux' ? JEMALLOC_PATHS[2] : undefined)
    if (process.platform === 'linux') expect(seen).toEqual(JEMALLOC_PATHS.slice(0, 3))
    expect(findJemalloc(() => false)).toBeUndefined()
  })
})
