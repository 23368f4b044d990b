/**
 * Boundary checks for what callers hand the store. Each returns the value to keep (names trimmed) or
 * throws `OrgaError('InvalidInput')` saying what is wrong; values are typed `unknown` because they may
 * come straight from a request body.
 */

import { isUlid } from '@aruna/platform'
import { OrgaError } from './errors.js'
import type { AccessKeyRecord, JoiningNode, NodeInit, NodeKind, OidcSubject } from './types.js'

const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}]/u
const PEER_ID = /^[A-Za-z0-9]{1,128}$/
const REALM_ID = /^[A-Za-z0-9_-]{1,128}$/
const ATTRIBUTE_KEY = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/
const INVITE_SECRET = /^[A-Za-z0-9_-]{43}$/
const MAX_NAME = 128
const MAX_ADDRESSES = 32
const MAX_ATTRIBUTES = 64
const MAX_TTL_MS = 30 * 24 * 60 * 60 * 1000
/** `@aruna/auth`'s `ACCESS_KEY_ID_PATTERN`: `AK` and 18 characters of RFC 4648 base32. */
export const ACCESS_KEY_ID = /^AK[A-Z2-7]{18}$/
/** What `@aruna/auth` refuses in an access key's description: C0 and C1 control characters. */
const CONTROL_CHAR = /\p{Cc}/u
const MAX_ACCESS_KEY_DESCRIPTION = 256
const MAX_SEALED_FIELD = 1024

function invalid(message: string): OrgaError {
  return new OrgaError('InvalidInput', message)
}

