/**
 * The client side of the OAuth 2.0 Device Authorization Grant (RFC 8628), against any issuer that
 * offers it: discovery (`{issuer}/.well-known/openid-configuration` → `device_authorization_endpoint`,
 * `token_endpoint`), the device authorization request, then polling the token endpoint by the rules of
 * §3.5 (wait `interval` seconds, default 5; `authorization_pending` → keep going; `slow_down` → 5 s
 * more from then on; `access_denied` and `expired_token` end it), never past the code's `expires_in`,
 * and cancellable through an `AbortSignal`.
 *
 * `completeDevelopmentLogin` completes the sign-in page of the node's own development issuer over
 * HTTP (redirects, a cookie jar, submitting the forms it shows) for machines without a browser. It
 * refuses any issuer that the node does not advertise as `development`, that is not on a loopback
 * address, or that sends the sign-in anywhere but its own origin.
 */
import { isLoopbackUrl } from './loopback.js'
import type { LoginIssuer } from './types.js'

export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code'
export const DEFAULT_LOGIN_SCOPE = 'openid profile email'
/** RFC 8628 §3.2: the polling interval when the issuer names none. */
export const DEFAULT_POLL_INTERVAL_SECONDS = 5
/** RFC 8628 §3.5: what `slow_down` adds to the interval. */
export const SLOW_DOWN_SECONDS = 5
const DEFAULT_TIMEOUT_MS = 10_000
const MAX_RESPONSE_BYTES = 1024 * 1024
const MAX_POLL_FAILURES = 3
const MAX_BACKOFF_SECONDS = 60

/**
 * - `IssuerUnavailable`: the issuer (discovery, device or token endpoint) cannot be reached or answers
 *   nonsense.
 * - `Unsupported`: the issuer offers no device authorization grant.
 * - `AccessDenied`: the user (or the issuer) refused the login.
 * - `Expired`: the code expired before the sign-in was completed.
 * - `Cancelled`: the caller's signal aborted the flow.
 * - `ProtocolError`: an error answer the flow does not know, or a token answer without a usable token.
 * - `NotDevelopmentIssuer`: automatic completion was asked for an issuer it must not touch.
 * - `AutoLoginFailed`: the development issuer's sign-in pages could not be completed.
 */
export type DeviceFlowErrorCode =
  | 'IssuerUnavailable'
  | 'Unsupported'
  | 'AccessDenied'
  | 'Expired'
  | 'Cancelled'
  | 'ProtocolError'
  | 'NotDevelopmentIssuer'
  | 'AutoLoginFailed'

