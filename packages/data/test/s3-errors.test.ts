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

  it('answers a write past a storage quota with 403 QuotaExceeded and the reason', () => {
    const error = toS3Error(
      new DataError('QuotaExceeded', 'group lab would store 11 MiB of its 10 MiB quota'),
    )
    expect(error).toMatchObject({ code: 'QuotaExceeded', status: 403, internal: false })
    expect(error.message).toBe('Group lab would store 11 MiB of its 10 MiB quota')
  })

  it('answers a full disk, as a file write or an index commit reports it, with 503 ServiceUnavailable, logged as a fault', () => {
    const fileWrite = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    const commit = Object.assign(
      new Error('the database could not commit: No space left on device', {
        cause: Object.assign(new Error('No space left on device'), { code: 'ENOSPC' }),
      }),
    )
    const quota = Object.assign(new Error('EDQUOT: disk quota exceeded'), { code: 'EDQUOT' })
    for (const err of [fileWrite, commit, quota]) {
      const error = toS3Error(err)
      expect(error).toMatchObject({ code: 'ServiceUnavailable', status: 503, internal: true })
      expect(error.message).not.toContain('ENOSPC')
    }
    expect(toS3Error(Object.assign(new Error('EIO'), { code: 'EIO' }))).toMatchObject({
      code: 'InternalError',
      status: 500,
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
