/**
 * The order of writes to one key on this node. Plain writes (PUT, copy, completion, delete) run side by
 * side; a conditional write's last check and its record run alone: it waits for the key's writes in
 * progress, and writes that start meanwhile wait for it. So the condition holds, on this node, for the
 * state the conditional write replaces, while plain writes never wait for each other.
 */
export class KeyWrites {
  readonly #keys = new Map<string, KeyState>()

  /** Runs a plain write of the key. */
  async shared<T>(name: string, write: () => Promise<T>): Promise<T> {
    const state = this.#state(name)
    while (state.exclusive !== undefined) await state.exclusive
    const running = write()
    const settled = running.then(
      () => undefined,
      () => undefined,
    )
    state.shared.add(settled)
    try {
      return await running
    } finally {
      state.shared.delete(settled)
      this.#forget(name, state)
    }
  }

  /** Runs a write alone: after the key's writes in progress, before any that starts meanwhile. */
  async exclusive<T>(name: string, write: () => Promise<T>): Promise<T> {
    const state = this.#state(name)
    while (state.exclusive !== undefined) await state.exclusive
    let done!: () => void
    state.exclusive = new Promise<void>((resolve) => {
      done = resolve
    })
    try {
      await Promise.all([...state.shared])
      return await write()
    } finally {
      state.exclusive = undefined
      done()
      this.#forget(name, state)
    }
  }

  #state(name: string): KeyState {
    let state = this.#keys.get(name)
    if (state === undefined) {
      state = { shared: new Set(), exclusive: undefined }
      this.#keys.set(name, state)
    }
    return state
  }

  #forget(name: string, state: KeyState): void {
    if (state.shared.size === 0 && state.exclusive === undefined && this.#keys.get(name) === state) {
      this.#keys.delete(name)
    }
  }
}

interface KeyState {
  shared: Set<Promise<void>>
  exclusive: Promise<void> | undefined
}