export class DeviceFlowError extends Error {
  override readonly name = 'DeviceFlowError'
  constructor(
    readonly code: DeviceFlowErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** How requests are made: every one has a timeout, and all stop when `signal` aborts. */
export interface DeviceFlowHttp {
  readonly fetch?: typeof globalThis.fetch
  readonly signal?: AbortSignal
  /** Timeout of one request, in milliseconds (default 10 000). */
  readonly timeoutMs?: number
}

export interface IssuerEndpoints {
  readonly issuer: string
  readonly deviceAuthorizationEndpoint: string
  readonly tokenEndpoint: string
}

export interface DeviceAuthorization {
  readonly deviceCode: string
  /** What the user types (or confirms) at `verificationUri`. */
  readonly userCode: string
  readonly verificationUri: string
  /** The verification URI with the code in it, when the issuer gives one. */
  readonly verificationUriComplete?: string
  /** Lifetime of the codes in seconds. */
  readonly expiresIn: number
  /** Seconds between two polls. */
  readonly interval: number
  /** When the codes expire, in milliseconds on the flow's clock. */
  readonly expiresAt: number
}

export interface DeviceTokens {
  readonly accessToken: string
  readonly tokenType: string
  readonly idToken?: string
  readonly refreshToken?: string
  readonly expiresIn?: number
  readonly scope?: string
}

export interface PollOptions extends DeviceFlowHttp {
  readonly clientId: string
  /** The clock in milliseconds (default `Date.now`). */
  readonly clock?: () => number
  /** Waits `ms` milliseconds; rejects when `signal` aborts (default: a timer). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Poll once at once before waiting (when the sign-in is known to be complete). */
  readonly pollImmediately?: boolean
  /** Told the new interval (seconds) after each `slow_down`. */
  readonly onSlowDown?: (intervalSeconds: number) => void
}

export interface DeviceFlowOptions extends DeviceFlowHttp {
  readonly issuer: string
  readonly clientId: string
  /** Default `openid profile email`. */
  readonly scope?: string
  /** Shows the user where to go and which code to enter. */
  onAuthorization?(authorization: DeviceAuthorization, endpoints: IssuerEndpoints): void | Promise<void>
  /** Completes the sign-in itself (e.g. `completeDevelopmentLogin`); polling starts at once after it. */
  complete?(authorization: DeviceAuthorization, endpoints: IssuerEndpoints): Promise<void>
  readonly clock?: () => number
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  readonly onSlowDown?: (intervalSeconds: number) => void
}

/** Discovery, device authorization, (optional completion,) polling: the tokens of a finished login. */
export async function runDeviceFlow(options: DeviceFlowOptions): Promise<DeviceTokens> {
  const endpoints = await discoverEndpoints(options.issuer, options)
  const authorization = await requestDeviceAuthorization(endpoints, {
    ...options,
    scope: options.scope ?? DEFAULT_LOGIN_SCOPE,
  })
  await options.onAuthorization?.(authorization, endpoints)
  let pollImmediately = false
  if (options.complete !== undefined) {
    await options.complete(authorization, endpoints)
    pollImmediately = true
  }
  return pollDeviceToken(endpoints, authorization, { ...options, pollImmediately })
}

/** Reads the issuer's discovery document. @throws DeviceFlowError('IssuerUnavailable' | 'Unsupported') */
export async function discoverEndpoints(issuer: string, http: DeviceFlowHttp = {}): Promise<IssuerEndpoints> {
  const url = discoveryUrl(issuer)
  const response = await send(url, { headers: { accept: 'application/json' } }, http, `issuer ${issuer}`)
  const document = await readJson(response, `the discovery document of ${issuer}`)
  if (!response.ok || !isRecord(document)) {
    throw new DeviceFlowError(
      'IssuerUnavailable',
      `issuer ${issuer} has no usable discovery document (HTTP ${response.status})`,
    )
  }
  if (document.issuer !== issuer) {
    throw new DeviceFlowError(
      'IssuerUnavailable',
      `the discovery document at ${url} names issuer ${JSON.stringify(document.issuer)}, not ${issuer}`,
    )
  }
  const device = document.device_authorization_endpoint
  const token = document.token_endpoint
  if (typeof device !== 'string' || !isHttpUrl(device)) {
    throw new DeviceFlowError('Unsupported', `issuer ${issuer} does not offer the device authorization grant`)
  }
  if (typeof token !== 'string' || !isHttpUrl(token)) {
    throw new DeviceFlowError('IssuerUnavailable', `issuer ${issuer} names no usable token endpoint`)
  }
  return { issuer, deviceAuthorizationEndpoint: device, tokenEndpoint: token }
}

/** RFC 8628 §3.1–3.2. @throws DeviceFlowError */
export async function requestDeviceAuthorization(
  endpoints: IssuerEndpoints,
  options: DeviceFlowHttp & { clientId: string; scope?: string; clock?: () => number },
): Promise<DeviceAuthorization> {
  const clock = options.clock ?? Date.now
  const response = await send(
    endpoints.deviceAuthorizationEndpoint,
    form({ client_id: options.clientId, scope: options.scope ?? DEFAULT_LOGIN_SCOPE }),
    options,
    `the device authorization endpoint of ${endpoints.issuer}`,
  )
  const body = await readJson(response, 'the device authorization answer')
  if (!response.ok || !isRecord(body)) {
    throw new DeviceFlowError(
      response.status >= 500 ? 'IssuerUnavailable' : 'ProtocolError',
      `issuer ${endpoints.issuer} refused the device authorization: ${describeError(body, response.status)}`,
    )
  }
  const { device_code, user_code, verification_uri, verification_uri_complete, expires_in, interval } = body
  if (
    typeof device_code !== 'string' ||
    typeof user_code !== 'string' ||
    typeof verification_uri !== 'string' ||
    !isHttpUrl(verification_uri) ||
    typeof expires_in !== 'number' ||
    !(expires_in > 0)
  ) {
    throw new DeviceFlowError(
      'ProtocolError',
      `issuer ${endpoints.issuer} sent a malformed device authorization`,
    )
  }
  const seconds =
    typeof interval === 'number' && Number.isFinite(interval) && interval > 0
      ? interval
      : DEFAULT_POLL_INTERVAL_SECONDS
  return {
    deviceCode: device_code,
    userCode: user_code,
    verificationUri: verification_uri,
    ...(typeof verification_uri_complete === 'string' && isHttpUrl(verification_uri_complete)
      ? { verificationUriComplete: verification_uri_complete }
      : {}),
    expiresIn: expires_in,
    interval: seconds,
    expiresAt: clock() + expires_in * 1000,
  }
}

/** RFC 8628 §3.4–3.5: polls until the user finished, refused, or the code expired. @throws DeviceFlowError */
export async function pollDeviceToken(
  endpoints: IssuerEndpoints,
  authorization: DeviceAuthorization,
  options: PollOptions,
): Promise<DeviceTokens> {
  const clock = options.clock ?? Date.now
  const sleep = options.sleep ?? defaultSleep
  let interval = authorization.interval
  let wait = options.pollImmediately ? 0 : interval
  let failures = 0
  const expired = () =>
    new DeviceFlowError('Expired', 'the login code expired before the sign-in was completed')
  for (;;) {
    const remaining = authorization.expiresAt - clock()
    if (remaining <= 0) throw expired()
    if (wait > 0) {
      try {
        await sleep(Math.min(wait * 1000, remaining), options.signal)
      } catch (err) {
        if (options.signal?.aborted) throw new DeviceFlowError('Cancelled', 'the login was cancelled')
        throw err
      }
      if (clock() >= authorization.expiresAt) throw expired()
    }
    let response: Response
    try {
      response = await send(
        endpoints.tokenEndpoint,
        form({
          grant_type: DEVICE_CODE_GRANT_TYPE,
          device_code: authorization.deviceCode,
          client_id: options.clientId,
        }),
        options,
        `the token endpoint of ${endpoints.issuer}`,
      )
    } catch (err) {
      // §3.5: back off on connection errors, up to a point.
      if (
        err instanceof DeviceFlowError &&
        err.code === 'IssuerUnavailable' &&
        ++failures < MAX_POLL_FAILURES
      ) {
        wait = Math.min(interval * 2 ** failures, MAX_BACKOFF_SECONDS)
        continue
      }
      throw err
    }
    failures = 0
    const body = await readJson(response, 'the token answer')
    if (response.ok) return tokensOf(body, endpoints.issuer)
    const error = isRecord(body) ? body.error : undefined
    switch (error) {
      case 'authorization_pending':
        wait = interval
        continue
      case 'slow_down':
        interval += SLOW_DOWN_SECONDS
        wait = interval
        options.onSlowDown?.(interval)
        continue
      case 'access_denied':
        throw new DeviceFlowError('AccessDenied', `the login was refused at ${endpoints.issuer}`)
      case 'expired_token':
        throw expired()
      default:
        throw new DeviceFlowError(
          response.status >= 500 ? 'IssuerUnavailable' : 'ProtocolError',
          `issuer ${endpoints.issuer} refused the token request: ${describeError(body, response.status)}`,
        )
    }
  }
}

/**
 * The token the CLI exchanges at the node: the ID token (its audience is the client id), else the
 * access token when it is a JWT. @throws DeviceFlowError('ProtocolError')
 */
export function loginTokenOf(tokens: DeviceTokens): string {
  if (tokens.idToken !== undefined) return tokens.idToken
  if (tokens.accessToken.split('.').length === 3) return tokens.accessToken
  throw new DeviceFlowError('ProtocolError', 'the issuer sent no ID token and an opaque access token')
}

/**
 * Is `issuer` the node's development issuer, as the node advertises it (`development: true`) and on a
 * loopback address? @throws DeviceFlowError('NotDevelopmentIssuer') otherwise.
 */
export function developmentIssuerOf(issuer: string, advertised: readonly LoginIssuer[]): LoginIssuer {
  const entry = advertised.find((i) => i.issuer === issuer)
  if (entry === undefined || !entry.development) {
    throw new DeviceFlowError(
      'NotDevelopmentIssuer',
      `${issuer} is not the node's development issuer: complete the sign-in in a browser`,
    )
  }
  if (!isLoopbackUrl(issuer)) {
    throw new DeviceFlowError(
      'NotDevelopmentIssuer',
      `the development issuer ${issuer} is not on a loopback address: complete the sign-in in a browser`,
    )
  }
  return entry
}

export interface DevelopmentLoginOptions extends DeviceFlowHttp {
  /** The issuer the authorization came from. */
  readonly issuer: string
  /** The issuers the node advertises (`GET /v1/auth/config`). */
  readonly advertised: readonly LoginIssuer[]
  /** Requests at most (default 20). */
  readonly maxSteps?: number
}

/**
 * Completes the development issuer's sign-in for `authorization` without a browser: opens the
 * verification URI, follows redirects (same origin only) with a cookie jar, and submits each form the
 * issuer shows (the user code, its confirmation, "continue as the development user") until a page
 * without a form. Poll the token endpoint afterwards. @throws DeviceFlowError
 */
export async function completeDevelopmentLogin(
  authorization: DeviceAuthorization,
  options: DevelopmentLoginOptions,
): Promise<void> {
  developmentIssuerOf(options.issuer, options.advertised)
  const origin = new URL(options.issuer).origin
  const jar = new CookieJar()
  let next: { url: string; method: 'GET' | 'POST'; body?: URLSearchParams } = {
    url: authorization.verificationUriComplete ?? authorization.verificationUri,
    method: 'GET',
  }
  const maxSteps = options.maxSteps ?? 20
  for (let step = 0; step < maxSteps; step++) {
    if (!sameOrigin(next.url, origin)) {
      throw new DeviceFlowError(
        'AutoLoginFailed',
        `the development issuer sent the sign-in to ${safeOrigin(next.url)}, not ${origin}; refusing to follow`,
      )
    }
    const headers: Record<string, string> = { accept: 'text/html' }
    const cookie = jar.header(next.url)
    if (cookie !== '') headers.cookie = cookie
    if (next.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded'
    const response = await send(
      next.url,
      {
        method: next.method,
        headers,
        redirect: 'manual',
        ...(next.body !== undefined ? { body: next.body.toString() } : {}),
      },
      options,
      `the development issuer ${options.issuer}`,
    )
    jar.store(next.url, response.headers.getSetCookie())
    if ([301, 302, 303, 307, 308].includes(response.status)) {
      const location = response.headers.get('location')
      await response.body?.cancel()
      if (location === null) {
        throw new DeviceFlowError('AutoLoginFailed', 'the development issuer redirected to nowhere')
      }
      const keep = response.status === 307 || response.status === 308
      next = {
        url: new URL(location, next.url).href,
        method: keep ? next.method : 'GET',
        ...(keep && next.body !== undefined ? { body: next.body } : {}),
      }
      continue
    }
    const html = await readText(response, 'a sign-in page')
    if (!response.ok) {
      throw new DeviceFlowError(
        'AutoLoginFailed',
        `the development issuer refused the sign-in (HTTP ${response.status}): ${textOf(html)}`,
      )
    }
    const submission = pickForm(html, authorization.userCode)
    if (submission === undefined) return // a page without a form: the success page
    next = {
      url: new URL(submission.action, next.url).href,
      method: submission.method,
      ...(submission.method === 'POST' ? { body: submission.fields } : {}),
    }
    if (submission.method === 'GET') {
      const url = new URL(next.url)
      for (const [k, v] of submission.fields) url.searchParams.append(k, v)
      next = { url: url.href, method: 'GET' }
    }
  }
  throw new DeviceFlowError(
    'AutoLoginFailed',
    `the development issuer's sign-in took more than ${maxSteps} steps`,
  )
}

// ---------------------------------------------------------------------------------------------------
// HTTP

function discoveryUrl(issuer: string): string {
  if (!isHttpUrl(issuer))
    throw new DeviceFlowError('IssuerUnavailable', `issuer ${issuer} is not an http(s) URL`)
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`
}

function form(params: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(params).toString(),
  }
}

async function send(url: string, init: RequestInit, http: DeviceFlowHttp, what: string): Promise<Response> {
  if (http.signal?.aborted) throw new DeviceFlowError('Cancelled', 'the login was cancelled')
  const timeout = AbortSignal.timeout(http.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  const signal = http.signal === undefined ? timeout : AbortSignal.any([http.signal, timeout])
  try {
    return await (http.fetch ?? globalThis.fetch)(url, { ...init, signal })
  } catch (err) {
    if (http.signal?.aborted) throw new DeviceFlowError('Cancelled', 'the login was cancelled')
    const why = timeout.aborted ? 'timed out' : causeOf(err)
    throw new DeviceFlowError('IssuerUnavailable', `${what} is not reachable: ${why}`, { cause: err })
  }
}

async function readText(response: Response, what: string): Promise<string> {
  const text = await response.text().catch((err: unknown) => {
    throw new DeviceFlowError('IssuerUnavailable', `${what} could not be read: ${causeOf(err)}`)
  })
  if (text.length > MAX_RESPONSE_BYTES) throw new DeviceFlowError('IssuerUnavailable', `${what} is too large`)
  return text
}

async function readJson(response: Response, what: string): Promise<unknown> {
  const text = await readText(response, what)
  try {
    return JSON.parse(text)
  } catch {
    if (response.ok) throw new DeviceFlowError('IssuerUnavailable', `${what} is not JSON`)
    return undefined
  }
}

function tokensOf(body: unknown, issuer: string): DeviceTokens {
  if (!isRecord(body) || typeof body.access_token !== 'string' || typeof body.token_type !== 'string') {
    throw new DeviceFlowError('ProtocolError', `issuer ${issuer} sent a token answer without an access token`)
  }
  const optional = <T>(value: unknown, type: 'string' | 'number'): T | undefined =>
    typeof value === type ? (value as T) : undefined
  const idToken = optional<string>(body.id_token, 'string')
  const refreshToken = optional<string>(body.refresh_token, 'string')
  const expiresIn = optional<number>(body.expires_in, 'number')
  const scope = optional<string>(body.scope, 'string')
  return {
    accessToken: body.access_token,
    tokenType: body.token_type,
    ...(idToken !== undefined ? { idToken } : {}),
    ...(refreshToken !== undefined ? { refreshToken } : {}),
    ...(expiresIn !== undefined ? { expiresIn } : {}),
    ...(scope !== undefined ? { scope } : {}),
  }
}

function describeError(body: unknown, status: number): string {
  if (isRecord(body) && typeof body.error === 'string') {
    const detail =
      typeof body.error_description === 'string' ? ` (${body.error_description.slice(0, 200)})` : ''
    return `${body.error.slice(0, 100)}${detail}`
  }
  return `HTTP ${status}`
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text)
    return protocol === 'http:' || protocol === 'https:'
  } catch {
    return false
  }
}

function sameOrigin(url: string, origin: string): boolean {
  try {
    return new URL(url).origin === origin
  } catch {
    return false
  }
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return 'an invalid address'
  }
}

function causeOf(err: unknown): string {
  if (err instanceof Error) return err.cause instanceof Error ? err.cause.message : err.message
  return String(err)
}

// ---------------------------------------------------------------------------------------------------
// Just enough HTML and cookies for the development issuer's pages

interface FormSubmission {
  readonly action: string
  readonly method: 'GET' | 'POST'
  readonly fields: URLSearchParams
}

/**
 * The form to submit on a page: the first one with a submit control that is not an abort. Its fields:
 * the named inputs (hidden, text…; checkboxes and radios when checked), an empty `user_code` filled
 * in, and the name/value of the button pressed, if it has one.
 */
function pickForm(html: string, userCode: string): FormSubmission | undefined {
  const withoutNoise = html.replace(
    /<!--[\s\S]*?-->|<script\b[\s\S]*?<\/script>|<style\b[\s\S]*?<\/style>/gi,
    '',
  )
  for (const match of withoutNoise.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributesOf(match[1] ?? '')
    const inner = match[2] ?? ''
    const fields = new URLSearchParams()
    for (const input of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const a = attributesOf(input[1] ?? '')
      const type = (a.type ?? 'text').toLowerCase()
      if (a.name === undefined || a.name === 'abort' || a.disabled !== undefined) continue
      if (['submit', 'button', 'image', 'reset', 'file'].includes(type)) continue
      if ((type === 'checkbox' || type === 'radio') && a.checked === undefined) continue
      const value = a.value ?? (type === 'checkbox' ? 'on' : '')
      fields.append(a.name, a.name === 'user_code' && value === '' ? userCode : value)
    }
    // The button pressed: inside the form, or outside it naming the form by id.
    const buttons = [
      ...[...inner.matchAll(/<button\b([^>]*)>/gi)].map((b) => attributesOf(b[1] ?? '')),
      ...(attrs.id === undefined
        ? []
        : [...withoutNoise.matchAll(/<button\b([^>]*)>/gi)]
            .map((b) => attributesOf(b[1] ?? ''))
            .filter((b) => b.form === attrs.id)),
    ].filter((b) => (b.type ?? 'submit').toLowerCase() === 'submit' && b.name !== 'abort')
    const hasSubmitInput = [...inner.matchAll(/<input\b([^>]*)>/gi)].some(
      (i) => (attributesOf(i[1] ?? '').type ?? '').toLowerCase() === 'submit',
    )
    const pressed = buttons[0]
    if (pressed === undefined && !hasSubmitInput && !/<noscript\b/i.test(inner)) continue
    if (pressed?.name !== undefined) fields.append(pressed.name, pressed.value ?? '')
    const method = (attrs.method ?? 'get').toLowerCase() === 'post' ? 'POST' : 'GET'
    return { action: attrs.action ?? '', method, fields }
  }
  return undefined
}

function attributesOf(text: string): Record<string, string | undefined> {
  const attrs: Record<string, string | undefined> = {}
  for (const m of text.matchAll(/([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    const name = (m[1] as string).toLowerCase()
    const raw = m[2] ?? m[3] ?? m[4]
    if (!(name in attrs)) attrs[name] = raw === undefined ? '' : decodeEntities(raw)
  }
  return attrs
}

function decodeEntities(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' }
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, entity: string) => {
    if (entity[0] === '#') {
      const code =
        entity[1] === 'x' || entity[1] === 'X'
          ? Number.parseInt(entity.slice(2), 16)
          : Number(entity.slice(1))
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : all
    }
    return named[entity.toLowerCase()] ?? all
  })
}

/** The visible text of a page, shortened: for error messages. */
function textOf(html: string): string {
  const text = decodeEntities(
    html
      .replace(/<(script|style|title)\b[\s\S]*?<\/\1>/gi, ' ')
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  )
  return text.length > 300 ? `${text.slice(0, 300)}…` : text
}

interface Cookie {
  readonly name: string
  readonly value: string
  readonly path: string
}

/** A cookie jar for one origin: names, values, paths and expiry (RFC 6265 path matching). */
export class CookieJar {
  readonly #cookies = new Map<string, Cookie>()

  /** Keeps the cookies of a response to `url` (`Set-Cookie` lines); an expired one is removed. */
  store(url: string, setCookies: readonly string[]): void {
    const requestPath = new URL(url).pathname
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';')
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      let path = defaultPath(requestPath)
      let expired = false
      for (const attribute of attributes) {
        const [k = '', ...v] = attribute.split('=')
        const key = k.trim().toLowerCase()
        const val = v.join('=').trim()
        if (key === 'path' && val.startsWith('/')) path = val
        if (key === 'max-age' && Number(val) <= 0) expired = true
        if (key === 'expires' && Date.parse(val) <= Date.now()) expired = true
      }
      const id = `${name};${path}`
      if (expired) this.#cookies.delete(id)
      else this.#cookies.set(id, { name, value, path })
    }
  }

  /** The `Cookie` header for a request to `url` (longest paths first), or ''. */
  header(url: string): string {
    const path = new URL(url).pathname
    return [...this.#cookies.values()]
      .filter((c) => pathMatches(path, c.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ')
  }
}

function defaultPath(requestPath: string): string {
  const slash = requestPath.lastIndexOf('/')
  return slash <= 0 ? '/' : requestPath.slice(0, slash)
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true
  if (!requestPath.startsWith(cookiePath)) return false
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'
}
