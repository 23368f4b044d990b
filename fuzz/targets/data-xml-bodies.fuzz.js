// Fuzz target: the XML request bodies of the S3 API of `@aruna/data`: CompleteMultipartUpload and
// DeleteObjects (packages/data/src/s3/xml.ts `parseXmlRequest`, `elementsOf`, `textOf`, and their use
// in s3/routes/multipart.ts and s3/routes/delete-objects.ts).
//
// The XML functions are not exported from `@aruna/data`, so the target goes through the nearest
// exported entry point: `createS3App` on a fresh in-memory engine per input, with a bucket, three
// objects, and a multipart upload of three parts (CRC32 checksums). That also covers reading the
// body, the root check and how the routes read the parsed document.
// ASYNC target (the app answers with promises; in Jazzer's --sync mode no promise settles):
// data-xml-bodies.options.json passes --no-sync after the runner's --sync.
//
// Input: byte 0 bit 0 set (e.g. "C"): the rest is the body of CompleteMultipartUpload
// (POST /bucket/k?uploadId=…); clear (e.g. "D"): of DeleteObjects (POST /bucket?delete).
// Checked:
// - no server fault: no 5xx, nothing reaches onInternalError (only DataErrors come out of parsing);
//   a refused body gets an S3 error document whose code is one that body content can cause
//   (MalformedXML; for CompleteMultipartUpload also InvalidPart, InvalidPartOrder, InvalidArgument);
// - no DTD is ever accepted (no entity expansion): a body with <!DOCTYPE or <!ENTITY is MalformedXML
//   (a billion-laughs document is seeded; libFuzzer's 5 s timeout catches a slow refusal);
// - a completed upload is made of uploaded parts: its ETag is the multipart MD5 of an ascending
//   selection of the three parts, with as many parts as its "-N" says, and its size is theirs;
// - DeleteObjects answers for at most 1000 keys, every key it reports Deleted is a valid key and
//   is gone afterwards (reads as NoSuchKey);
// - DeleteObjects reads keys as XML 1.0 defines them: for a body in a simple plain form (declaration,
//   <Delete> with <Quiet>, <Object><Key>…</Key>[<VersionId>…</VersionId>]</Object>, text made of
//   characters, the five predefined entities, character references &#…; of at most 6 hex / 7 decimal
//   digits (longer, zero-padded ones are left out: the app refuses them), and CDATA; no <!DOCTYPE or
//   <!ENTITY anywhere, which the app refuses even inside CDATA, see above), a small reader
//   here knows the keys; the answer (unless Quiet) names exactly those keys in order, and a
//   character reference to a non-character (&#0;, a surrogate…) makes the body MalformedXML.
import { MemoryAuthorizer } from '@aruna/auth'
import {
  createS3App,
  HybridLogicalClock,
  isDataError,
  MemoryBlobStore,
  MemoryMultipartStore,
  MemoryObjectIndex,
  multipartMd5,
  ObjectEngine,
  validateKey,
} from '@aruna/data'

const REALM = 'realm'
const GROUP = '01J0GR0VP0000000000000000A'
const BUCKET = 'bucket'
const KEY = 'k'
const PARTS = ['part one.', 'part two', 'p3']
const OBJECTS = ['a', 'dir/b', 'é &<>"\'']
const COMPLETE_CODES = new Set(['MalformedXML', 'InvalidPart', 'InvalidPartOrder', 'InvalidArgument'])
const DELETE_CODES = new Set(['MalformedXML'])

const authorizer = new MemoryAuthorizer().allow('alice', 'WRITE', `/${REALM}/g/${GROUP}/**`)
const authenticator = { authenticate: async () => ({ userId: 'alice', payload: { kind: 'unsigned' } }) }

function check(condition, message) {
  if (!condition) throw new Error(message)
}

async function* bodyOf(text) {
  yield Buffer.from(text)
}

const PREDEFINED = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

/** The answer's text back from escapeXml (which writes only the five predefined entities). */
const unescapeXml = (s) => s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e) => PREDEFINED[e])

const SKIP = Symbol('not in the simple form')
const MALFORMED = Symbol('not well-formed')

/** XML 1.0 `Char`: what a character reference may refer to and raw text may hold. */
const isXmlChar = (cp) =>
  cp === 0x9 ||
  cp === 0xa ||
  cp === 0xd ||
  (cp >= 0x20 && cp <= 0xd7ff) ||
  (cp >= 0xe000 && cp <= 0xfffd) ||
  (cp >= 0x10000 && cp <= 0x10ffff)

/**
 * The keys of a DeleteObjects body in the simple form described above, decoded as XML 1.0 says:
 * { quiet, keys }, MALFORMED when a character reference names a non-character or the key count is
 * out of range, or SKIP for anything else (other markup, raw CR, undeclared entities...).
 */
