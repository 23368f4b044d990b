/**
 * Waits until `check` holds, asking again every 100 ms, and fails after `ms` with what it waited for
 * and the last error `check` threw: multi-node tests wait for conditions, bounded, never for a time.
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms
  let last: unknown
  for (;;) {
    try {
      if (await check()) return
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${ms} ms waiting until ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`,
      )
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
