import type { OrgaStore } from './port.js'

/**
 * A lookup of `store` whose answers are kept, frozen, until the store reports a change of any kind,
 * for the lookups made on every request (a caller's roles, an access key's record), which the store
 * answers each time with fresh copies. `onChange` is called synchronously as soon as a change is
 * visible to reads, so a role or key revoked on this node or another stops counting from the next
 * question on. An answer read before a change and arriving after it is passed on but not kept, and
 * an `undefined` answer is never kept (anyone can ask about ids that do not exist, as many as they
 * like). At most `limit` answers are kept; all are forgotten when more would be.
 */
export function keptUntilChange<T>(
  store: Pick<OrgaStore, 'onChange'>,
  read: (id: string) => Promise<T>,
  limit = 10_000,
): (id: string) => T | Promise<T> {
  const known = new Map<string, T>()
  let generation = 0
  store.onChange(() => {
    generation++
    known.clear()
  })
  return (id) => {
    const kept = known.get(id)
    if (kept !== undefined) return kept
    const asked = generation
    return read(id).then((answer) => {
      const frozen = deepFreeze(answer)
      if (frozen !== undefined && asked === generation) {
        if (known.size >= limit) known.clear()
        known.set(id, frozen)
      }
      return frozen
    })
  }
}

/** `value` frozen all the way down (plain data: objects, arrays, strings, numbers). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const item of Object.values(value)) deepFreeze(item)
  }
  return value
}
