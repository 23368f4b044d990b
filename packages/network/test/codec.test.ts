import { describe, expect, it } from 'vitest'
import { bytesCodec, encodeVarint, MAX_MESSAGE_DEPTH, messageCodec, NetworkError } from '../src/index.js'
import { expectNetworkErrorSync } from '../src/testing/index.js'

type Put =
  | { kind: 'put'; key: string; chunks: Uint8Array[]; meta: { size: number; tags: string[] } }
  | { kind: 'ping' }

const anything = messageCodec<unknown>((value) => value)
const puts = messageCodec<Put>((value) => {
  const v = value as Partial<Put> | null
  if (v?.kind === 'ping') return { kind: 'ping' }
  if (v?.kind === 'put' && typeof v.key === 'string' && Array.isArray(v.chunks)) return v as Put
  throw new Error('not a put\n    at validate (/srv/internal.js:1:1)')
})
const encoder = new TextEncoder()

/** A message as a hostile peer might hand-craft it: any header, any trailing parts. */
function crafted(header: string, ...parts: Uint8Array[]): Uint8Array {
  const json = encoder.encode(header)
  return Buffer.concat([encodeVarint(json.byteLength), json, ...parts])
}

describe('messageCodec', () => {
  it('round-trips a discriminated union with binary fields kept as raw bytes', () => {
    const message: Put = {
      kind: 'put',
      key: 'a/b',
      chunks: [Uint8Array.of(1, 2, 3), new Uint8Array(0), Uint8Array.of(255)],
      meta: { size: 4, tags: ['x'] },
    }
    const bytes = puts.encode(message)
    // The bytes travel raw after the JSON header, not as base64 or number arrays.
    expect(
      Buffer.from(bytes)
        .subarray(-4)
        .equals(Buffer.from([1, 2, 3, 255])),
    ).toBe(true)
    const decoded = puts.decode(bytes)
    expect(decoded).toEqual(message)
    expect(decoded.kind === 'put' && decoded.chunks[0]).toBeInstanceOf(Uint8Array)
    expect(puts.decode(puts.encode({ kind: 'ping' }))).toEqual({ kind: 'ping' })
  })

  it('leaves out undefined object fields and turns undefined array items into null, as JSON does', () => {
    expect(anything.decode(anything.encode({ a: undefined, b: [undefined, 1] }))).toEqual({ b: [null, 1] })
    expect(anything.decode(anything.encode(Object.assign(Object.create(null), { x: 1 })))).toEqual({ x: 1 })
  })

  it('refuses to encode values JSON cannot carry faithfully with InvalidArgument', () => {
    for (const value of [
      { n: Number.NaN },
      { n: Number.POSITIVE_INFINITY },
      { big: 1n },
      { when: new Date(0) },
      { f: () => 1 },
      { $bin: 0 },
      new Map(),
      undefined,
    ]) {
      expectNetworkErrorSync(() => anything.encode(value), 'InvalidArgument')
    }
    let deep: unknown = 1
    for (let i = 0; i <= MAX_MESSAGE_DEPTH; i++) deep = [deep]
    expectNetworkErrorSync(() => anything.encode(deep), 'InvalidArgument')
  })

  it('turns every kind of hostile input into MalformedMessage', () => {
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
      Uint8Array.of(10, 0x7b),
      crafted('not json'),
      Buffer.concat([encodeVarint(2), Uint8Array.of(0xc3, 0x28)]),
      crafted('[1,2]'),
      crafted('{"m":1}'),
      crafted('{"m":1,"b":{}}'),
      crafted('{"m":1,"b":[],"x":0}'),
      crafted('{"m":1,"b":[-1]}'),
      crafted('{"m":1,"b":[1.5]}', Uint8Array.of(1, 2)),
      crafted('{"m":1,"b":[5]}', Uint8Array.of(1)),
      crafted('{"m":1,"b":[]}', Uint8Array.of(1)),
      crafted('{"m":{"$bin":1},"b":[1]}', Uint8Array.of(1)),
      crafted('{"m":{"$bin":"0"},"b":[1]}', Uint8Array.of(1)),
      crafted('{"m":[{"$bin":0},{"$bin":0}],"b":[1]}', Uint8Array.of(1)),
      crafted('{"m":1,"b":[1]}', Uint8Array.of(1)),
      crafted(`{"m":${'['.repeat(MAX_MESSAGE_DEPTH + 1)}${']'.repeat(MAX_MESSAGE_DEPTH + 1)},"b":[]}`),
      crafted(`{"m":${'['.repeat(100_000)}${']'.repeat(100_000)},"b":[]}`),
    ]
    for (const bytes of cases) expectNetworkErrorSync(() => anything.decode(bytes), 'MalformedMessage')
    expectNetworkErrorSync(() => anything.decode('nope' as never), 'MalformedMessage')
  })

  it('reports a validator failure as MalformedMessage with only its first line', () => {
    const err = expectNetworkErrorSync(
      () => puts.decode(anything.encode({ kind: 'other' })),
      'MalformedMessage',
    )
    expect(err.message).toBe('invalid message: not a put')
    expect(err.cause).toBeInstanceOf(Error)
  })

  it('keeps a hostile __proto__ key a plain property', () => {
    const decoded = anything.decode(crafted('{"m":{"__proto__":{"polluted":true},"ok":1},"b":[]}')) as Record<
      string,
      unknown
    >
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype)
    expect(Object.hasOwn(decoded, '__proto__')).toBe(true)
    expect((decoded as { polluted?: unknown }).polluted).toBeUndefined()
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
  })

  it('encodes a decoded __proto__ key back as a plain key, so decode and encode agree (found by fuzzing)', () => {
    const decoded = anything.decode(crafted('{"m":{"__proto__":{"x":1},"ok":1},"b":[]}'))
    const again = anything.decode(anything.encode(decoded)) as Record<string, unknown>
    expect(Object.hasOwn(again, '__proto__')).toBe(true)
    expect(Object.getOwnPropertyDescriptor(again, '__proto__')?.value).toEqual({ x: 1 })
    expect(again.ok).toBe(1)
  })

  it('refuses numbers JSON reads as Infinity, which no sender can encode (found by fuzzing)', () => {
    expectNetworkErrorSync(() => anything.decode(crafted('{"m":{"n":1e999},"b":[]}')), 'MalformedMessage')
    expectNetworkErrorSync(() => anything.decode(crafted('{"m":[-1e999],"b":[]}')), 'MalformedMessage')
  })

  it('reads -0 as 0, as encoding writes it, so a decoded message survives a round trip', () => {
    const decoded = anything.decode(crafted('{"m":{"n":-0,"list":[-0.0, 1]},"b":[]}')) as {
      n: number
      list: number[]
    }
    expect(Object.is(decoded.n, 0)).toBe(true)
    expect(Object.is(decoded.list[0], 0)).toBe(true)
    expect(anything.decode(anything.encode(decoded))).toStrictEqual(decoded)
  })
})

describe('bytesCodec', () => {
  it('passes bytes through, copying on decode', () => {
    const bytes = Uint8Array.of(1, 2)
    expect(bytesCodec.encode(bytes)).toBe(bytes)
    const decoded = bytesCodec.decode(bytes)
    bytes[0] = 9
    expect([...decoded]).toEqual([1, 2])
    expect(() => bytesCodec.encode('x' as never)).toThrow(NetworkError)
  })
})
