/**
 * ISO 8601 dates as RO-Crate accepts them: a year, a month, a calendar day, a week day or an ordinal
 * day (basic or extended form), optionally with a time of day (after `T` or a space, to any fraction
 * of a second) and a zone (`Z` or an offset). `2024`, `2024-05`, `2024-05-17`, `2024-W20-5`, `2024-138`,
 * `2024-05-17T01:04:52+01:00`, `2020-06-25 17:03:04.098286`.
 */

const YEAR = String.raw`[+-]?\d{4}`
const MONTH = `(?:0[1-9]|1[0-2])`
const DAY = String.raw`(?:0[1-9]|[12]\d|3[01])`
const WEEK = String.raw`W(?:[0-4]\d|5[0-3])`
const ORDINAL = String.raw`(?:00[1-9]|0[1-9]\d|[12]\d{2}|3(?:[0-5]\d|6[0-6]))`
const TIME = String.raw`(?:(?:[01]\d|2[0-3])(?::?[0-5]\d(?::?(?:[0-5]\d|60)(?:[.,]\d+)?)?)?|24(?::?00(?::?00(?:[.,]0+)?)?)?)`
const ZONE = String.raw`(?:Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)`

/** Dates that name a day: calendar, week date with a weekday, or ordinal. */
const DAY_DATE = `${YEAR}(?:-${MONTH}-${DAY}|${MONTH}${DAY}|-?${WEEK}-?[1-7]|-?${ORDINAL})`
/** Dates of coarser precision: a year, or a year and a month (or week). */
const COARSE_DATE = `${YEAR}(?:-?${MONTH}|-?${WEEK})?`

const WITH_DAY = new RegExp(`^${DAY_DATE}(?:[T ]${TIME}${ZONE}?)?$`)
const COARSE = new RegExp(`^${COARSE_DATE}$`)

export type DatePrecision = 'day' | 'coarse'

/** How precise an ISO 8601 date is, or undefined when the text is not one. */
export function iso8601Precision(text: string): DatePrecision | undefined {
  if (text.length > 64) return undefined
  if (WITH_DAY.test(text)) return 'day'
  if (COARSE.test(text)) return 'coarse'
  return undefined
}
