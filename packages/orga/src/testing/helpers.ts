/** Shared pieces of the compliance suites: setup wiring, sample inputs, and error assertions. */

import { afterEach, beforeEach, expect } from 'vitest'
import { OrgaError, type OrgaErrorCode } from '../errors.js'
import type { OrgaStore } from '../port.js'
import type { AccessKeyRecord, NodeInit, OrgaChange, User, UserRegistration } from '../types.js'

/** How a suite gets a fresh implementation for each test and disposes of it afterwards. */
export interface TestSetup<T> {
  setup(): Promise<T>
  teardown(impl: T): Promise<void>
}

/** A well-formed ULID that no store hands out in a test (its time part is in 1970). */
export const UNKNOWN_ID = '00000000000000000000000000'

/** Registers `beforeEach`/`afterEach` around the enclosing `describe` and returns the current instance. */
export function useSetup<T>(common: TestSetup<T>): () => T {
  let current: { impl: T } | undefined
  beforeEach(async () => {
    current = { impl: await common.setup() }
  })
  afterEach(async () => {
    if (current !== undefined) await common.teardown(current.impl)
    current = undefined
  })
  return () => {
    if (current === undefined) throw new Error('the suite used its implementation outside a test')
    return current.impl
  }
}

/** Awaits `promise` and checks that it rejected with an `OrgaError` of `code`. */
export async function expectOrgaError(promise: Promise<unknown>, code: OrgaErrorCode): Promise<OrgaError> {
  const outcome = await promise.then(
    (value: unknown) => ({ rejected: false as const, value }),
    (error: unknown) => ({ rejected: true as const, error }),
  )
  expect(outcome.rejected, `expected a rejection with ${code}`).toBe(true)
  const error = outcome.rejected ? outcome.error : undefined
  expect(error, `expected an OrgaError with code ${code}`).toBeInstanceOf(OrgaError)
  expect((error as OrgaError).code).toBe(code)
  return error as OrgaError
}

/** A peer id: letters and digits, like a libp2p Ed25519 peer id. */
export function peer(name: string): string {
  return `12D3KooW${name}`
}

export function nodeInit(name: string, kind: NodeInit['kind'] = 'server'): NodeInit {
  return {
    peerId: peer(name),
    kind,
    delegation: `delegation-of-${name}`,
    addresses: [`/ip4/127.0.0.1/tcp/4001/p2p/${peer(name)}`],
  }
}

export const ISSUER = 'https://login.example.org/realms/aruna'

export function login(subject: string, overrides: Partial<UserRegistration> = {}): UserRegistration {
  return { issuer: ISSUER, subject, displayName: `User ${subject}`, ...overrides }
}

export async function newUser(store: OrgaStore, subject: string): Promise<User> {
  return (await store.registerUser(login(subject))).user
}

/** Records every change the store reports until `stop()`. */
export function recordChanges(store: OrgaStore): { readonly changes: OrgaChange[]; stop(): void } {
  const changes: OrgaChange[] = []
  const stop = store.onChange((change) => changes.push(change))
  return { changes, stop }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A different secret of the same shape (last character changed). */
export function otherSecret(secret: string): string {
  const last = secret.at(-1) === 'A' ? 'B' : 'A'
  return secret.slice(0, -1) + last
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** A well-formed access key id: `AK`, then `n` in base32, padded to 18 characters with `A`. */
export function accessKeyId(n: number): string {
  let digits = ''
  for (let rest = n; rest > 0; rest = Math.floor(rest / 32)) digits = BASE32[rest % 32] + digits
  return `AK${digits.padStart(18, 'A')}`
}

/** An access key record as `@aruna/auth` would make it, with a stand-in sealed secret. */
export function accessKey(
  n: number,
  userId: string,
  overrides: Partial<AccessKeyRecord> = {},
): AccessKeyRecord {
  return {
    accessKeyId: accessKeyId(n),
    userId,
    createdAt: 1_700_000_000 + n,
    sealed: {
      keyId: 'Wm9vQmFyS2V5SWQ',
      iv: 'aXYtMTItYnl0ZXM',
      ciphertext: `Y2lwaGVydGV4dC1vZi1rZXktbnVtYmVy${n}`,
      tag: 'dGFnLTE2LWJ5dGVzLWxvbmc',
    },
    ...overrides,
  }
}

/**
 * `store` with the first answer of its lookup `method` held back until `release()`, and `onChange` as
 * the store has it: for tests of a reader that keeps answers, which must not keep one read before a
 * change but arriving after it.
 */
export function holdingFirstAnswer<S extends OrgaStore, M extends 'rolesForUser' | 'getAccessKey'>(
  store: S,
  method: M,
): { store: S; release: () => void } {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  let held = true
  const lookup = store[method].bind(store) as (id: string) => Promise<unknown>
  const view = {
    onChange: (listener: Parameters<S['onChange']>[0]) => store.onChange(listener),
    [method]: async (id: string) => {
      const answer = await lookup(id)
      if (held) {
        held = false
        await gate
      }
      return answer
    },
  }
  return { store: view as unknown as S, release }
}
