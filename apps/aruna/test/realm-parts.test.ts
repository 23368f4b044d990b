import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AuthError } from '@aruna/auth'
import { isNetworkError } from '@aruna/network'
import { OrgaError } from '@aruna/orga'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseDuration } from '../src/cli/realm-commands.js'
import { HttpProblem, problemOf } from '../src/http/problem.js'
import { decodeInvite, encodeInvite, INVITE_PREFIX, type Invite } from '../src/realm/invite.js'
import { admitProtocol, joinProtocol } from '../src/realm/join-protocol.js'
import { type RealmFile, readRealmFile, writeRealmFile } from '../src/realm/realm-file.js'

const invite: Invite = {
  realm: 'pxJ5yLSnVt2OZ7szIIvz0YMSbGxKSLCpm9fK3zHRCQo',
  realmName: 'lab',
  secret: 'a'.repeat(43),
  expiresAt: Date.now() + 60_000,
  bootstrap: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWRwh8TFV84mzn25uoqG849xVPaNfK4QZUct4iP5yjdTkd'],
  operator: '01J0000000000000000000000A',
}

describe('invites', () => {
  it('round-trips and tolerates surrounding whitespace', () => {
    expect(decodeInvite(`  ${encodeInvite(invite)}\n`)).toEqual(invite)
  })

  it('says what is wrong with a line that is not a whole, current invite', () => {
    expect(() => decodeInvite('hello')).toThrow(`must start with ${INVITE_PREFIX}`)
    expect(() => decodeInvite(`${INVITE_PREFIX}!!!`)).toThrow('damaged')
    expect(() => decodeInvite(`${INVITE_PREFIX}${Buffer.from('not json').toString('base64url')}`)).toThrow(
      'damaged',
    )
    const truncated = encodeInvite(invite).slice(0, -10)
    expect(() => decodeInvite(truncated)).toThrow('damaged')
    const wrongShape = `${INVITE_PREFIX}${Buffer.from(JSON.stringify({ ...invite, bootstrap: ['/ip4/1.2.3.4/tcp/1'] })).toString('base64url')}`
    expect(() => decodeInvite(wrongShape)).toThrow('damaged')
    expect(() => decodeInvite(encodeInvite({ ...invite, expiresAt: 1000 }), 2000)).toThrow('expired at 1970')
    expect(() => decodeInvite(undefined as unknown as string)).toThrow('not an aruna invite')
  })
})

describe('the realm file', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aruna-realmfile-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const file: RealmFile = {
    version: 1,
    realmId: invite.realm,
    realmName: 'lab',
    realmUrl: 'automerge:abc',
    kind: 'server',
    delegation: 'x.y.z',
    operator: invite.operator,
    devLogin: false,
    bootstrap: [],
    listen: ['/ip4/127.0.0.1/tcp/4001'],
    createdAt: new Date(0).toISOString(),
  }

  it('is absent on a fresh directory and round-trips', async () => {
    expect(await readRealmFile(dir)).toBeUndefined()
    await writeRealmFile(dir, file)
    expect(await readRealmFile(dir)).toEqual(file)
  })

  it('names the file and the problem when it is damaged, never crashing', async () => {
    await writeFile(join(dir, 'realm.json'), '{"version":1')
    await expect(readRealmFile(dir)).rejects.toThrow('is not valid JSON')
    await writeFile(join(dir, 'realm.json'), JSON.stringify({ ...file, kind: 'queen' }))
    await expect(readRealmFile(dir)).rejects.toThrow(/realm\.json is damaged: kind/)
    await expect(readRealmFile(join(dir, 'realm.json'))).rejects.toThrow('cannot be read')
  })
})

