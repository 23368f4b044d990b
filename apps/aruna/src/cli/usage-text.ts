/**
 * How the command line reads and writes storage sizes and usage: `10MiB`, `1.5GB`, `500k` or bytes in,
 * `10 MiB` out, and one line per group's usage (`aruna quota show`, `aruna status`).
 */
import { CliError } from './client.js'

export interface GroupQuota {
  bytes?: number
  objects?: number
}

export interface GroupUsage {
  group: string
  bytes: number
  objects: number
  quotaBytes?: number
  quotaObjects?: number
  gracePercent: number
  warnPercent: number
  warning: boolean
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  t: 1000 ** 4,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
}

/** `10MiB`, `1.5GB`, `500k`, `42` → bytes. */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text)
  const unit = UNITS[(match?.[2] ?? '').toLowerCase()]
  if (match === null || unit === undefined)
    throw new CliError(`"${text}" is not a size such as 10MiB, 1.5GB, 500k or a number of bytes`, 2)
  const bytes = Math.round(Number(match[1]) * unit)
  if (!Number.isSafeInteger(bytes)) throw new CliError(`"${text}" is too large`, 2)
  return bytes
}

/** Bytes for people: 10485760 → 10 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0
    ? `${bytes} bytes`
    : `${value.toFixed(value < 10 ? 2 : 1).replace(/\.?0+$/, '')} ${units[unit]}`
}

export function quotaText(quota: GroupQuota): string {
  const parts = [
    quota.bytes === undefined ? undefined : formatBytes(quota.bytes),
    quota.objects === undefined ? undefined : `${quota.objects} objects`,
  ].filter((part) => part !== undefined)
  return parts.length === 0 ? 'no limit' : parts.join(', ')
}

export function usageLine(usage: GroupUsage): string {
  const quota =
    usage.quotaBytes === undefined && usage.quotaObjects === undefined
      ? 'no quota'
      : `quota ${quotaText({ ...(usage.quotaBytes === undefined ? {} : { bytes: usage.quotaBytes }), ...(usage.quotaObjects === undefined ? {} : { objects: usage.quotaObjects }) })}`
  const share =
    usage.quotaBytes !== undefined && usage.quotaBytes > 0
      ? ` (${Math.round((usage.bytes / usage.quotaBytes) * 100)}%)`
      : ''
  return `${usage.group}  ${formatBytes(usage.bytes)} in ${usage.objects} object version${usage.objects === 1 ? '' : 's'}${share}, ${quota}${usage.warning ? '  WARNING: at the warning threshold' : ''}`
}
