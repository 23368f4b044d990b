import { describe, expect, it } from 'vitest'
import { compareKeys, validateBucketName, validateKey } from '../src/index.js'
import { prefixEnd } from '../src/keys.js'

const code = (c: string) => expect.objectContaining({ name: 'DataError', code: c })

describe('validateKey', () => {
  it('accepts ordinary S3 keys, including odd but harmless ones', () => {
    for (const key of [
      'a',
      'dir/file.txt',
      '.hidden',
      'a/./b',
      '...',
      'a..b',
      '/leading',
      'trailing/',
      'ü 😀 ～',
      'x'.repeat(1024),
    ]) {
      expect(validateKey(key)).toBe(key)
    }
  })

  it('refuses keys that could escape, confuse or not encode', () => {
    const bad = [
      '',
      '..',
      '../x',
      'a/../b',
      'a/..',
      'nul\u0000',
      'bell\u0007',
      'nl\n',
      'del\u007f',
      'c1\u0085',
    ]
    for (const key of [...bad, 'lone\ud800', 'lone\udc00x', 'x'.repeat(1025), '😀'.repeat(257)]) {
      expect(() => validateKey(key)).toThrow(code('InvalidKey'))
    }
  })
})

describe('validateBucketName', () => {
  it('accepts names S3 accepts', () => {
    for (const name of ['abc', 'my-bucket', 'my.bucket.2', '1bucket', 'a'.repeat(63), '1.2.3']) {
      expect(validateBucketName(name)).toBe(name)
    }
  })

  it('refuses names S3 refuses', () => {
    const bad = [
      'ab',
      'a'.repeat(64),
      'Abc',
      'a_b',
      '-ab',
      'ab-',
      '.ab',
      'ab.',
      'a..b',
      '10.0.0.1',
      'xn--abc',
    ]
    for (const name of [
      ...bad,
      'sthree-abc',
      'amzn-s3-demo-x',
      'abc-s3alias',
      'abc--ol-s3',
      'abc.mrap',
      'abc--x-s3',
    ]) {
      expect(() => validateBucketName(name)).toThrow(code('InvalidBucketName'))
    }
  })
})

describe('compareKeys', () => {
  it('orders exactly as the UTF-8 bytes do', () => {
    const alphabet = [
      'a',
      'b',
      'Z',
      '/',
      ' ',
      'é',
      '\u07ff',
      '\u0800',
      '\ud7ff',
      '\ue000',
      '\uff5e',
      '\uffff',
      '😀',
      '\u{10000}',
      '\u{10ffff}',
    ]
    let seed = 7
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed
    }
    const keys = Array.from({ length: 400 }, () =>
      Array.from({ length: 1 + (random() % 4) }, () => alphabet[random() % alphabet.length]).join(''),
    )
    const byBytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    expect([...keys].sort(compareKeys)).toEqual(byBytes)
  })
})

describe('prefixEnd', () => {
  it('is the least string after every string with the prefix', () => {
    expect(prefixEnd('a/')).toBe('a0')
    expect(prefixEnd('a\ud7ff')).toBe('a\ue000')
    expect(prefixEnd('a\uffff')).toBe('a\u{10000}')
    expect(prefixEnd('a\u{10ffff}')).toBe('b')
    expect(prefixEnd('\u{10ffff}')).toBeUndefined()
    expect(prefixEnd('')).toBeUndefined()
    for (const inside of ['a/', 'a/\u{10ffff}\u{10ffff}', 'a/zzz']) {
      expect(compareKeys(inside, prefixEnd('a/')!)).toBeLessThan(0)
    }
  })
})
