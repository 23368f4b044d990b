import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  CHECKSUM_ALGORITHMS,
  ContentDigester,
  compositeChecksum,
  crc32,
  crc32c,
  decodeChecksum,
  multipartMd5,
  parseChecksumAlgorithm,
} from '../src/engine/checksums.js'

/** Bit-by-bit CRC32C: slow and obviously right, the reference for the table-driven one. */
function crc32cReference(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of bytes) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}

function b64(value: number): string {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(value)
  return bytes.toString('base64')
}

describe('CRC32C', () => {
  it('matches the published check value and the RFC 3720 test vectors', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283)
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa)
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43)
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e)
    expect(crc32c(new Uint8Array(0))).toBe(0)
  })

  it('agrees with a bitwise reference at every length and alignment, also when continued', () => {
    const data = randomBytes(300)
    for (let length = 0; length <= 64; length++) {
      for (const start of [0, 1, 3, 7]) {
        const slice = data.subarray(start, start + length)
        expect(crc32c(slice)).toBe(crc32cReference(slice))
      }
    }
    const cut = 123
    expect(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut)))).toBe(crc32cReference(data))
  })
})

describe('CRC32', () => {
  it('matches the published check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926)
    expect(crc32(Buffer.from('6789'), crc32(Buffer.from('12345')))).toBe(0xcbf43926)
  })
})

describe('ContentDigester', () => {
  it('computes MD5 and every requested checksum in one pass over pieces', () => {
    const data = randomBytes(100_000)
    const digester = new ContentDigester(CHECKSUM_ALGORITHMS)
    for (let offset = 0; offset < data.length; offset += 7777)
      digester.update(data.subarray(offset, offset + 7777))
    const digests = digester.digest()
    expect(digests.md5).toBe(createHash('md5').update(data).digest('hex'))
    expect(digests.checksums).toEqual({
      CRC32: b64(crc32(data)),
      CRC32C: b64(crc32cReference(data)),
      SHA1: createHash('sha1').update(data).digest('base64'),
      SHA256: createHash('sha256').update(data).digest('base64'),
    })
    expect(digests.sha256Hex).toBe(createHash('sha256').update(data).digest('hex'))
  })

  it('computes the payload SHA-256 on its own when no SHA256 checksum is asked for', () => {
    const digester = new ContentDigester([], { sha256Hex: true })
    digester.update(Buffer.from('abc'))
    const digests = digester.digest()
    expect(digests.sha256Hex).toBe(createHash('sha256').update('abc').digest('hex'))
    expect(digests.checksums).toEqual({})
  })
})

describe('multipart checksums', () => {
  it('makes the ETag from the part MD5s and the part count', () => {
    const parts = ['a', 'b'].map((s) => createHash('md5').update(s).digest())
    const expected = createHash('md5').update(Buffer.concat(parts)).digest('hex')
    expect(multipartMd5(parts.map((p) => p.toString('hex')))).toBe(`${expected}-2`)
  })

  it('makes composite checksums from the raw part checksums', () => {
    const parts = [b64(crc32(Buffer.from('a'))), b64(crc32(Buffer.from('b')))]
    const raw = Buffer.concat(parts.map((p) => Buffer.from(p, 'base64')))
    expect(compositeChecksum('CRC32', parts)).toBe(`${b64(crc32(raw))}-2`)
  })
})

describe('checksum values and names', () => {
  it('refuses values that are not base64 of the right length', () => {
    expect(decodeChecksum('CRC32', 'AAAAAA==').byteLength).toBe(4)
    for (const bad of ['', 'AAAA', 'AAAAAAAA', '!!!!!!==', 'AAAAAA']) {
      expect(() => decodeChecksum('CRC32', bad)).toThrow(expect.objectContaining({ code: 'InvalidDigest' }))
    }
  })

  it('reads algorithm names in any case and refuses others', () => {
    expect(parseChecksumAlgorithm('crc32c')).toBe('CRC32C')
    expect(() => parseChecksumAlgorithm('CRC64NVME')).toThrow(
      expect.objectContaining({ code: 'InvalidRequest' }),
    )
  })
})
