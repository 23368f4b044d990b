import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, parseConfigText } from '../src/config.js'

function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

async function configErrorAsync(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('configuration', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aruna-config-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('fills every key from embedded defaults when nothing is given', async () => {
    const config = await loadConfig({ env: {} })
    expect(config.dataDir).toBe('./.aruna')
    expect(config.rest).toEqual({ host: '127.0.0.1', port: 8080, corsOrigins: [] })
    expect(config.s3).toEqual({ host: '127.0.0.1', port: 9000 })
    expect(config.realm.name).toBe('default')
    expect(config.dev.login).toBe('auto')
    expect(config.dev.oidcPort).toBe(0)
    expect(config.p2p.listen).toEqual([])
    expect(config.log.level).toBe('info')
  })

  it('lets the file override defaults, the environment override the file, and flags override both', async () => {
    const file = join(dir, 'aruna.json')
    await writeFile(
      file,
      JSON.stringify({ rest: { port: 1000, host: '0.0.0.0' }, s3: { port: 2000 }, dataDir: '/a' }),
    )
    const config = await loadConfig({
      file,
      env: { ARUNA_REST_PORT: '1001', ARUNA_DATA_DIR: '/b' },
      flags: [{ flag: '--port', key: 'rest.port', value: '1002' }],
    })
    expect(config.rest).toEqual({ host: '0.0.0.0', port: 1002, corsOrigins: [] })
    expect(config.s3.port).toBe(2000)
    expect(config.dataDir).toBe('/b')
  })

  it('reads the file named by ARUNA_CONFIG when no file is given', async () => {
    const file = join(dir, 'c.json')
    await writeFile(file, '{"realm":{"name":"lab-7"}}')
    expect((await loadConfig({ env: { ARUNA_CONFIG: file } })).realm.name).toBe('lab-7')
  })

  it('splits comma-separated lists from the environment and coerces booleans', async () => {
    const config = await loadConfig({
      env: { ARUNA_P2P_BOOTSTRAP: '/ip4/127.0.0.1/tcp/1, /ip4/127.0.0.1/tcp/2', ARUNA_DEV_LOGIN: 'off' },
    })
    expect(config.p2p.bootstrap).toEqual(['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'])
    expect(config.dev.login).toBe(false)
  })

  it('names the key, the flag that set it, and the allowed range for a bad port', async () => {
    const err = await configErrorAsync(
      loadConfig({ env: {}, flags: [{ flag: '--port', key: 'rest.port', value: 'notanumber' }] }),
    )
    expect(err.key).toBe('rest.port')
    expect(err.origin).toBe('flag --port')
    expect(err.message).toContain('from 0 to 65535')
    expect(err.message).toContain('"notanumber"')
    expect(err.message).not.toContain('\n')
  })

  it('refuses out-of-range and fractional ports', () => {
    expect(configError(() => parseConfigText('{"s3":{"port":70000}}')).key).toBe('s3.port')
    expect(configError(() => parseConfigText('{"s3":{"port":1.5}}')).key).toBe('s3.port')
    expect(configError(() => parseConfigText('{"rest":{"port":-1}}')).key).toBe('rest.port')
  })

  it('keeps small chunks in the database up to 64 KiB by default; 0 turns it off; anything else outside 0..1 MiB is refused', async () => {
    expect((await loadConfig({ env: {} })).data.smallChunkBytes).toBe(65536)
    expect((await loadConfig({ env: { ARUNA_DATA_SMALL_CHUNK_BYTES: '0' } })).data.smallChunkBytes).toBe(0)
    const err = await configErrorAsync(loadConfig({ env: { ARUNA_DATA_SMALL_CHUNK_BYTES: '2000000' } }))
    expect(err.key).toBe('data.smallChunkBytes')
    expect(err.origin).toBe('environment variable ARUNA_DATA_SMALL_CHUNK_BYTES')
  })

  it('names the environment variable that carried a bad value', async () => {
    const err = await configErrorAsync(loadConfig({ env: { ARUNA_LOG_LEVEL: 'loud' } }))
    expect(err.key).toBe('log.level')
    expect(err.origin).toBe('environment variable ARUNA_LOG_LEVEL')
    expect(err.message).toContain('must be one of fatal, error, warn, info, debug, trace, silent')
  })

  it('refuses unknown keys in a file, with the key path', () => {
    const err = configError(() => parseConfigText('{"rest":{"prot":1}}', 'file x.json'))
    expect(err.key).toBe('rest.prot')
    expect(err.message).toContain('unknown configuration key "rest.prot" (from file x.json)')
  })

  it('refuses unknown ARUNA_ environment variables so typos are not silently ignored', async () => {
    const err = await configErrorAsync(loadConfig({ env: { ARUNA_REST_PROT: '1' } }))
    expect(err.key).toBe('ARUNA_REST_PROT')
    expect(err.message).toContain('ARUNA_REST_PORT')
  })

  it('reports a file that is not JSON, not an object, or missing', async () => {
    expect(configError(() => parseConfigText('{rest:')).message).toContain('is not valid JSON')
    expect(configError(() => parseConfigText('[1,2]')).message).toContain('must hold a JSON object')
    expect(configError(() => parseConfigText('null')).message).toContain('must hold a JSON object')
    const missing = await configErrorAsync(loadConfig({ file: join(dir, 'nope.json'), env: {} }))
    expect(missing.message).toContain('does not exist')
    const notAFile = await configErrorAsync(loadConfig({ file: dir, env: {} }))
    expect(notAFile.message).toContain('cannot be read (EISDIR)')
  })

  it('refuses a realm name that is not a DNS-style label and a host with spaces', () => {
    expect(configError(() => parseConfigText('{"realm":{"name":"My Realm"}}')).key).toBe('realm.name')
    expect(configError(() => parseConfigText('{"rest":{"host":"local host"}}')).key).toBe('rest.host')
    expect(configError(() => parseConfigText('{"p2p":{"listen":["tcp/1"]}}')).key).toBe('p2p.listen.0')
  })

  it('shortens very long bad values in the message', () => {
    const err = configError(() => parseConfigText(JSON.stringify({ log: { format: 'x'.repeat(500) } })))
    expect(err.message.length).toBeLessThan(200)
  })

  it('refuses a __proto__ key instead of letting it change the defaults (found by fuzzing)', () => {
    expect(configError(() => parseConfigText('{"__proto__":{"dataDir":"/etc"}}')).key).toBe('__proto__')
    expect(configError(() => parseConfigText('{"rest":{"__proto__":{"port":1}}}')).key).toBe('rest.__proto__')
  })

  it('refuses a section given as a scalar', () => {
    expect(configError(() => parseConfigText('{"rest":5}')).key).toBe('rest')
  })
})
