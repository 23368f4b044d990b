import { describe, expect, it } from 'vitest'
import { headerRecord, requestHeaders } from '../src/s3/request.js'

describe('requestHeaders', () => {
  const raw = [
    'Host',
    '127.0.0.1:9000',
    'X-Amz-Meta-Colour',
    '  blue\t',
    'x-amz-meta-colour',
    'green',
    'Content-Length',
    '12',
    'X-Amz-Checksum-CRC32',
    'AAAAAA==',
    'x-empty',
    '',
    'Constructor',
    'not inherited',
    'toString',
    'twice',
    'tostring',
    'joined',
  ]

  it('reads a Node request raw headers as a Headers object would have them', () => {
    const headers = new Headers()
    for (let i = 0; i < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string)
    const request = new Request('http://127.0.0.1:9000/b/k', { method: 'PUT', headers })
    const record = requestHeaders(request, { rawHeaders: raw })
    expect(record).toEqual(headerRecord(headers))
    expect(record['x-amz-meta-colour']).toBe('blue, green')
    expect(record['x-empty']).toBe('')
    // Names that objects inherit are headers like any other.
    expect(record.constructor).toBe('not inherited')
    expect(record.tostring).toBe('twice, joined')
  })

  it('reads the Headers object when there is no Node request, and once per request', () => {
    const request = new Request('http://127.0.0.1:9000/b/k', {
      headers: { 'X-Amz-Date': ' 20250101T000000Z ' },
    })
    const record = requestHeaders(request)
    expect(record).toEqual({ 'x-amz-date': '20250101T000000Z' })
    expect(requestHeaders(request, { rawHeaders: ['X-Other', 'ignored'] })).toBe(record)
  })
})
