import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import { expect } from 'vitest'
import type { DataErrorCode } from '../errors.js'
import { formatVersionId } from '../hlc.js'
import type { ContentVersion, DeleteMarker, ObjectIndex, PurgeRecord } from '../port.js'

/** Version records for the index suites. */

/** Group ids (ULIDs) that own the suites' buckets. */
export const G1 = '01JAAAAAAAAAAAAAAAAAAAAAAA'
export const G2 = '01JBBBBBBBBBBBBBBBBBBBBBBB'

const EPOCH = Date.UTC(2025, 0, 1)

/** A version id `n` ms after a fixed epoch, on `nodeId`. */
export function vid(n: number, nodeId = 'node-a', counter = 0): string {
  return formatVersionId({ wallTime: EPOCH + n, counter, nodeId })
}

function cidOf(text: string): string {
  return CID.createV1(0x55, createDigest(0x12, createHash('sha256').update(text).digest())).toString()
}

/** A content version whose manifest is derived from its key and version id. */
export function content(bucket: string, key: string, versionId: string, size = 10): ContentVersion {
  const first = Math.ceil(size / 2)
  return {
    bucket,
    key,
    versionId,
    createdAt: new Date(EPOCH).toISOString(),
    manifest: {
      chunks: [
        { cid: cidOf(`${key}/${versionId}/0`), size: first },
        { cid: cidOf(`${key}/${versionId}/1`), size: size - first },
      ],
      size,
      contentType: 'application/octet-stream',
      userMetadata: { origin: 'suite', key },
      checksums: { md5: createHash('md5').update(versionId).digest('hex') },
      etag: `"${createHash('md5').update(versionId).digest('hex')}"`,
    },
  }
}

export function marker(bucket: string, key: string, versionId: string): DeleteMarker {
  return { bucket, key, versionId, createdAt: new Date(EPOCH).toISOString(), deleteMarker: true }
}

export function purge(bucket: string, key: string, versionId: string): PurgeRecord {
  return { bucket, key, versionId, purgedAt: new Date(EPOCH + 1000).toISOString() }
}

export async function expectCode(promise: Promise<unknown>, code: DataErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'DataError', code })
}

export async function collectVersions(
  iterable: AsyncIterable<{ key: string; versionId: string }>,
): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = []
  for await (const v of iterable) out.push([v.key, v.versionId])
  return out
}

/** Stores one current content version for each key. */
export async function putKeys(index: ObjectIndex, bucket: string, keys: string[]): Promise<void> {
  for (const [i, key] of keys.entries()) await index.putVersion(content(bucket, key, vid(i)))
}

/** Sorts as S3 does: by UTF-8 bytes. */
export function utf8Sorted(keys: string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
}
