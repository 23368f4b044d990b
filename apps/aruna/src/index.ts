/**
 * aruna: the Aruna node. Composes the domain packages (network, auth, orga, data, metadata) into a
 * running node with its REST and S3 APIs, and offers its configuration parser and command line to
 * tools and tests.
 */
export {
  type ArunaConfig,
  ConfigError,
  type ConfigLayer,
  ConfigSchema,
  ENV_KEYS,
  type FlagValue,
  layerFromEntries,
  layerFromFile,
  layerFromText,
  layersFromEnv,
  loadConfig,
  parseConfigText,
  resolveConfig,
} from './config.js'
export { mergeFacets, mergeHits } from './federation/search-node.js'
export {
  MAX_SEARCH_WINDOW,
  type SearchRequest,
  type SearchResponse,
  searchProtocol,
} from './federation/search-protocol.js'
export { type HttpEndpoint, ListenError, listen } from './http/listen.js'
export { createRestApp, type NodeStatus } from './http/rest.js'
export { createLogger, type Logger } from './logger.js'
export { ArunaNode, NodeStartError } from './node.js'
export { type CliIo, createProgram, runCli } from './program.js'
export { decodeInvite, encodeInvite, type Invite, InviteError } from './realm/invite.js'
export {
  type AdmitRequest,
  type AdmitResponse,
  admitProtocol,
  type JoinRequest,
  type JoinResponse,
  joinProtocol,
} from './realm/join-protocol.js'
export { VERSION } from './version.js'
