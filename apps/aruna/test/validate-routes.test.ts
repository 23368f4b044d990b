import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { TokenVerifier, VerifiedToken } from '@aruna/auth'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createValidateRoutes, MAX_VALIDATE_BYTES } from '../src/http/validate-routes.js'
import { readOperatorFile } from '../src/services/operator-file.js'
import { type OneNode, type RestAnswer, restCall, startOneNode } from './one-node.js'

const fixture = (name: string) =>
  readFile(fileURLToPath(new URL(`./fixtures/validate/${name}`, import.meta.url)))

describe('POST /v1/validate', () => {
  let one: OneNode
  let token: string
  beforeAll(async () => {
    one = await startOneNode('aruna-validate-')
    token = (await readOperatorFile(one.dir))?.token ?? ''
  })
  afterAll(async () => {
    await one?.stop()
  })

  const post = async (
    body: string | Uint8Array,
    type: string,
    bearer: string | null = token,
  ): Promise<RestAnswer> => {
    const response = await fetch(`${one.node.restUrl}/v1/validate`, {
      method: 'POST',
      headers: {
        'content-type': type,
        ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
      },
      body,
    })
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      body: await response.json(),
    }
  }

  it('answers the report of a valid crate, and of an invalid one (still 200)', async () => {
    const valid = await restCall(
      one.node,
      'POST',
      '/v1/validate',
      token,
      JSON.parse(String(await fixture('valid.json'))),
    )
    expect(valid.status).toBe(200)
    expect(valid.body).toMatchObject({ valid: true, counts: { errors: 0, failed: 0 } })
    expect(valid.body.rules.length).toBe(valid.body.counts.passed + valid.body.counts.skipped)

    const invalid = await post(await fixture('invalid.json'), 'application/ld+json')
    expect(invalid.status).toBe(200)
    expect(invalid.body).toMatchObject({ valid: false, counts: { errors: 1 } })
    expect(invalid.body.problems[0]).toMatchObject({ severity: 'error', rule: 'workflow.name' })
    expect(invalid.body.rules.find((r: { rule: string }) => r.rule === 'workflow.name').outcome).toBe(
      'failed',
    )
  })

  it('validates a zip against the payload it carries', async () => {
    const zip = await post(await fixture('crate.zip'), 'application/zip')
    expect(zip.status).toBe(200)
    expect(zip.body).toMatchObject({ valid: true, version: '1.2' })
    expect(zip.body.rules.find((r: { rule: string }) => r.rule === 'crate.zip').outcome).toBe('passed')
    const notZip = await post('not a zip', 'application/zip')
    expect(notZip.status).toBe(200)
    expect(notZip.body.problems[0].rule).toBe('crate.zip')
  })

  it('needs a realm token (any user) and refuses bodies that are not JSON (400) or of another media type (415)', async () => {
    const anonymous = await post(await fixture('valid.json'), 'application/json', null)
    expect(anonymous.status).toBe(401)
    expect(anonymous.type).toBe('application/problem+json')
    const notJson = await post('{ nope', 'application/json')
    expect(notJson).toMatchObject({ status: 400, type: 'application/problem+json' })
    expect(notJson.body.detail).toMatch(/^the body is not JSON: /)
    // Any logged-in user: one with no role at all.
    const store = one.node.federation?.store
    if (!store) throw new Error('not running')
    const { user } = await store.registerUser({
      issuer: 'https://idp.example',
      subject: 'plain',
      displayName: 'plain',
    })
    const plain = await post(
      await fixture('valid.json'),
      'application/json',
      await one.node.mintToken(user.id),
    )
    expect(plain.status).toBe(200)
    expect(plain.body.valid).toBe(true)
    const text = await post('{}', 'text/plain')
    expect(text).toMatchObject({ status: 415, type: 'application/problem+json' })
  })

  it('refuses a body beyond the limit with a 413 problem, before reading it', async () => {
    const verifier: TokenVerifier = { verify: async () => ({ sub: 'user@realm' }) as VerifiedToken }
    const app = createValidateRoutes({ tokens: verifier, maxBytes: 100 })
    const big = await app.request('/v1/validate', {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: JSON.stringify({ padding: 'x'.repeat(200) }),
    })
    expect(big.status).toBe(413)
    expect(big.headers.get('content-type')).toBe('application/problem+json')
    expect(await big.json()).toMatchObject({ status: 413, title: 'Payload Too Large' })
    expect(MAX_VALIDATE_BYTES).toBe(32 * 1024 * 1024)
    // On the node: the declared length alone is enough to refuse.
    const response = await fetch(`${one.node.restUrl}/v1/validate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/zip' },
      body: new Uint8Array(MAX_VALIDATE_BYTES + 1),
    })
    expect(response.status).toBe(413)
    expect(((await response.json()) as { title: string }).title).toBe('Payload Too Large')
  })
})
