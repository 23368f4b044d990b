import { isDataError } from '../../errors.js'
import type { CorsConfiguration } from '../../port.js'
import { authorize, bucketOf, type S3Context, type S3Services, xmlResponse } from '../context.js'
import { corsHeadersOf, matchCorsRule, requestedHeadersOf } from '../cors.js'
import {
  CORS_METHODS,
  corsConfigurationXml,
  MAX_CORS_BODY,
  parseCorsConfiguration,
} from '../cors-configuration.js'
import { S3Error } from '../errors.js'
import { xmlBodyOf } from '../request-body.js'

/** GetBucketCors: the configuration as it was put; `404 NoSuchCORSConfiguration` when there is none. */
export async function getBucketCors(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  await authorize(c, services, 'READ', bucket)
  const cors = await services.engine.getBucketCors(bucket)
  if (cors === undefined) {
    throw new S3Error('NoSuchCORSConfiguration', 404, 'The CORS configuration does not exist', {
      BucketName: bucket,
    })
  }
  return xmlResponse(corsConfigurationXml(cors))
}

/** PutBucketCors: replaces the bucket's configuration with a checked one (at most 64 KiB, 100 rules). */
export async function putBucketCors(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  await authorize(c, services, 'WRITE', bucket)
  const cors = parseCorsConfiguration(await xmlBodyOf(c, 'CORSConfiguration', MAX_CORS_BODY))
  await services.engine.putBucketCors(bucket, cors)
  return new Response(null, { status: 200 })
}

/** DeleteBucketCors: `204`, whether or not the bucket had a configuration (as S3). */
export async function deleteBucketCors(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  await authorize(c, services, 'WRITE', bucket)
  await services.engine.deleteBucketCors(bucket)
  return new Response(null, { status: 204 })
}

const NOT_ENABLED = 'CORSResponse: CORS is not enabled for this bucket.'
const NOT_ALLOWED =
  "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."

/**
 * A CORS preflight (`OPTIONS` on a bucket or key), unauthenticated as browsers send it: it reads the
 * bucket's CORS configuration and nothing else. `400 BadRequest` without an `Origin` or with an
 * `Access-Control-Request-Method` that is missing or not one a rule can allow; `403 AccessForbidden`
 * when no rule allows the origin, the method and every requested header, when the bucket has no
 * configuration, and when there is no such bucket (the answer does not tell which); else `200` with
 * the matching rule's CORS headers.
 */
export async function preflight(c: S3Context, services: S3Services): Promise<Response> {
  const origin = c.req.header('origin')
  if (origin === undefined || origin === '')
    throw new S3Error('BadRequest', 400, 'Insufficient information. Origin request header needed.')
  const method = c.req.header('access-control-request-method')
  if (method === undefined || !CORS_METHODS.has(method))
    throw new S3Error('BadRequest', 400, `Invalid Access-Control-Request-Method: ${method ?? 'null'}`)
  const { bucket, key } = c.get('target')
  const forbidden = (message: string): S3Error =>
    new S3Error('AccessForbidden', 403, message, {
      Method: method,
      ResourceType: key === undefined ? 'BUCKET' : 'OBJECT',
    })
  const cors = bucket === undefined ? undefined : await corsOf(services, bucket)
  if (cors === undefined) throw forbidden(NOT_ENABLED)
  const requested = requestedHeadersOf(c.req.header('access-control-request-headers'))
  const match = matchCorsRule(cors, origin, method, requested)
  if (match === undefined) throw forbidden(NOT_ALLOWED)
  return new Response(null, { status: 200, headers: corsHeadersOf(match, requested) })
}

async function corsOf(services: S3Services, bucket: string): Promise<CorsConfiguration | undefined> {
  try {
    return await services.engine.getBucketCors(bucket)
  } catch (err) {
    if (isDataError(err, 'NoSuchBucket')) return undefined
    throw err
  }
}
