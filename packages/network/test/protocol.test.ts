import { describe, expect, it } from 'vitest'
import {
  assertContentId,
  assertPeerId,
  bytesCodec,
  DEFAULT_MAX_MESSAGE_BYTES,
  decodeReply,
  defineProtocol,
  describeError,
  encodeReply,
  isNetworkError,
  NetworkError,
  toNetworkError,
} from '../src/index.js'
import { expectNetworkErrorSync } from '../src/testing/index.js'

describe('defineProtocol', () => {
  it('accepts versioned Aruna protocol ids and defaults the size limit', () => {
    const protocol = defineProtocol({
      id: '/aruna/data-chunks/2.0.0',
      request: bytesCodec,
      response: bytesCodec,
    })
    expect(protocol.maxMessageBytes).toBe(DEFAULT_MAX_MESSAGE_BYTES)
    expect(Object.isFrozen(protocol)).toBe(true)
  })

  it('refuses malformed ids, the handshake id, bad limits and missing codecs', () => {
    const codecs = { request: bytesCodec, response: bytesCodec }
    for (const id of [
      '/aruna/data/1.0',
      '/aruna/data/0.0.0',
      'aruna/data/1.0.0',
      '/aruna//1.0.0',
      '/aruna/hello/1.0.0',
    ]) {
      expectNetworkErrorSync(() => defineProtocol({ id, ...codecs }), 'InvalidArgument')
    }
    for (const maxMessageBytes of [0, -1, 1.5, Number.NaN]) {
      expectNetworkErrorSync(
        () => defineProtocol({ id: '/aruna/x/1.0.0', ...codecs, maxMessageBytes }),
        'InvalidArgument',
      )
    }
    expectNetworkErrorSync(
      () => defineProtocol({ id: '/aruna/x/1.0.0', request: bytesCodec, response: {} as never }),
      'InvalidArgument',
    )
  })
})

describe('identifiers', () => {
  it('accepts printable peer and content ids and refuses the rest', () => {
    assertPeerId('12D3KooWabc')
    assertContentId('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
    for (const bad of ['', 'a\u0000b', 'x'.repeat(257), 42])
      expectNetworkErrorSync(() => assertPeerId(bad), 'InvalidArgument')
    for (const bad of ['', 'del\u007f', 'x'.repeat(513), null]) {
      expectNetworkErrorSync(() => assertContentId(bad), 'InvalidArgument')
    }
  })
})

describe('replies', () => {
  it('round-trips a success and the errors a serving node may send', () => {
    const ok = decodeReply(encodeReply({ ok: true, payload: Uint8Array.of(5, 6) }))
    expect(ok.ok && [...ok.payload]).toEqual([5, 6])
    const failed = decodeReply(
      encodeReply({ ok: false, error: new NetworkError('NoHandler', 'no such protocol') }),
    )
    expect(!failed.ok && [failed.error.code, failed.error.message]).toEqual(['NoHandler', 'no such protocol'])
  })

  it('sends codes a serving node has no business sending as HandlerFailed, and never a stack', () => {
    const err = new NetworkError('Timeout', 'upstream timed out\n    at secret (/srv/x.js:1:1)')
    const reply = decodeReply(encodeReply({ ok: false, error: err }))
    expect(!reply.ok && [reply.error.code, reply.error.message]).toEqual([
      'HandlerFailed',
      'upstream timed out',
    ])
  })

  it('refuses malformed replies with MalformedMessage', () => {
    const body = (text: string) => Buffer.concat([Uint8Array.of(1), new TextEncoder().encode(text)])
    for (const frame of [
      new Uint8Array(0),
      Uint8Array.of(2),
      body('not json'),
      body('null'),
      body('{"code":"Timeout","message":"x"}'),
      body('{"code":"NoHandler"}'),
      body(`{"code":"NoHandler","message":"${'x'.repeat(2000)}"}`),
    ]) {
      expectNetworkErrorSync(() => decodeReply(frame), 'MalformedMessage')
    }
  })
})

describe('errors', () => {
  it('describes errors in one safe line', () => {
    expect(describeError(new Error('first\nsecond'))).toBe('first')
    expect(describeError('tab\there')).toBe('tab here')
    expect(describeError(42)).toBe('unknown error')
    expect(describeError(new Error('y'.repeat(300)))).toHaveLength(201)
  })

  it('wraps foreign errors and keeps network errors as they are', () => {
    const own = new NetworkError('Timeout', 'slow')
    expect(toNetworkError(own, 'Aborted', 'x')).toBe(own)
    const wrapped = toNetworkError(new TypeError('bad'), 'InvalidArgument', 'wrapped')
    expect([wrapped.code, wrapped.message, wrapped.cause instanceof TypeError]).toEqual([
      'InvalidArgument',
      'wrapped',
      true,
    ])
    expect(isNetworkError(own, 'Timeout')).toBe(true)
    expect(isNetworkError(own, 'Aborted')).toBe(false)
    expect(isNetworkError(new Error('x'))).toBe(false)
  })
})
