// Fuzz target: the node's configuration parser, `parseConfigText` from `aruna` (apps/aruna/src/config.ts).
//
// Any text must either parse into a valid configuration or be refused with a ConfigError that names
// the offending key; anything else escaping from the parser (TypeError, RangeError, a plain Error...) is
// a finding. A configuration that parses must also survive a round trip: serialised to JSON and parsed
// again it yields the same configuration (defaults applied once, coercions stable).
import { ConfigError, parseConfigText } from 'aruna'

/** @param {Buffer} data */
export function fuzz(data) {
  const text = data.toString('utf8')
  let config
  try {
    config = parseConfigText(text, 'fuzz input')
  } catch (err) {
    if (err instanceof ConfigError) {
      // The key may be '' (a JSON object may have an empty key, refused as unknown) but must be a string.
      if (typeof err.key !== 'string' || typeof err.message !== 'string' || err.message === '') {
        throw new Error(
          `ConfigError without a key or message: key=${JSON.stringify(err.key)} message=${err.message}`,
        )
      }
      return // the expected refusal of a bad configuration
    }
    throw err
  }

  if (config === null || typeof config !== 'object')
    throw new Error(`parseConfigText returned ${typeof config}`)
  // Every key the input sets must be a known one (a "__proto__" key once slipped past the check).
  const input = JSON.parse(text)
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(config, key))
      throw new Error(`accepted an unknown top-level key ${JSON.stringify(key)}`)
  }
  for (const server of [config.rest, config.s3]) {
    if (!Number.isInteger(server.port) || server.port < 0 || server.port > 65535) {
      throw new Error(`accepted an invalid port: ${JSON.stringify(server.port)}`)
    }
  }
  // Compared as JSON: a port of -0 is accepted and comes back as 0, which is the same port.
  const json = JSON.stringify(config)
  const again = JSON.stringify(parseConfigText(json, 'round trip'))
  if (again !== json) throw new Error(`configuration changed in a round trip: ${json} -> ${again}`)
}
