// Small helpers for the latency benchmarks (`bench/*.bench.ts` import this file directly): waiting for
// a condition with a bound, and the quantiles a report gives.

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` every millisecond until it holds; throws after `ms` milliseconds. */
export async function until(check, ms = 30_000) {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await sleep(1)
  }
}

/** The `q` quantile (0 < q ≤ 1) of ascending `sorted` samples, nearest rank. */
export function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
}

/** p50, p99 and max of `samples` (milliseconds). */
export function stats(samples) {
  const sorted = [...samples].sort((x, y) => x - y)
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1] }
}