/** A short printable string: no control characters, 1 to `max` characters. */
export function requireText(value: unknown, what: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${what} must be a non-empty string`)
  if (value.length > max) throw invalid(`${what} is longer than ${max} characters`)
  if (CONTROL.test(value)) throw invalid(`${what} contains control characters`)
  return value
}

/** A display name, trimmed: 1–128 characters. */
export function requireName(value: unknown, what = 'name'): string {
  if (typeof value !== 'string') throw invalid(`${what} must be a string`)
  const name = value.trim()
  if (name.length === 0) throw invalid(`${what} must not be empty`)
  if ([...name].length > MAX_NAME) throw invalid(`${what} is longer than ${MAX_NAME} characters`)
  if (CONTROL.test(name)) throw invalid(`${what} contains control characters`)
  return name
}

export function requireUlid(value: unknown, what: string): string {
  if (!isUlid(value)) throw invalid(`${what} must be a ULID`)
  return value
}

export function requireRealmId(value: unknown): string {
  if (typeof value !== 'string' || !REALM_ID.test(value)) {
    throw invalid('realm id must be 1–128 characters of base32/base64url')
  }
  return value
}

export function requirePeerId(value: unknown): string {
  if (typeof value !== 'string' || !PEER_ID.test(value))
    throw invalid('peer id must be 1–128 letters or digits')
  return value
}

export function requireAddresses(value: unknown): string[] {
  if (!Array.isArray(value)) throw invalid('addresses must be a list')
  if (value.length > MAX_ADDRESSES) throw invalid(`a node has at most ${MAX_ADDRESSES} addresses`)
  const addresses = value.map((address) => requireText(address, 'address', 512))
  if (addresses.some((address) => !address.startsWith('/'))) throw invalid('an address must be a multiaddr')
  if (new Set(addresses).size !== addresses.length) throw invalid('addresses must not repeat')
  return addresses
}

export function requireNodeKind(value: unknown): NodeKind {
  if (value !== 'management' && value !== 'server') throw invalid('node kind must be management or server')
  return value
}

export function requireJoiningNode(value: unknown): JoiningNode {
  if (typeof value !== 'object' || value === null) throw invalid('node must be an object')
  const node = value as Record<string, unknown>
  return {
    peerId: requirePeerId(node.peerId),
    delegation: requireText(node.delegation, 'delegation', 4096),
    addresses: requireAddresses(node.addresses),
  }
}

export function requireNodeInit(value: unknown): NodeInit {
  const node = requireJoiningNode(value)
  return { ...node, kind: requireNodeKind((value as Record<string, unknown>).kind) }
}

export function requireTtl(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TTL_MS) {
    throw invalid('ttlMs must be an integer from 1 ms to 30 days')
  }
  return value
}

export function requireInviteSecret(value: unknown): string {
  if (typeof value !== 'string' || !INVITE_SECRET.test(value)) throw invalid('malformed invite secret')
  return value
}

export function requireIdentity(value: unknown): OidcSubject {
  if (typeof value !== 'object' || value === null) throw invalid('identity must be an object')
  const identity = value as Record<string, unknown>
  return {
    issuer: requireText(identity.issuer, 'issuer', 512),
    subject: requireText(identity.subject, 'subject', 255),
  }
}

export function requireJti(value: unknown): string {
  return requireText(value, 'token id', 256)
}

/** Attributes to set; with `allowNull`, `null` values (removals) pass too. */
export function requireAttributes(value: unknown, allowNull: true): Record<string, string | null>
export function requireAttributes(value: unknown, allowNull: false): Record<string, string>
export function requireAttributes(value: unknown, allowNull: boolean): Record<string, string | null> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('attributes must be an object')
  }
  const entries = Object.entries(value)
  if (entries.length > MAX_ATTRIBUTES) throw invalid(`at most ${MAX_ATTRIBUTES} attributes`)
  const out: Record<string, string | null> = {}
  for (const [key, item] of entries) {
    if (!ATTRIBUTE_KEY.test(key)) throw invalid(`attribute key ${JSON.stringify(key)} is malformed`)
    if (item === null && allowNull) out[key] = null
    else if (typeof item === 'string' && item.length <= 1024 && !CONTROL.test(item)) out[key] = item
    else throw invalid(`attribute ${key} must be a string of at most 1024 characters`)
  }
  return out
}

/** A case-insensitive key for names that must be unique in a scope. */
export function nameKey(name: string): string {
  return name.toLowerCase()
}

/** Name order for listings: ignoring case, then by code unit; deterministic on every node. */
export function compareNames(a: string, b: string): number {
  const ka = nameKey(a)
  const kb = nameKey(b)
  if (ka !== kb) return ka < kb ? -1 : 1
  return a < b ? -1 : a > b ? 1 : 0
}

export function requireAccessKeyId(value: unknown): string {
  if (typeof value !== 'string' || !ACCESS_KEY_ID.test(value)) {
    throw invalid('access key id must be AK and 18 characters of base32')
  }
  return value
}

/**
 * An access key record with exactly its known fields (anything else is dropped), frozen. The user is
 * only checked to be a ULID here; whether it names a user is the store's business.
 */
export function requireAccessKeyRecord(value: unknown): AccessKeyRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('access key record must be an object')
  }
  const record = value as Record<string, unknown>
  const accessKeyId = requireAccessKeyId(record.accessKeyId)
  const userId = requireUlid(record.userId, 'user id')
  const { createdAt, description } = record
  if (typeof createdAt !== 'number' || !Number.isFinite(createdAt) || createdAt < 0) {
    throw invalid('createdAt must be a finite number of seconds ≥ 0')
  }
  if (description !== undefined) {
    if (typeof description !== 'string' || description.length > MAX_ACCESS_KEY_DESCRIPTION) {
      throw invalid(`description must be a string of at most ${MAX_ACCESS_KEY_DESCRIPTION} characters`)
    }
    if (CONTROL_CHAR.test(description)) throw invalid('description contains control characters')
  }
  const sealed = record.sealed
  if (typeof sealed !== 'object' || sealed === null || Array.isArray(sealed)) {
    throw invalid('sealed must be an object')
  }
  const fields = sealed as Record<string, unknown>
  const sealedField = (name: 'keyId' | 'iv' | 'ciphertext' | 'tag'): string => {
    const item = fields[name]
    if (typeof item !== 'string' || item.length === 0 || item.length > MAX_SEALED_FIELD) {
      throw invalid(`sealed.${name} must be a string of 1–${MAX_SEALED_FIELD} characters`)
    }
    if (CONTROL_CHAR.test(item)) throw invalid(`sealed.${name} contains control characters`)
    return item
  }
  return Object.freeze({
    accessKeyId,
    userId,
    createdAt,
    ...(description === undefined ? {} : { description }),
    sealed: Object.freeze({
      keyId: sealedField('keyId'),
      iv: sealedField('iv'),
      ciphertext: sealedField('ciphertext'),
      tag: sealedField('tag'),
    }),
  })
}
