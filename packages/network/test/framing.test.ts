import { describe, expect, it } from 'vitest'
import { decodeVarint, encodeFrame, encodeVarint, FrameDecoder, NetworkError } from '../src/index.js'
import { expectNetworkErrorSync } from '../src/testing/index.js'

function frames(items: Array<Uint8Array | NetworkError>): Array<number[] | string> {
  return items.map((item) => (item instanceof NetworkError ? item.code : [...item]))
}

describe('varint', () => {
  it('round-trips lengths across byte boundaries', () => {
    for (const value of [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 31, 2 ** 35 - 1]) {
      const bytes = encodeVarint(value)
      expect(decodeVarint(bytes)).toEqual({ value, next: bytes.byteLength })
    }
    expect([...encodeVarint(300)]).toEqual([0xac, 0x02])
  })

  it('reports a truncated varint as incomplete and an overlong one as MalformedMessage', () => {
    expect(decodeVarint(Uint8Array.of(0x80))).toBeUndefined()
    expectNetworkErrorSync(
      () => decodeVarint(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x01)),
      'MalformedMessage',
    )
    expectNetworkErrorSync(() => encodeVarint(-1), 'InvalidArgument')
    expectNetworkErrorSync(() => encodeVarint(1.5), 'InvalidArgument')
  })
})

describe('FrameDecoder', () => {
  it('reassembles frames from chunks split anywhere, byte by byte included', () => {
    const stream = Buffer.concat([
      encodeFrame(Uint8Array.of(1, 2, 3)),
      encodeFrame(new Uint8Array(0)),
      encodeFrame(new Uint8Array(200).fill(7)),
    ])
    const decoder = new FrameDecoder({ maxFrameBytes: 1000 })
    const out: Array<Uint8Array | NetworkError> = []
    for (const byte of stream) out.push(...decoder.push(Uint8Array.of(byte)))
    expect(frames(out)).toEqual([[1, 2, 3], [], new Array(200).fill(7)])
    expect(decoder.atBoundary).toBe(true)
    const whole = new FrameDecoder({ maxFrameBytes: 1000 })
    expect(frames(whole.push(stream))).toEqual(frames(out))
  })

  it('skips an oversized frame without buffering it and decodes the frames after it', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 4 })
    const big = encodeFrame(new Uint8Array(10))
    expect(frames(decoder.push(big.subarray(0, 5)))).toEqual(['MessageTooLarge'])
    expect(decoder.atBoundary).toBe(false)
    expect(frames(decoder.push(Buffer.concat([big.subarray(5), encodeFrame(Uint8Array.of(4))])))).toEqual([
      [4],
    ])
  })

  it('gives up for good on a broken length prefix', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 4 })
    expectNetworkErrorSync(() => decoder.push(new Uint8Array(6).fill(0xff)), 'MalformedMessage')
    expectNetworkErrorSync(() => decoder.push(encodeFrame(Uint8Array.of(1))), 'MalformedMessage')
    expectNetworkErrorSync(() => new FrameDecoder({ maxFrameBytes: -1 }), 'InvalidArgument')
  })
})
