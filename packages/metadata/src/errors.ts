/**
 * What went wrong, as a code a caller can branch on. The edge (REST, search fan-out) maps each code once
 * to a status; the message is for people and never carries a stack trace or an internal path.
 */
export type MetadataErrorCode =
  /** The resource or entity does not exist (or is not visible to this store). */
  | 'NotFound'
  /** A resource id, entity id or search ordinal is already taken. */
  | 'AlreadyExists'
  /** A crate is not usable as a crate; `problems` says why. */
  | 'InvalidCrate'
  /** An argument is malformed: an id, a property name, a value that is not JSON, a limit out of range. */
  | 'InvalidInput'
  /** A search query does not parse, or a query tree is malformed. */
  | 'InvalidQuery'
  /** A paging cursor was not made by this operation for this listing or query. */
  | 'InvalidCursor'
  /**
   * The resource exists (it is listed) but its document could not be loaded in time: it has not reached
   * this node yet, or no peer that holds it is reachable. Worth retrying.
   */
  | 'Unavailable'
  /**
   * The caller may not do this (`MetadataService`). Only said to a caller who may see the resource; one
   * who may not READ it hears `NotFound`, so a refusal never tells that a resource exists.
   */
  | 'AccessDenied'

/**
 * One finding about a crate: from the structural checks or from RO-Crate validation (`validateCrate`,
 * rules in `RO_CRATE_RULES`), errors and warnings in one shape, so clients show one kind of list.
 */
export interface Problem {
  /** `error` for a MUST of the specification, `warning` for a SHOULD, `info` for a MAY. */
  severity: 'error' | 'warning' | 'info'
  /** The `@id` of the entity concerned, when there is one. */
  entityId?: string
  /** The property concerned, when there is one. */
  property?: string
  /** A stable rule name, e.g. `graph.array` or `entity.id`; tests and clients match on it. */
  rule: string
  /** A sentence for people. */
  message: string
}

/** The one error type this package throws. */
export class MetadataError extends Error {
  override readonly name: string = 'MetadataError'

  constructor(
    readonly code: MetadataErrorCode,
    message: string,
    readonly problems?: Problem[],
  ) {
    super(message)
  }
}

/**
 * A query that does not parse. `position` is the 0-based character offset in the query string where the
 * problem was found; it is absent when the query came as a tree rather than as text.
 */
export class InvalidQueryError extends MetadataError {
  override readonly name: string = 'InvalidQueryError'

  constructor(
    message: string,
    readonly position?: number,
  ) {
    super('InvalidQuery', message)
  }
}

/** True when `error` is a MetadataError with the given code. */
export function isMetadataError(error: unknown, code?: MetadataErrorCode): error is MetadataError {
  return error instanceof MetadataError && (code === undefined || error.code === code)
}
