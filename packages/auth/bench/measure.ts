// Timing helpers shared by the auth benchmarks (run by Node with type stripping: erasable syntax only).

/** Operations per second of `fn`, the median of `rounds` rounds of at least `minMs` each (after a warm-up). */
export function opsPerSecond(fn: () => void, options: { rounds?: number; minMs?: number } = {}): number {
  const rounds = options.rounds ?? 5
  const minMs = options.minMs ?? 300
  for (let i = 0; i < 1000; i++) fn()
  const rates: number[] = []
  for (let r = 0; r < rounds; r++) {
    let n = 0
    const start = performance.now()
    let elapsed = 0
    while (elapsed < minMs) {
      for (let i = 0; i < 100; i++) fn()
      n += 100
      elapsed = performance.now() - start
    }
    rates.push((n * 1000) / elapsed)
  }
  return median(rates)
}

/** Like `opsPerSecond`, for an async operation awaited one at a time. */
export async function asyncOpsPerSecond(
  fn: () => Promise<unknown>,
  options: { rounds?: number; minMs?: number } = {},
): Promise<number> {
  const rounds = options.rounds ?? 5
  const minMs = options.minMs ?? 300
  for (let i = 0; i < 1000; i++) await fn()
  const rates: number[] = []
  for (let r = 0; r < rounds; r++) {
    let n = 0
    const start = performance.now()
    let elapsed = 0
    while (elapsed < minMs) {
      for (let i = 0; i < 100; i++) await fn()
      n += 100
      elapsed = performance.now() - start
    }
    rates.push((n * 1000) / elapsed)
  }
  return median(rates)
}

/** Milliseconds taken by `fn`: the median of `runs` runs (each preceded by `before`, not timed). */
export function millis(fn: () => void, runs = 5, before: () => void = () => {}): number {
  const times: number[] = []
  for (let r = 0; r < runs; r++) {
    before()
    const start = performance.now()
    fn()
    times.push(performance.now() - start)
  }
  return median(times)
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

/** A small deterministic PRNG (mulberry32), so runs compare like with like. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