describe('the join protocols', () => {
  const decodeFails = (run: () => unknown) => {
    try {
      run()
    } catch (err) {
      return isNetworkError(err) && err.code === 'MalformedMessage'
    }
    return false
  }

  it('carry requests and answers, binary key included', () => {
    const request = { kind: 'join' as const, realm: 'r', secret: 's', addresses: ['/ip4/127.0.0.1/tcp/1'] }
    expect(joinProtocol.request.decode(joinProtocol.request.encode(request))).toEqual(request)
    const joined = {
      kind: 'joined' as const,
      realmId: 'r',
      realmName: 'n',
      realmUrl: 'automerge:x',
      delegation: 'd',
      accessKeyKey: new Uint8Array(32).fill(7),
      bootstrap: [],
    }
    expect(joinProtocol.response.decode(joinProtocol.response.encode(joined))).toEqual(joined)
    const refused = { kind: 'refused' as const, code: 'InviteUsed' as const, message: 'used' }
    expect(joinProtocol.response.decode(joinProtocol.response.encode(refused))).toEqual(refused)
    const admit = { kind: 'admit' as const, secret: 's', peerId: 'p', addresses: [] }
    expect(admitProtocol.request.decode(admitProtocol.request.encode(admit))).toEqual(admit)
    const admitted = { kind: 'admitted' as const, delegation: 'd' }
    expect(admitProtocol.response.decode(admitProtocol.response.encode(admitted))).toEqual(admitted)
  })

  it('refuse malformed messages with a typed error', () => {
    const encode = (value: unknown) => joinProtocol.request.encode(value as never)
    expect(decodeFails(() => joinProtocol.request.decode(encode({ kind: 'hello' })))).toBe(true)
    expect(decodeFails(() => joinProtocol.request.decode(encode([1, 2])))).toBe(true)
    expect(
      decodeFails(() =>
        joinProtocol.request.decode(encode({ kind: 'join', realm: '', secret: 's', addresses: [] })),
      ),
    ).toBe(true)
    expect(
      decodeFails(() =>
        joinProtocol.request.decode(encode({ kind: 'join', realm: 'r', secret: 's', addresses: ['tcp'] })),
      ),
    ).toBe(true)
    expect(
      decodeFails(() =>
        joinProtocol.request.decode(encode({ kind: 'join', realm: 'r', secret: 's', addresses: 'x' })),
      ),
    ).toBe(true)
    const answer = (value: unknown) => joinProtocol.response.encode(value as never)
    expect(
      decodeFails(() =>
        joinProtocol.response.decode(answer({ kind: 'refused', code: 'Bogus', message: 'm' })),
      ),
    ).toBe(true)
    expect(
      decodeFails(() =>
        joinProtocol.response.decode(answer({ kind: 'joined', accessKeyKey: new Uint8Array(3) })),
      ),
    ).toBe(true)
    expect(decodeFails(() => joinProtocol.response.decode(answer({ kind: 'other' })))).toBe(true)
    expect(decodeFails(() => admitProtocol.request.decode(answer({ kind: 'join' })))).toBe(true)
    expect(decodeFails(() => admitProtocol.response.decode(answer({ kind: 'joined' })))).toBe(true)
    expect(decodeFails(() => joinProtocol.request.decode(new Uint8Array([0xff, 0xff])))).toBe(true)
  })
})

describe('problem documents', () => {
  it('map domain errors to statuses once, and leave unknown errors to the 500 handler', () => {
    expect(problemOf(new OrgaError('PermissionDenied', 'no'))?.status).toBe(403)
    expect(problemOf(new OrgaError('NotFound', 'no'))?.status).toBe(404)
    expect(problemOf(new OrgaError('AlreadyExists', 'no'))?.status).toBe(409)
    expect(problemOf(new OrgaError('InviteUsed', 'no'))?.status).toBe(410)
    expect(problemOf(new OrgaError('InvalidPattern', 'no'))?.status).toBe(400)
    expect(problemOf(new AuthError('TokenExpired', 'old'))?.status).toBe(401)
    expect(problemOf(new AuthError('AccessDenied', 'no'))?.status).toBe(403)
    expect(problemOf(new AuthError('InvalidPattern', 'bad'))?.status).toBe(400)
    expect(problemOf(new HttpProblem(429, 'Too Many Requests', 'slow down'))).toEqual({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      detail: 'slow down',
    })
    expect(problemOf(new Error('boom'))).toBeUndefined()
  })
})

describe('durations', () => {
  it('reads seconds, minutes, hours and days, and refuses anything else', () => {
    expect(parseDuration('90')).toBe(90)
    expect(parseDuration('30m')).toBe(1800)
    expect(parseDuration('24h')).toBe(86400)
    expect(parseDuration(' 7d ')).toBe(604800)
    expect(() => parseDuration('1w')).toThrow('not a duration')
    expect(() => parseDuration('-1h')).toThrow('not a duration')
  })
})
