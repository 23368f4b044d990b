/**
 * The onboarding invite a realm admin hands to the operator of a new node: one line of text,
 * `aruna-invite-1.<base64url JSON>`, carrying the realm id, the one-time secret, when it expires, the
 * multiaddrs (with /p2p/<peer id>) of the realm node that made it, and the user who made it (who
 * operates the new node). The secret is the only confidential part: whoever holds the line may join
 * one node, once, until it expires. Everything in it is checked when it is read.
 */
import { z } from 'zod'

export const INVITE_PREFIX = 'aruna-invite-1.'

const InviteSchema = z
  .object({
    realm: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/),
    realmName: z.string().min(1).max(200),
    secret: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    expiresAt: z.number().int().positive(),
    bootstrap: z.array(z.string().startsWith('/').includes('/p2p/')).min(1).max(32),
    operator: z.string().min(1).max(64),
  })
  .strict()

export type Invite = z.infer<typeof InviteSchema>

export class InviteError extends Error {
  override readonly name = 'InviteError'
}

export function encodeInvite(invite: Invite): string {
  const checked = InviteSchema.parse(invite)
  return `${INVITE_PREFIX}${Buffer.from(JSON.stringify(checked)).toString('base64url')}`
}

/** Reads an invite line. @throws InviteError saying what is wrong with it. */
export function decodeInvite(text: string, now = Date.now()): Invite {
  const line = typeof text === 'string' ? text.trim() : ''
  if (!line.startsWith(INVITE_PREFIX)) {
    throw new InviteError(`not an aruna invite (it must start with ${INVITE_PREFIX})`)
  }
  const body = line.slice(INVITE_PREFIX.length)
  if (body.length > 8192 || !/^[A-Za-z0-9_-]+$/.test(body)) throw new InviteError('the invite is damaged')
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
  } catch {
    throw new InviteError('the invite is damaged (copy the whole line)')
  }
  const result = InviteSchema.safeParse(parsed)
  if (!result.success) throw new InviteError('the invite is damaged (copy the whole line)')
  if (result.data.expiresAt <= now) {
    throw new InviteError(`the invite expired at ${new Date(result.data.expiresAt).toISOString()}`)
  }
  return result.data
}
