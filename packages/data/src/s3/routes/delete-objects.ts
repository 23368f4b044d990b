import { s3VersionId } from '../../engine/object-engine.js'
import { validateKey } from '../../keys.js'
import { authorize, bucketOf, type S3Context, type S3Services, xmlResponse } from '../context.js'
import { toS3Error } from '../errors.js'
import { xmlBodyOf } from '../request-body.js'
import { elementsOf, leaf, malformedXml, node, S3_XMLNS, textOf } from '../xml.js'

/** S3's limit on keys per DeleteObjects request. */
const MAX_DELETE_KEYS = 1000

/**
 * DeleteObjects (`POST ?delete`): an `<Object>` with a `<VersionId>` removes that version for good,
 * one without deletes the key as DeleteObject does. : each key is authorized and deleted on its own; a failure becomes an
 * `<Error>` entry for that key and does not stop the others. `Quiet` leaves out the successes.
 */
export async function deleteObjects(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  await services.engine.getBucket(bucket)
  const request = await xmlBodyOf(c, 'Delete')
  const quiet = textOf(request, 'Quiet')?.trim().toLowerCase() === 'true'
  const objects = elementsOf(request, 'Object')
  if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw malformedXml()
  const wanted = objects.map((object) => {
    const key = textOf(object, 'Key')
    if (key === undefined) throw malformedXml()
    return { key, versionId: textOf(object, 'VersionId') }
  })

  const results: string[] = []
  for (const { key, versionId } of wanted) {
    try {
      validateKey(key)
      await authorize(c, services, 'WRITE', bucket, key)
      if (versionId !== undefined) {
        const { removed } = await services.engine.deleteVersion(bucket, key, versionId)
        if (quiet) continue
        const marker = removed?.deleteMarker === true
        results.push(
          node('Deleted', [
            leaf('Key', key),
            leaf('VersionId', versionId),
            marker && leaf('DeleteMarker', true),
            marker && leaf('DeleteMarkerVersionId', versionId),
          ]),
        )
        continue
      }
      const { deleteMarker } = await services.engine.deleteObject(bucket, key)
      if (quiet) continue
      results.push(
        node('Deleted', [
          leaf('Key', key),
          deleteMarker !== undefined && leaf('DeleteMarker', true),
          deleteMarker !== undefined && leaf('DeleteMarkerVersionId', s3VersionId(deleteMarker)),
        ]),
      )
    } catch (err) {
      const error = toS3Error(err)
      if (error.internal) throw err
      results.push(
        node('Error', [
          leaf('Key', key),
          versionId !== undefined && leaf('VersionId', versionId),
          leaf('Code', error.code),
          leaf('Message', error.message),
        ]),
      )
    }
  }
  return xmlResponse(node('DeleteResult', results, S3_XMLNS))
}