function simpleDelete(text) {
  // The app refuses the strings <!DOCTYPE and <!ENTITY anywhere, even inside CDATA: those bodies are
  // checked by the DTD property (always MalformedXML), not here.
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) return SKIP
  let pos = 0
  const take = (re) => {
    re.lastIndex = pos
    const m = re.exec(text)
    if (m === null) return null
    pos = re.lastIndex
    return m
  }
  const ws = () => take(/[ \t\r\n]*/y)
  let malformed = false
  /** The text up to `</name>`, decoded; SKIP when it holds anything but text. */
  const textUntil = (name) => {
    let out = ''
    for (;;) {
      if (take(new RegExp(`</${name}>`, 'y'))) return out
      if (text.startsWith('<![CDATA[', pos)) {
        const end = text.indexOf(']]>', pos)
        if (end === -1) return SKIP
        const content = text.slice(pos + 9, end)
        if ([...content].some((c) => c === '\r' || !isXmlChar(c.codePointAt(0)))) return SKIP
        out += content
        pos = end + 3
        continue
      }
      if (/^&#x?[0-9a-fA-F]{7,};/.test(text.slice(pos, pos + 40))) return SKIP
      const entity = take(/&(amp|lt|gt|quot|apos);/y)
      if (entity) {
        out += PREDEFINED[entity[1]]
        continue
      }
      // Up to 6 hex or 7 decimal digits reach every code point; longer (zero-padded) ones are left out.
      const ref = take(/&#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}));/y)
      if (ref) {
        const cp = ref[1] !== undefined ? Number.parseInt(ref[1], 16) : Number(ref[2])
        if (!isXmlChar(cp)) {
          malformed = true
          continue
        }
        out += String.fromCodePoint(cp)
        continue
      }
      const c = String.fromCodePoint(text.codePointAt(pos) ?? 0)
      if (pos >= text.length || c === '<' || c === '&' || c === '\r' || !isXmlChar(c.codePointAt(0)))
        return SKIP
      if (text.startsWith(']]>', pos)) return SKIP
      out += c
      pos += c.length
    }
  }
  ws()
  take(/<\?xml version="1\.0"(?: encoding="UTF-8")?\?>/y)
  ws()
  // XML's white space is only space, tab, CR and LF (JavaScript's \s knows more).
  const rootTag = take(/<Delete(?:[ \t\r\n]+xmlns="[^"<&]*")?[ \t\r\n]*>/y)
  if (!rootTag || [...rootTag[0]].some((c) => !isXmlChar(c.codePointAt(0)))) return SKIP
  let quiet
  const keys = []
  for (;;) {
    ws()
    if (take(/<\/Delete>/y)) break
    if (take(/<Quiet>/y)) {
      if (quiet !== undefined) return SKIP
      const value = textUntil('Quiet')
      if (value === SKIP) return SKIP
      quiet = value.trim().toLowerCase() === 'true'
    } else if (take(/<Object>/y)) {
      ws()
      if (!take(/<Key>/y)) return SKIP
      const key = textUntil('Key')
      if (key === SKIP) return SKIP
      ws()
      if (take(/<VersionId>/y) && textUntil('VersionId') === SKIP) return SKIP
      ws()
      if (!take(/<\/Object>/y)) return SKIP
      keys.push(key)
    } else return SKIP
  }
  ws()
  if (pos !== text.length) return SKIP
  if (malformed || keys.length === 0 || keys.length > 1000) return MALFORMED
  return { quiet: quiet === true, keys }
}

/** Every ascending, non-empty selection of the parts, as [multipart ETag, size]. */
function selections(parts) {
  const all = []
  for (let mask = 1; mask < 1 << parts.length; mask++) {
    const chosen = parts.filter((_, i) => mask & (1 << i))
    all.push([
      `"${multipartMd5(chosen.map((p) => p.checksums.md5))}"`,
      chosen.reduce((s, p) => s + p.size, 0),
    ])
  }
  return all
}

/** A fresh engine and app: for CompleteMultipartUpload with the upload, for DeleteObjects with the objects. */
async function setUp(complete) {
  const engine = new ObjectEngine({
    blobs: new MemoryBlobStore(),
    index: new MemoryObjectIndex(),
    uploads: new MemoryMultipartStore(),
    clock: new HybridLogicalClock('fuzz'),
    minPartSize: 1,
    chunkSize: 64, // the default 4 MiB chunk buffer per write would dominate the run time
  })
  await engine.createBucket(BUCKET, GROUP)
  const faults = []
  const app = createS3App({
    engine,
    authorizer,
    authenticator,
    realm: REALM,
    onInternalError: (err) => faults.push(err),
  })
  if (!complete) {
    for (const key of OBJECTS)
      await engine.putObject({ bucket: BUCKET, key, body: bodyOf(key), size: Buffer.byteLength(key) })
    return { engine, app, faults }
  }
  const upload = await engine.createMultipartUpload({
    bucket: BUCKET,
    key: KEY,
    initiator: 'alice',
    checksumAlgorithm: 'CRC32',
  })
  const parts = []
  for (const [i, text] of PARTS.entries()) {
    const size = Buffer.byteLength(text)
    parts.push(
      await engine.uploadPart({
        bucket: BUCKET,
        key: KEY,
        uploadId: upload.uploadId,
        partNumber: i + 1,
        body: bodyOf(text),
        size,
      }),
    )
  }
  return { engine, app, uploadId: upload.uploadId, parts, faults }
}

/** @param {Buffer} data */
export async function fuzz(data) {
  if (data.length === 0) return
  const complete = (data[0] & 1) === 1
  const body = data.subarray(1)
  const text = body.toString('utf8')
  const { engine, app, uploadId, parts, faults } = await setUp(complete)

  const path = complete ? `/${BUCKET}/${KEY}?uploadId=${encodeURIComponent(uploadId)}` : `/${BUCKET}?delete`
  const response = await app.request(
    path,
    { method: 'POST', body: new Uint8Array(body), headers: { 'content-length': String(body.length) } },
    { incoming: { url: path } },
  )
  const answer = await response.text()
  if (faults.length > 0) throw faults[0] // the server fault itself, with its stack
  check(response.status < 500, `status ${response.status}: ${answer.slice(0, 300)}`)
  const what = complete ? 'CompleteMultipartUpload' : 'DeleteObjects'

  const simple = complete ? SKIP : simpleDelete(text)
  if (simple === MALFORMED) {
    check(
      response.status === 400 && answer.includes('<Code>MalformedXML</Code>'),
      `DeleteObjects: a body that is not well-formed XML got ${response.status}: ${answer.slice(0, 300)}`,
    )
  }

  if (response.status !== 200) {
    check(
      simple === SKIP || simple === MALFORMED,
      `DeleteObjects: a plain valid body got ${response.status}: ${answer.slice(0, 300)}`,
    )
    const code = /<Code>([^<]*)<\/Code>/.exec(answer)?.[1]
    check(
      (complete ? COMPLETE_CODES : DELETE_CODES).has(code),
      `${what}: status ${response.status} with code ${code}: ${answer.slice(0, 300)}`,
    )
    if (/<!DOCTYPE|<!ENTITY/i.test(text)) check(code === 'MalformedXML', `${what}: a DTD got ${code}`)
    return
  }
  check(!/<!DOCTYPE|<!ENTITY/i.test(text), `${what}: a body with a DTD was accepted`)

  if (complete) {
    const etag = /<ETag>([^<]*)<\/ETag>/.exec(answer)?.[1]
    const version = await engine.headObject(BUCKET, KEY)
    check(unescapeXml(etag ?? '') === version.manifest.etag, `the answer's ETag ${etag} is not the object's`)
    const match = selections(parts).find(([e]) => e === version.manifest.etag)
    check(
      match !== undefined,
      `completed object's ETag ${version.manifest.etag} is no selection of the parts`,
    )
    check(
      match[1] === version.manifest.size,
      `completed object has ${version.manifest.size} bytes, its parts ${match[1]}`,
    )
    return
  }

  const entries = answer.match(/<(Deleted|Error)>/g) ?? []
  check(entries.length <= 1000, `DeleteObjects answered for ${entries.length} keys`) // none when Quiet
  if (simple !== SKIP && !simple.quiet) {
    const answered = [...answer.matchAll(/<(?:Deleted|Error)><Key>([^<]*)<\/Key>/g)].map((m) =>
      unescapeXml(m[1]),
    )
    check(
      JSON.stringify(answered) === JSON.stringify(simple.keys),
      `DeleteObjects read the keys ${JSON.stringify(answered)}, the body names ${JSON.stringify(simple.keys)}`,
    )
  }
  for (const [, escaped] of answer.matchAll(/<Deleted><Key>([^<]*)<\/Key>/g)) {
    const key = unescapeXml(escaped)
    validateKey(key) // throws InvalidKey: a deleted key that is not a key
    try {
      await engine.headObject(BUCKET, key)
    } catch (err) {
      if (isDataError(err, 'NoSuchKey')) continue
      throw err
    }
    throw new Error(`DeleteObjects reported ${JSON.stringify(key)} deleted, but it is still there`)
  }
}
