/**
 * Readings of a range bound or a field value: numbers, sizes and dates.
 *
 * Size units are decimal, as S3 and disk vendors count: 1 KB = 1000 B, 1 MB = 10^6 B, 1 GB = 10^9 B,
 * 1 TB = 10^12 B. The binary units are there for who means them: 1 KiB = 1024 B, MiB, GiB, TiB.
 * Units are case-insensitive (`1gb` = `1GB`).
 */

const SIZE_UNITS: ReadonlyMap<string, number> = new Map([
  ['b', 1],
  ['kb', 1e3],
  ['mb', 1e6],
  ['gb', 1e9],
  ['tb', 1e12],
  ['kib', 2 ** 10],
  ['mib', 2 ** 20],
  ['gib', 2 ** 30],
  ['tib', 2 ** 40],
])

const QUANTITY = /^(-?\d+(?:\.\d+)?)([A-Za-z]*)$/
const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/

/** What a bound's text can mean; `error` says why it means nothing. */
export interface BoundReading {
  number?: number
  date?: string
  error?: string
}

/** Reads `42`, `-1.5`, `1GB`, `1.5KiB` (no space before the unit), `2020`, `2020-05`, `2020-05-17`. */
export function readBound(text: string): BoundReading {
  const reading: BoundReading = {}
  const quantity = QUANTITY.exec(text)
  if (quantity) {
    const [, digits, unit] = quantity
    if (unit === '' || unit === undefined) {
      reading.number = Number(digits)
    } else {
      const factor = SIZE_UNITS.get(unit.toLowerCase())
      if (factor === undefined) {
        return { error: `unknown size unit '${unit}' (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)` }
      }
      reading.number = Number(digits) * factor
    }
  }
  const date = DATE.exec(text)
  if (date) {
    const [, , month, day] = date
    if (month !== undefined && (Number(month) < 1 || Number(month) > 12)) {
      return { error: `'${text}' is not a date: month ${month} does not exist` }
    }
    if (day !== undefined && (Number(day) < 1 || Number(day) > daysIn(Number(date[1]), Number(month)))) {
      return { error: `'${text}' is not a date: day ${day} does not exist` }
    }
    reading.date = text
  }
  if (reading.number === undefined && reading.date === undefined) {
    return {
      error: `'${text}' is neither a number, a size (e.g. 10MB) nor a date (YYYY, YYYY-MM, YYYY-MM-DD)`,
    }
  }
  return reading
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/** Compares ISO-8601 date(-time) strings at the precision of the shorter one. */
export function compareDatePrefix(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  const left = a.slice(0, length)
  const right = b.slice(0, length)
  return left < right ? -1 : left > right ? 1 : 0
}

/** True for strings that start like an ISO-8601 date (`2024`, `2024-05-17T01:04:52+01:00`). */
export function looksLikeDate(value: string): boolean {
  return /^\d{4}(?:-\d{2}(?:-\d{2}(?:[T ].*)?)?)?$/.test(value)
}

/** A plain decimal number in a string (`"383766"`), as RO-Crate writes `contentSize`. */
export function numberInText(value: string): number | undefined {
  if (!/^-?\d+(?:\.\d+)?$/.test(value)) return undefined
  return Number(value)
}
