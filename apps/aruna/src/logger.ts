/** The node's logger: JSON lines (pino), or human-readable when writing to a terminal. */
import { createRequire } from 'node:module'
import { type Logger, pino } from 'pino'
import type PinoPretty from 'pino-pretty'
import type { ArunaConfig } from './config.js'

/** pino-pretty, loaded only for a logger that uses it (a node logging JSON never loads it). */
const loadPretty = (): typeof PinoPretty => createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty

export type { Logger }

export interface LoggerOptions {
  readonly level: ArunaConfig['log']['level']
  readonly format: ArunaConfig['log']['format']
  /** Where lines go; standard output unless given. */
  readonly destination?: NodeJS.WritableStream
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stdout
  const isTerminal = (destination as { isTTY?: boolean }).isTTY === true
  const usePretty = options.format === 'pretty' || (options.format === 'auto' && isTerminal)
  const base = { level: options.level, base: { service: 'aruna' } }
  if (usePretty) {
    // A synchronous stream, not a transport worker: lines are never lost on a fast exit.
    return pino(
      base,
      loadPretty()({ destination, colorize: isTerminal, sync: true, ignore: 'pid,hostname,service' }),
    )
  }
  return pino(base, destination)
}
