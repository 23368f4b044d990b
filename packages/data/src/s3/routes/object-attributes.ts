import { flexibleChecksums } from '../../engine/checksums.js'
import { s3VersionId } from '../../engine/object-engine.js'
import { partsOf } from '../../engine/object-parts.js'
import { unquoteEtag } from '../../engine/preconditions.js'
import { MAX_PART_NUMBER } from '../../engine/upload-records.js'
import { DataError } from '../../errors.js'
import { validateKey } from '../../keys.js'
import type { Checksums } from '../../port.js'
import {
  authorize,
  bucketOf,
  httpDate,
  keyOf,
  param,
  type S3Context,
  type S3Services,
  xmlResponse,
} from '../context.js'
import { integerOf } from '../request.js'
import { leaf, node, S3_XMLNS } from '../xml.js'

/** The attributes `x-amz-object-attributes` may name, as S3 spells them. */
const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const
type Attribute = (typeof ATTRIBUTES)[number]

/** Default and largest `x-amz-max-parts`. */
const MAX_PARTS = 1000

/**
 * GetObjectAttributes (`GET ?attributes`): what `x-amz-object-attributes` asks for of the current
 * version or `versionId`: the ETag (unquoted, as S3 sends it here), the flexible checksum, the parts of
 * a multipart object (paged by `x-amz-max-parts` and `x-amz-part-number-marker`), the storage class
 * and the size.
 */
export async function getObjectAttributes(c: S3Context, services: S3Services): Promise<Response> {
  const bucket = bucketOf(c)
  const key = validateKey(keyOf(c))
  await authorize(c, services, 'READ', bucket, key)
  const wanted = attributesOf(c.req.header('x-amz-object-attributes'))
  const maxParts = Math.min(
    integerOf(c.req.header('x-amz-max-parts'), 'x-amz-max-parts') ?? MAX_PARTS,
    MAX_PARTS,
  )
  const marker = integerOf(c.req.header('x-amz-part-number-marker'), 'x-amz-part-number-marker') ?? 0
  if (marker > MAX_PART_NUMBER) {
    throw new DataError('InvalidArgument', `x-amz-part-number-marker must be at most ${MAX_PART_NUMBER}`)
  }
  const version = await services.engine.headObject(bucket, key, param(c, 'versionId'))
  const manifest = version.manifest
  const children: string[] = []
  if (wanted.has('ETag')) children.push(leaf('ETag', unquoteEtag(manifest.etag)))
  if (wanted.has('Checksum')) {
    const checksum = checksumElements(manifest.checksums)
    if (checksum.length > 0) children.push(node('Checksum', checksum))
  }
  if (wanted.has('ObjectParts') && manifest.parts !== undefined) {
    const all = partsOf(manifest)
    const after = all.filter((part) => part.partNumber > marker)
    const page = after.slice(0, maxParts)
    const truncated = after.length > page.length
    children.push(
      node('ObjectParts', [
        leaf('PartsCount', all.length),
        leaf('PartNumberMarker', marker),
        truncated && leaf('NextPartNumberMarker', page.at(-1)?.partNumber ?? marker),
        leaf('MaxParts', maxParts),
        leaf('IsTruncated', truncated),
        ...page.map((part) =>
          node('Part', [
            leaf('PartNumber', part.partNumber),
            leaf('Size', part.size),
            ...flexibleChecksums(part.checksums).map(([algorithm, value]) =>
              leaf(`Checksum${algorithm}`, value),
            ),
          ]),
        ),
      ]),
    )
  }
  if (wanted.has('StorageClass')) children.push(leaf('StorageClass', 'STANDARD'))
  if (wanted.has('ObjectSize')) children.push(leaf('ObjectSize', manifest.size))
  return xmlResponse(node('GetObjectAttributesResponse', children, S3_XMLNS), 200, {
    'last-modified': httpDate(version.createdAt),
    'x-amz-version-id': s3VersionId(version),
  })
}

/** The attribute names of `x-amz-object-attributes` (comma-separated); none or an unknown one is `InvalidArgument`. */
function attributesOf(header: string | undefined): Set<Attribute> {
  const names = (header ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
  if (names.length === 0) {
    throw new DataError(
      'InvalidArgument',
      'the x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty',
    )
  }
  const wanted = new Set<Attribute>()
  for (const name of names) {
    const attribute = ATTRIBUTES.find((known) => known.toLowerCase() === name.toLowerCase())
    if (attribute === undefined)
      throw new DataError('InvalidArgument', `invalid attribute name specified: ${name}`)
    wanted.add(attribute)
  }
  return wanted
}

/** The flexible checksums and their type (composite for a multipart object), as S3's `Checksum` element. */
function checksumElements(checksums: Checksums): string[] {
  const values = flexibleChecksums(checksums)
  if (values.length === 0) return []
  const composite = values.some(([, value]) => /-\d+$/.test(value))
  return [
    ...values.map(([algorithm, value]) => leaf(`Checksum${algorithm}`, value)),
    leaf('ChecksumType', composite ? 'COMPOSITE' : 'FULL_OBJECT'),
  ]
}
