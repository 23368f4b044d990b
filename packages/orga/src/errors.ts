/**
 * Every failure of `@aruna/orga` is an `OrgaError` carrying a code; the REST edge maps codes to problem
 * documents in one place.
 *
 * - `NotFound`: no node, invite, group, user or role with that id (or peer id, or secret).
 * - `AlreadyExists`: the natural key is taken (a node's peer id, a role name in its scope, an OIDC
 *   identity bound to another user).
 * - `InvalidInput`: a malformed id, name, peer id, address, factor, path or option.
 * - `PermissionDenied`: reserved for the service layer above the store, which checks callers; the store
 *   itself never checks permissions.
 * - `InviteExpired` / `InviteUsed`: an invite redeemed after its expiry, or a second time.
 * - `InvalidPattern`: a role rule's path pattern does not parse.
 * - `PatternOutsideGroup` / `PatternOutsideRealm`: a group role's rule reaches outside
 *   `/{realm}/g/{group}/**`, or a realm role's rule outside `/{realm}/**`.
 * - `NotMember`: a group role assigned to a user who is not a member of the group.
 * - `LimitExceeded`: a realm limit refuses the change (a user joining more groups than
 *   `maxGroupsPerUser` allows).
 */
export type OrgaErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'InvalidInput'
  | 'PermissionDenied'
  | 'InviteExpired'
  | 'InviteUsed'
  | 'InvalidPattern'
  | 'PatternOutsideGroup'
  | 'PatternOutsideRealm'
  | 'NotMember'
  | 'LimitExceeded'

/** The one error type of `@aruna/orga`. */
export class OrgaError extends Error {
  override readonly name = 'OrgaError'

  constructor(
    readonly code: OrgaErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** True when `err` is an `OrgaError`, and when `code` is given, one with that code. */
export function isOrgaError(err: unknown, code?: OrgaErrorCode): err is OrgaError {
  return err instanceof OrgaError && (code === undefined || err.code === code)
}
