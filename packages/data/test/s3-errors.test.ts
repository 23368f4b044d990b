import { describe, expect, it } from 'vitest'
import { DataError, toS3Error } from '../src/index.js'

describe('toS3Error', () => {
  it('answers a realm that cannot take or serve a request now with 503 ServiceUnavailable, so clients retry', () => {
    const error = toS3Error(new DataError('ServiceUnavailable', 'only 1 of 2 holders stored the chunk'))
    expect(error).toEqual({
      code: 'ServiceUnavailable',
      status: 503,
      message: 'Only 1 of 2 holders stored the chunk',
      internal: false,
    })
  })

  it('hides data errors without an S3 meaning behind a generic InternalError', () => {
    const error = toS3Error(new DataError('CorruptChunk', 'chunk bafk… at /srv/aruna/chunks/ab is damaged'))
    expect(error.code).toBe('InternalError')
    expect(error.status).toBe(500)
    expect(error.internal).toBe(true)
    expect(error.message).not.toContain('/srv')
  })
})
