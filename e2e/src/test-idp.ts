/**
 * The journey's OpenID provider: starts `test-idp-server.ts` as its own process (a real `oidc-provider`
 * with test users) and plays the user's browser for a device-flow sign-in: opens the verification URL the
 * CLI printed, follows redirects with a cookie jar (same origin only), submits each form the provider
 * shows (the user code's confirmation, then the sign-in form with the account's name) until a page
 * without a form.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

export interface TestIdp {
  readonly issuer: string
  readonly clientId: string
  readonly pid: number
  output(): string
  /** Completes a device-flow sign-in as `login` at `verificationUrl` (the URL with the user code). */
  signIn(verificationUrl: string, login: string): Promise<void>
  stop(): Promise<void>
}

export async function startTestIdp(users: readonly string[], timeoutMs = 15_000): Promise<TestIdp> {
  const child: ChildProcess = spawn(process.execPath, ['--no-warnings', join(here, 'test-idp-server.ts')], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, IDP_USERS: users.join(',') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d
  })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    out += d
  })
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  const deadline = Date.now() + timeoutMs
  let info: { issuer: string; clientId: string } | undefined
  while (info === undefined) {
    const line = out.split('\n').find((l) => l.startsWith('{"issuer"'))
    if (line !== undefined) info = JSON.parse(line) as { issuer: string; clientId: string }
    else if (child.exitCode !== null) throw new Error(`the test OIDC provider exited:\n${out}`)
    else if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the test OIDC provider did not start:\n${out}`)
    }
    await new Promise((r) => setTimeout(r, 25))
  }
  const { issuer, clientId } = info
  return {
    issuer,
    clientId,
    pid: child.pid ?? -1,
    output: () => out,
    signIn: (url, login) => browse(issuer, url, login),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    },
  }
}

interface Form {
  readonly action: string
  readonly method: 'GET' | 'POST'
  readonly fields: URLSearchParams
}

function attribute(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'i').exec(tag)
  return m === null ? undefined : (m[1] ?? m[2] ?? '').replace(/&amp;/g, '&')
}

/** The page's first form, with `login` filled into an empty `login` field. */
function firstForm(html: string, login: string): Form | undefined {
  const m = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html)
  if (m === null) return undefined
  const [, open = '', inner = ''] = m
  const fields = new URLSearchParams()
  for (const input of inner.match(/<input\b[^>]*>/gi) ?? []) {
    const name = attribute(input, 'name')
    if (name === undefined) continue
    const value = attribute(input, 'value') ?? ''
    fields.append(name, name === 'login' && value === '' ? login : value)
  }
  return {
    action: attribute(open, 'action') ?? '',
    method: (attribute(open, 'method') ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET',
    fields,
  }
}

async function browse(issuer: string, start: string, login: string): Promise<void> {
  const origin = new URL(issuer).origin
  const jar = new Map<string, string>()
  let next: { url: string; method: 'GET' | 'POST'; body?: string } = { url: start, method: 'GET' }
  for (let step = 0; step < 20; step++) {
    if (new URL(next.url).origin !== origin) throw new Error(`sign-in left the provider for ${next.url}`)
    const headers: Record<string, string> = { accept: 'text/html' }
    if (jar.size > 0) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    if (next.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded'
    const res = await fetch(next.url, {
      method: next.method,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
      ...(next.body !== undefined ? { body: next.body } : {}),
    })
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';')
      const eq = pair.indexOf('=')
      if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim())
    }
    const location = res.headers.get('location')
    if (res.status >= 300 && res.status < 400 && location !== null) {
      await res.body?.cancel()
      next = { url: new URL(location, next.url).href, method: 'GET' }
      continue
    }
    const html = await res.text()
    if (!res.ok)
      throw new Error(`the provider refused the sign-in (HTTP ${res.status}): ${html.slice(0, 500)}`)
    const form = firstForm(html, login)
    if (form === undefined) return // the success page
    const url = new URL(form.action || next.url, next.url)
    if (form.method === 'GET') {
      for (const [k, v] of form.fields) url.searchParams.append(k, v)
      next = { url: url.href, method: 'GET' }
    } else next = { url: url.href, method: 'POST', body: form.fields.toString() }
  }
  throw new Error('the sign-in took more than 20 steps')
}
