import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { DataError } from '../errors.js'

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/'

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
}

// C0 controls other than tab, LF and CR, U+FFFE/U+FFFF and lone surrogates: XML 1.0 cannot carry them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding the characters XML forbids is the point
const NOT_XML_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** Escapes markup; characters XML 1.0 cannot carry at all become U+FFFD. */
export function escapeXml(value: string): string {
  return value
    .replace(/[&<>"']/g, (c) => ESCAPES[c]!)
    .replace(NOT_XML_CHAR, '\ufffd')
    .replace(LONE_SURROGATE, '\ufffd')
}

/** An element holding text (escaped here). */
export function leaf(name: string, value: string | number | boolean): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`
}

/** An element holding other elements (already serialised); `undefined` and `false` children are skipped. */
export function node(
  name: string,
  children: ReadonlyArray<string | undefined | false>,
  xmlns?: string,
): string {
  const open = xmlns === undefined ? name : `${name} xmlns="${xmlns}"`
  return `<${open}>${children.filter((child) => typeof child === 'string').join('')}</${name}>`
}

/** A whole XML document with `root` as its root element. */
export function xmlDocument(root: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root}`
}

/** Elements that may repeat: parsed as arrays even when there is one. */
const REPEATED = new Set([
  'Part',
  'Object',
  'CORSRule',
  'AllowedOrigin',
  'AllowedMethod',
  'AllowedHeader',
  'ExposeHeader',
])

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  removeNSPrefix: true,
  // Values stay strings exactly as sent: keys may have leading spaces or look like numbers.
  parseTagValue: false,
  trimValues: false,
  // References are decoded by `textOf` in one pass (the five XML entities and numeric character
  // references, which Go clients such as rclone use for `"`); the parser's entity handling knows
  // only one of the two, and two passes would decode `&amp;#34;` twice.
  processEntities: false,
  htmlEntities: false,
  isArray: (name) => REPEATED.has(name),
})

/**
 * Parses a request's XML document and returns the content of its root element, which must be
 * `root`. Anything that is not well-formed XML with that root, and any DTD (entity expansion is an
 * attack, not a feature), is `MalformedXML`.
 */
export function parseXmlRequest(text: string, root: string): Record<string, unknown> {
  if (XMLValidator.validate(text) !== true) throw malformedXml()
  // CDATA is literal text: escape it into plain text, so `textOf` decodes references everywhere else
  // and the order of mixed text and CDATA is kept.
  const plain = text.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_, data: string) =>
    data.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
  )
  if (/<!DOCTYPE|<!ENTITY/i.test(plain)) throw malformedXml()
  let parsed: unknown
  try {
    parsed = parser.parse(plain)
  } catch (err) {
    throw malformedXml(err)
  }
  const content = (parsed as Record<string, unknown>)[root]
  if (content === '' || content === undefined) {
    if (content === '') return {}
    throw malformedXml()
  }
  if (typeof content !== 'object' || content === null || Array.isArray(content)) throw malformedXml()
  return content as Record<string, unknown>
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

/**
 * Decodes XML references in element text: `&lt;` `&gt;` `&amp;` `&quot;` `&apos;`, `&#N;` and `&#xH;`.
 * Anything else after `&` (a named entity XML does not define, a code point that is not a character)
 * is `MalformedXML`.
 */
export function decodeXmlText(text: string): string {
  if (!text.includes('&')) return text
  return text.replace(/&([^;&\s]{0,10});?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw malformedXml()
    const named = NAMED_ENTITIES[ref]
    if (named !== undefined) return named
    const match = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref)
    if (!match) throw malformedXml()
    const code = match[1] !== undefined ? Number.parseInt(match[1], 16) : Number(match[2])
    const isXmlChar =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      (code >= 0x10000 && code <= 0x10ffff)
    if (!isXmlChar) throw malformedXml()
    return String.fromCodePoint(code)
  })
}

/** A child element's text (references decoded), or undefined when absent; `MalformedXML` when not text. */
export function textOf(parent: Record<string, unknown>, name: string): string | undefined {
  const value = parent[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw malformedXml()
  return decodeXmlText(value)
}

/** The repeated child elements `name` (declared as arrays in the parser) as records. */
export function elementsOf(parent: Record<string, unknown>, name: string): Array<Record<string, unknown>> {
  const value = parent[name]
  if (value === undefined) return []
  if (!Array.isArray(value)) throw malformedXml()
  return value.map((item) => {
    if (item === '') return {}
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw malformedXml()
    return item as Record<string, unknown>
  })
}

export function malformedXml(cause?: unknown): DataError {
  return new DataError(
    'MalformedXML',
    'the XML you provided was not well-formed or did not validate against our published schema',
    cause === undefined ? undefined : { cause },
  )
}
