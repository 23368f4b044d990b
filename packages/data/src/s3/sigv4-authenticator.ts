/**
 * The real `S3Authenticator`: AWS Signature V4 (header and presigned forms) verified by `@aruna/auth`'s
 * `SigV4Verifier` against the node's access keys. It only translates: how the body is bound to the
 * signature becomes the edge's `PayloadSigning`, the signed header names go along as
 * `signedHeaders`, and a signed `aws-chunked` body gets a chunk verifier chained from this request's
 * signature.
 */
import type { SigV4Verifier } from '@aruna/auth'
import type { S3Authenticator, S3Identity, S3RequestInfo } from './port.js'

/** `name:value\n` lines, as the aws-chunked decoder hands the signed trailer, back into pairs. */
function trailerPairs(trailer: string): Array<readonly [string, string]> {
  return trailer
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const colon = line.indexOf(':')
      return colon < 0 ? ([line, ''] as const) : ([line.slice(0, colon), line.slice(colon + 1)] as const)
    })
}

export class SigV4S3Authenticator implements S3Authenticator {
  constructor(private readonly verifier: SigV4Verifier) {}

  async authenticate(request: S3RequestInfo): Promise<S3Identity> {
    const verified = await this.verifier.verify({
      method: request.method,
      path: request.path,
      query: request.rawQuery,
      headers: request.headers,
    })
    const { userId, payload } = verified
    const signedHeaders = [...verified.signedHeaders]
    switch (payload.kind) {
      case 'sha256':
        return { userId, signedHeaders, payload: { kind: 'sha256', sha256: payload.sha256.toLowerCase() } }
      case 'unsigned':
        return { userId, signedHeaders, payload: { kind: 'unsigned' } }
      case 'streaming-unsigned-trailer':
        return { userId, signedHeaders, payload: { kind: 'streaming-unsigned-trailer' } }
      case 'streaming-signed': {
        const chain = payload.chunkVerifier()
        return {
          userId,
          signedHeaders,
          payload: { kind: 'streaming-signed', trailer: payload.trailer },
          chunkVerifier: {
            verifyChunk: (signature, chunkSha256) => chain.verifyChunkHash(signature, chunkSha256),
            verifyTrailer: (signature, trailer) => chain.verifyTrailer(signature, trailerPairs(trailer)),
          },
        }
      }
    }
  }
}
