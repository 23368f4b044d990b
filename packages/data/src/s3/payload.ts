import { DataError } from '../errors.js'
import type { PayloadSigning } from './port.js'

/**
 * Reads `x-amz-content-sha256` into a `PayloadSigning`, for authenticators (the real SigV4 one and
 * the test double) so they classify payloads the same way. A presigned request or one without the
 * header has an unsigned payload. Unknown `STREAMING-*` modes are `NotImplemented`; anything else
 * that is not a hex SHA-256 is `InvalidArgument`.
 */
export function payloadSigningOf(contentSha256: string | undefined): PayloadSigning {
  if (contentSha256 === undefined || contentSha256 === 'UNSIGNED-PAYLOAD') return { kind: 'unsigned' }
  switch (contentSha256) {
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return { kind: 'streaming-unsigned-trailer' }
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
      return { kind: 'streaming-signed', trailer: false }
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      return { kind: 'streaming-signed', trailer: true }
  }
  if (/^[0-9a-fA-F]{64}$/.test(contentSha256)) return { kind: 'sha256', sha256: contentSha256.toLowerCase() }
  if (contentSha256.startsWith('STREAMING-')) {
    throw new DataError('NotImplemented', `the payload mode ${contentSha256.slice(0, 60)} is not supported`)
  }
  throw new DataError('InvalidArgument', 'x-amz-content-sha256 must be a hex SHA-256 or a payload mode')
}

/** Whether the payload arrives `aws-chunked`. */
export function isStreaming(payload: PayloadSigning): boolean {
  return payload.kind === 'streaming-unsigned-trailer' || payload.kind === 'streaming-signed'
}
