import { DataError } from '../errors.js'
import type { CorsConfiguration, CorsMethod, CorsRule } from '../port.js'
import { decodeXmlText, elementsOf, leaf, malformedXml, node, S3_XMLNS } from './xml.js'

/** At most this many rules in a configuration (S3's limit). */
export const MAX_CORS_RULES = 100
/** The largest PutBucketCors body (S3's limit on a CORS configuration). */
export const MAX_CORS_BODY = 64 * 1024
/** The methods a rule can allow, as S3 spells them (case matters). */
export const CORS_METHODS: ReadonlySet<string> = new Set<CorsMethod>(['GET', 'PUT', 'POST', 'DELETE', 'HEAD'])

/** The longest rule `ID`, in characters (code points). */
export const MAX_CORS_ID_LENGTH = 255
/** The greatest `MaxAgeSeconds`: a 32-bit count of seconds. */
export const MAX_CORS_AGE_SECONDS = 2 ** 31 - 1
const RULE_ELEMENTS = new Set([
  'ID',
  'AllowedOrigin',
  'AllowedMethod',
  'AllowedHeader',
  'ExposeHeader',
  'MaxAgeSeconds',
])
/** An HTTP header name (RFC 9110 token): an expose header goes into a response header as it is. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * A PutBucketCors document (the content of its `CORSConfiguration` root, as `xmlBodyOf` parses it)
 * as a configuration, checked as S3 checks it: the structure of the whole document first
 * (`MalformedXML`: no rule or more than 100, a rule without `AllowedOrigin` or `AllowedMethod`, an
 * element S3 does not define, text between elements, a `MaxAgeSeconds` that is not a 32-bit count of
 * seconds, an `ID` over 255 characters, a single element twice), then the values rule by rule
 * (`InvalidRequest`: a method S3 does not allow, more than one `*` in an origin or allowed header, a
 * `*` in an expose header). Values are kept as sent.
 */
export function parseCorsConfiguration(root: Record<string, unknown>): CorsConfiguration {
  checkChildren(root, new Set(['CORSRule']))
  const elements = elementsOf(root, 'CORSRule')
  if (elements.length === 0 || elements.length > MAX_CORS_RULES) throw malformedXml()
  const rules = elements.map(ruleOf)
  for (const rule of rules) validateCorsRuleValues(rule)
  return { rules }
}

function ruleOf(element: Record<string, unknown>): CorsRule {
  checkChildren(element, RULE_ELEMENTS)
  const allowedOrigins = textsOf(element, 'AllowedOrigin')
  const allowedMethods = textsOf(element, 'AllowedMethod')
  if (allowedOrigins.length === 0 || allowedMethods.length === 0) throw malformedXml()
  const rule: CorsRule = {
    allowedOrigins,
    allowedMethods: allowedMethods as CorsMethod[],
    allowedHeaders: textsOf(element, 'AllowedHeader'),
    exposeHeaders: textsOf(element, 'ExposeHeader'),
  }
  const id = singleTextOf(element, 'ID')
  if (id !== undefined) {
    if ([...id].length > MAX_CORS_ID_LENGTH) throw malformedXml()
    rule.id = id
  }
  const maxAge = singleTextOf(element, 'MaxAgeSeconds')?.trim()
  if (maxAge !== undefined) {
    if (!/^\d{1,10}$/.test(maxAge) || Number(maxAge) > MAX_CORS_AGE_SECONDS) throw malformedXml()
    rule.maxAgeSeconds = Number(maxAge)
  }
  return rule
}

/**
 * The value checks S3 makes on one rule (`InvalidRequest`): methods S3 allows, at most one `*` in an
 * origin or allowed header, expose headers that are header names without `*`. Replication checks
 * rules received from other nodes with the same function.
 */
export function validateCorsRuleValues(rule: CorsRule): void {
  for (const method of rule.allowedMethods) {
    if (!CORS_METHODS.has(method)) {
      throw new DataError(
        'InvalidRequest',
        `Found unsupported HTTP method in CORS config. Unsupported method is ${method}`,
      )
    }
  }
  for (const origin of rule.allowedOrigins) {
    if (wildcards(origin) > 1)
      throw new DataError('InvalidRequest', `AllowedOrigin "${origin}" can not have more than one wildcard.`)
  }
  for (const header of rule.allowedHeaders) {
    if (wildcards(header) > 1)
      throw new DataError('InvalidRequest', `AllowedHeader "${header}" can not have more than one wildcard.`)
  }
  for (const header of rule.exposeHeaders) {
    if (header.includes('*')) {
      throw new DataError(
        'InvalidRequest',
        `ExposeHeader "${header}" contains wildcard. We currently do not support wildcard for ExposeHeader.`,
      )
    }
    if (!HEADER_NAME.test(header.trim()))
      throw new DataError('InvalidRequest', `ExposeHeader "${header}" contains invalid character.`)
  }
}

function wildcards(value: string): number {
  return value.split('*').length - 1
}

/** Only `allowed` elements, and no text beside them but whitespace. */
function checkChildren(element: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  for (const [name, value] of Object.entries(element)) {
    if (name === '#text') {
      if (typeof value !== 'string' || value.trim() !== '') throw malformedXml()
    } else if (!allowed.has(name)) {
      throw malformedXml()
    }
  }
}

/** The texts of a repeated element (parsed as an array); an element inside one is `MalformedXML`. */
function textsOf(element: Record<string, unknown>, name: string): string[] {
  const values = element[name]
  if (values === undefined) return []
  if (!Array.isArray(values)) throw malformedXml()
  return values.map((value) => {
    if (typeof value !== 'string') throw malformedXml()
    return decodeXmlText(value)
  })
}

/** The text of an element that may appear once. */
function singleTextOf(element: Record<string, unknown>, name: string): string | undefined {
  const value = element[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw malformedXml()
  return decodeXmlText(value)
}

/** GetBucketCors: the configuration with its elements in the order S3 writes them. */
export function corsConfigurationXml(cors: CorsConfiguration): string {
  return node(
    'CORSConfiguration',
    cors.rules.map((rule) =>
      node('CORSRule', [
        rule.id !== undefined && leaf('ID', rule.id),
        ...rule.allowedMethods.map((method) => leaf('AllowedMethod', method)),
        ...rule.allowedOrigins.map((origin) => leaf('AllowedOrigin', origin)),
        ...rule.allowedHeaders.map((header) => leaf('AllowedHeader', header)),
        rule.maxAgeSeconds !== undefined && leaf('MaxAgeSeconds', rule.maxAgeSeconds),
        ...rule.exposeHeaders.map((header) => leaf('ExposeHeader', header)),
      ]),
    ),
    S3_XMLNS,
  )
}
