import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../src/logger.js'

function collect(stream: PassThrough): () => string {
  let text = ''
  stream.on('data', (d) => {
    text += d.toString()
  })
  return () => text
}

describe('logger', () => {
  it('writes one JSON object per line in json format', () => {
    const out = new PassThrough()
    const text = collect(out)
    createLogger({ level: 'info', format: 'json', destination: out }).info({ a: 1 }, 'hello')
    const line = JSON.parse(text().trim())
    expect(line).toMatchObject({ msg: 'hello', a: 1, level: 30, service: 'aruna' })
  })

  it('writes human-readable lines in pretty format and on a terminal in auto format', () => {
    const out = new PassThrough()
    const text = collect(out)
    createLogger({ level: 'info', format: 'pretty', destination: out }).info('hello there')
    expect(text()).toContain('hello there')
    expect(() => JSON.parse(text().trim())).toThrow()

    const tty = Object.assign(new PassThrough(), { isTTY: true })
    const ttyText = collect(tty)
    createLogger({ level: 'info', format: 'auto', destination: tty }).warn('on a terminal')
    expect(ttyText()).toContain('on a terminal')
    expect(ttyText()).not.toContain('"msg"')
  })

  it('drops lines below the configured level', () => {
    const out = new PassThrough()
    const text = collect(out)
    const logger = createLogger({ level: 'warn', format: 'json', destination: out })
    logger.info('quiet')
    logger.error('loud')
    expect(text()).not.toContain('quiet')
    expect(text()).toContain('loud')
  })
})
