import { expect } from 'vitest'

export interface Sample {
  readonly labels: Record<string, string>
  readonly value: number
}
export interface Family {
  readonly type: string
  readonly samples: Map<string, Sample[]>
}

/**
 * A strict reader of the Prometheus text exposition format (0.0.4): every line must be a HELP, a TYPE
 * or a sample of a family whose TYPE came first, with well-formed labels and a number as its value.
 */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
  const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*"`
  const sample = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?,?\\})? (\\S+)(?: -?\\d+)?$`)
  for (const line of text.split('\n')) {
    if (line === '') continue
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line)
    if (type) {
      expect(families.has(type[1] as string), `TYPE of ${type[1]} twice`).toBe(false)
      families.set(type[1] as string, { type: type[2] as string, samples: new Map() })
      continue
    }
    if (new RegExp(`^# HELP ${NAME} .*$`).test(line)) continue
    const match = sample.exec(line)
    if (!match) throw new Error(`not a Prometheus text line: ${line}`)
    const name = match[1] as string
    // As Prometheus reads values (Go's ParseFloat): NaN and Inf in any case.
    const text = match[3] as string
    const special = /^([+-]?)inf$/i.exec(text)
    const value = special
      ? special[1] === '-'
        ? -Infinity
        : Infinity
      : /^nan$/i.test(text)
        ? Number.NaN
        : Number(text)
    if (Number.isNaN(value) && !/^nan$/i.test(text)) throw new Error(`not a sample value: ${line}`)
    const base = [...families.keys()].find(
      (f) =>
        name === f ||
        (/^(_bucket|_sum|_count|_total|_created)$/.test(name.slice(f.length)) && name.startsWith(f)),
    )
    if (base === undefined) throw new Error(`a sample without a TYPE: ${line}`)
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [
        m[1],
        m[2],
      ]),
    )
    const family = families.get(base) as Family
    family.samples.set(name, [...(family.samples.get(name) ?? []), { labels, value }])
  }
  return families
}

/** The sum of a family's samples named `name` whose labels include `labels`. */
export function sampleSum(
  families: Map<string, Family>,
  family: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  return (families.get(family)?.samples.get(name) ?? [])
    .filter((sample) => Object.entries(labels).every(([k, v]) => sample.labels[k] === v))
    .reduce((sum, sample) => sum + sample.value, 0)
}
