import type { JSONWebKeySet } from 'jose'
import { AuthError } from './errors.js'
import { quote } from './resource-path.js'

/**
 * Fetching what an OIDC issuer publishes: its discovery document (OpenID Connect Discovery 1.0 §4) and
 * its JWKS. Every failure — network, timeout, HTTP status, size, JSON, shape — is
 * AuthError('IssuerUnavailable'), never a crash: the provider is outside our control.
 */

/** The largest discovery document or JWKS read. */
export const MAX_OIDC_DOCUMENT_BYTES = 512 * 1024

/** The most keys kept from one JWKS. */
export const MAX_JWKS_KEYS = 100

/** How to reach the provider. */
export interface OidcFetchOptions {
  readonly fetch: typeof globalThis.fetch
  readonly timeoutMs: number
}

/** Where an issuer's discovery document is: `{issuer}/.well-known/openid-configuration`. */
export function discoveryUrlOf(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
}

/**
 * Reads the issuer's discovery document and returns its `jwks_uri`. The document must name exactly this
 * issuer (§4.3), and the JWKS must not be fetched over plain http when the issuer is https.
 * @throws AuthError('IssuerUnavailable')
 */
export async function discoverJwksUri(issuer: string, options: OidcFetchOptions): Promise<string> {
  const url = discoveryUrlOf(issuer)
  const document = await fetchJson(url, options)
  if (!isObject(document)) throw unavailable(`the discovery document at ${url} is not a JSON object`)
  if (document.issuer !== issuer) {
    throw unavailable(`the discovery document at ${url} is for issuer ${quote(String(document.issuer))}`)
  }
  const jwksUri = document.jwks_uri
  if (typeof jwksUri !== 'string' || !isFetchableUrl(jwksUri)) {
    throw unavailable(`the discovery document at ${url} has no usable jwks_uri`)
  }
  if (new URL(issuer).protocol === 'https:' && new URL(jwksUri).protocol !== 'https:') {
    throw unavailable(`the jwks_uri of ${issuer} is not https`)
  }
  return jwksUri
}

/**
 * Fetches a JWKS and keeps its public asymmetric signing keys (RSA, EC, OKP; no private parts, no
 * symmetric keys, at most `MAX_JWKS_KEYS`). @throws AuthError('IssuerUnavailable')
 */
export async function fetchJwks(jwksUri: string, options: OidcFetchOptions): Promise<JSONWebKeySet> {
  const document = await fetchJson(jwksUri, options)
  if (!isObject(document) || !Array.isArray(document.keys)) {
    throw unavailable(`${jwksUri} is not a JWK set`)
  }
  const keys = document.keys
    .filter(
      (key): key is Record<string, unknown> =>
        isObject(key) &&
        (key.kty === 'RSA' || key.kty === 'EC' || key.kty === 'OKP') &&
        key.d === undefined &&
        (key.use === undefined || key.use === 'sig'),
    )
    .slice(0, MAX_JWKS_KEYS)
  return { keys } as JSONWebKeySet
}

/** True for an absolute http(s) URL. */
export function isFetchableUrl(text: string): boolean {
  try {
    const url = new URL(text)
    return url.protocol === 'https:' || url.protocol === 'http:'
  } catch {
    return false
  }
}

async function fetchJson(url: string, options: OidcFetchOptions): Promise<unknown> {
  let response: Response
  try {
    response = await options.fetch(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(options.timeoutMs),
    })
  } catch (err) {
    throw unavailable(`cannot fetch ${url}: ${(err as Error).message}`, err)
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {})
    throw unavailable(`${url} answered HTTP ${response.status}`)
  }
  const text = await readLimited(response, url)
  try {
    return JSON.parse(text)
  } catch (err) {
    throw unavailable(`${url} did not answer JSON`, err)
  }
}

/** The body as text, refusing more than `MAX_OIDC_DOCUMENT_BYTES` without reading it all. */
async function readLimited(response: Response, url: string): Promise<string> {
  const tooLarge = () => unavailable(`${url} answered more than ${MAX_OIDC_DOCUMENT_BYTES} bytes`)
  if (Number(response.headers.get('content-length') ?? 0) > MAX_OIDC_DOCUMENT_BYTES) {
    await response.body?.cancel().catch(() => {})
    throw tooLarge()
  }
  if (response.body === null) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > MAX_OIDC_DOCUMENT_BYTES) {
        await reader.cancel().catch(() => {})
        throw tooLarge()
      }
      chunks.push(value)
    }
  } catch (err) {
    if (err instanceof AuthError) throw err
    throw unavailable(`reading ${url} failed: ${(err as Error).message}`, err)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function unavailable(message: string, cause?: unknown): AuthError {
  return new AuthError('IssuerUnavailable', message, cause === undefined ? undefined : { cause })
}
