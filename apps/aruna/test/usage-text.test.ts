import { describe, expect, it } from 'vitest'
import { formatBytes, parseSize, quotaText, usageLine } from '../src/cli/usage-text.js'

describe('sizes and usage on the command line', () => {
  it('reads sizes with decimal and binary units, any case, or plain bytes', () => {
    expect(parseSize('42')).toBe(42)
    expect(parseSize('500k')).toBe(500_000)
    expect(parseSize('1.5GB')).toBe(1_500_000_000)
    expect(parseSize('10MiB')).toBe(10 * 1024 * 1024)
    expect(parseSize(' 2 tib ')).toBe(2 * 1024 ** 4)
    expect(parseSize('3b')).toBe(3)
  })

  it('refuses what is not a size, naming it', () => {
    for (const bad of ['lots', '-1', '1.5.5MB', '10XB', ''])
      expect(() => parseSize(bad)).toThrow(/is not a size such as 10MiB/)
    expect(() => parseSize('99999999999TiB')).toThrow(/too large/)
  })

  it('writes bytes for people', () => {
    expect(formatBytes(0)).toBe('0 bytes')
    expect(formatBytes(1023)).toBe('1023 bytes')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(10 * 1024 * 1024)).toBe('10 MiB')
    expect(formatBytes(123.4 * 1024 ** 3)).toBe('123.4 GiB')
  })

  it('says what a quota allows and how a group stands', () => {
    expect(quotaText({})).toBe('no limit')
    expect(quotaText({ bytes: 1024, objects: 7 })).toBe('1 KiB, 7 objects')
    expect(
      usageLine({ group: 'G', bytes: 512, objects: 1, gracePercent: 0, warnPercent: 90, warning: false }),
    ).toBe('G  512 bytes in 1 object version, no quota')
    expect(
      usageLine({
        group: 'G',
        bytes: 950,
        objects: 3,
        quotaBytes: 1000,
        quotaObjects: 10,
        gracePercent: 0,
        warnPercent: 90,
        warning: true,
      }),
    ).toBe(
      'G  950 bytes in 3 object versions (95%), quota 1000 bytes, 10 objects  WARNING: at the warning threshold',
    )
    expect(
      usageLine({
        group: 'G',
        bytes: 0,
        objects: 0,
        quotaObjects: 5,
        gracePercent: 0,
        warnPercent: 90,
        warning: false,
      }),
    ).toBe('G  0 bytes in 0 object versions, quota 5 objects')
  })
})
