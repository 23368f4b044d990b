// SigV4 verifications per second (header-signed and presigned requests made by the AWS signer), against
// the raw HMAC every verification needs at least, measured in the same run.
import { createHash, createHmac } from 'node:crypto'
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import type { AccessKeyStore, SigV4Request } from '../dist/index.js'
import {
  credentialScope,
  deriveSigningKey,
  EncryptedAccessKeyStore,
  generateAccessKeyEncryptionKey,
  MemoryAccessKeyRecords,
  SigV4Verifier,
} from '../dist/index.js'
import { asyncOpsPerSecond, fmt, opsPerSecond, table } from './measure.ts'

const T = 1_900_000_000
const encrypted = new EncryptedAccessKeyStore({
  records: new MemoryAccessKeyRecords(),
  encryptionKey: generateAccessKeyEncryptionKey(),
})
const key = await encrypted.create('alice')
const plain: AccessKeyStore = {
  secretFor: (id) => (id === key.accessKeyId ? { secret: key.secretAccessKey, userId: 'alice' } : undefined),
}

const signer = new SignatureV4({
  credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
  region: 'us-east-1',
  service: 's3',
  sha256: Hash.bind(null, 'sha256'),
  uriEscapePath: false,
})

// A GetObject as the S3 client sends it (the SDK's headers included).
const smithyRequest = {
  method: 'GET',
  protocol: 'https:',
  hostname: 's3.example.org',
  path: '/bucket/photos/2026/IMG%200001.jpg',
  query: { 'x-id': 'GetObject' } as Record<string, string>,
  headers: {
    host: 's3.example.org',
    'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'x-amz-checksum-mode': 'ENABLED',
    'x-amz-user-agent': 'aws-sdk-js/3.1172.0',
    'amz-sdk-invocation-id': '6850003c-c037-4c99-b2f3-c33ab3e2b955',
    'amz-sdk-request': 'attempt=1; max=3',
    range: 'bytes=0-1048575',
  } as Record<string, string>,
}

function toRequest(signed: {
  method: string
  path: string
  query: Record<string, string>
  headers: Record<string, string>
}): SigV4Request {
  const query = Object.entries(signed.query)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&')
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value
  return { method: signed.method, path: signed.path, query, headers, now: T }
}

const date = new Date(T * 1000)
const headerSigned = toRequest((await signer.sign(smithyRequest as never, { signingDate: date })) as never)
const presigned = toRequest(
  (await signer.presign(
    {
      ...smithyRequest,
      headers: { host: 's3.example.org', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
    } as never,
    { signingDate: date, expiresIn: 3600 },
  )) as never,
)

const withEncrypted = new SigV4Verifier({ keys: encrypted })
const withPlain = new SigV4Verifier({ keys: plain })
for (const request of [headerSigned, presigned]) {
  await withEncrypted.verify(request) // throws if anything is off
}

// Baselines: what any verifier must compute for such a request.
const scope = credentialScope('20300317', 'us-east-1', 's3')
const signingKey = deriveSigningKey(key.secretAccessKey, '20300317', 'us-east-1', 's3')
const canonical = `GET\n/bucket/photos/2026/IMG%200001.jpg\nx-id=GetObject\n${'h:v\n'.repeat(7)}\nh;h;h;h;h;h;h\n${'0'.repeat(64)}`
const toSign = `AWS4-HMAC-SHA256\n20300317T174640Z\n${scope}\n${'0'.repeat(64)}`

const rawHmac = opsPerSecond(() => createHmac('sha256', signingKey).update(toSign).digest('hex'))
const fullCrypto = opsPerSecond(() => {
  const k = deriveSigningKey(key.secretAccessKey, '20300317', 'us-east-1', 's3')
  const hashed = createHash('sha256').update(canonical).digest('hex')
  createHmac('sha256', k).update(`${toSign}${hashed}`).digest('hex')
})
const results: [string, number][] = [
  [
    'verify, Authorization header (encrypted key store)',
    await asyncOpsPerSecond(() => withEncrypted.verify(headerSigned)),
  ],
  [
    'verify, presigned URL (encrypted key store)',
    await asyncOpsPerSecond(() => withEncrypted.verify(presigned)),
  ],
  [
    'verify, Authorization header (plain in-memory secrets)',
    await asyncOpsPerSecond(() => withPlain.verify(headerSigned)),
  ],
  [
    '`EncryptedAccessKeyStore.secretFor` alone (AES-256-GCM open)',
    opsPerSecond(() => encrypted.secretFor(key.accessKeyId)),
  ],
  ['baseline: SigV4 crypto alone (key derivation, SHA-256, HMAC)', fullCrypto],
  ['baseline: one raw HMAC-SHA256 of the string to sign', rawHmac],
]

console.log(`## SigV4 verification

A GetObject signed by the AWS signer (\`@smithy/signature-v4\`, 7 signed headers, as the S3 client sends it)
and a presigned GetObject URL, verified by \`SigV4Verifier\` (parse, canonical request, time and scope
checks, secret lookup, signing key from its per-scope cache, constant-time compare). Baselines: the raw
HMAC every verification needs at least, and the full SigV4 crypto without the signing-key cache.
Median of 5 rounds.

${table(
  ['operation', 'per second', '× raw HMAC'],
  results.map(([name, rate]) => [name, fmt(rate), fmt(rate / rawHmac, 2)]),
)}
`)
