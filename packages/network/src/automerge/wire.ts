import {
  isValidDocumentId,
  type Message,
  type PeerMetadata,
  type PeerId as RepoPeerId,
} from '@automerge/automerge-repo/slim'
import { messageCodec } from '../codec.js'
import { NetworkError } from '../errors.js'
import type { Codec } from '../port.js'

/**
 * What `AutomergeNetworkAdapter`s say to each other on their channels, after
 * `MessageChannelNetworkAdapter`'s handshake: a new channel starts with a greeting that names the
 * sender's automerge peer id and metadata — `arrive` asks for a greeting back, `welcome` is that
 * greeting — then carries automerge-repo messages; `leave` says the sender disconnects (or refuses
 * the channel). Automerge's binary `data` travels as raw bytes (`messageCodec`), never base64.
 */
export type AutomergeWireMessage =
  | { kind: 'arrive'; peerId: RepoPeerId; peerMetadata: PeerMetadata }
  | { kind: 'welcome'; peerId: RepoPeerId; peerMetadata: PeerMetadata }
  | { kind: 'leave' }
  | { kind: 'message'; message: Message }

/** Longest automerge peer id, storage id, session id or message type accepted from the wire. */
export const MAX_REPO_ID_LENGTH = 512

/** The codec of `AutomergeWireMessage`; `decode` checks every field and fails only with `MalformedMessage`. */
export const automergeWireCodec: Codec<AutomergeWireMessage> = messageCodec(parseWireMessage)

function parseWireMessage(value: unknown): AutomergeWireMessage {
  const record = asRecord(value, 'wire message')
  switch (record.kind) {
    case 'arrive':
    case 'welcome':
      return {
        kind: record.kind,
        peerId: asId(record.peerId, 'peerId') as RepoPeerId,
        peerMetadata: parsePeerMetadata(record.peerMetadata),
      }
    case 'leave':
      return { kind: 'leave' }
    case 'message':
      return { kind: 'message', message: parseRepoMessage(record.message) }
    default:
      return malformed('unknown wire message kind')
  }
}

/** Keeps the fields automerge-repo defines and drops the rest, so nothing unexpected reaches the Repo. */
export function parsePeerMetadata(value: unknown): PeerMetadata {
  if (value === undefined || value === null) return {}
  const record = asRecord(value, 'peerMetadata')
  const metadata: PeerMetadata = {}
  if (record.storageId !== undefined)
    metadata.storageId = asId(record.storageId, 'storageId') as PeerMetadata['storageId']
  if (record.isEphemeral !== undefined) {
    if (typeof record.isEphemeral !== 'boolean') malformed('isEphemeral must be a boolean')
    metadata.isEphemeral = record.isEphemeral
  }
  return metadata
}

/**
 * Checks an automerge-repo message: the envelope every message has (`type`, `senderId`, `targetId`,
 * optional binary `data` and valid `documentId`), plus the fields the Repo reads without checking
 * for the types it knows (so that a hostile peer cannot make it throw). Types the Repo does not know
 * pass with the envelope checked; the Repo ignores them.
 */
function parseRepoMessage(value: unknown): Message {
  const message = asRecord(value, 'message')
  asId(message.type, 'type')
  asId(message.senderId, 'senderId')
  asId(message.targetId, 'targetId')
  if (message.data !== undefined && !(message.data instanceof Uint8Array)) malformed('data must be bytes')
  if (message.documentId !== undefined && !isValidDocumentId(message.documentId))
    malformed('documentId is not a valid document id')
  switch (message.type) {
    case 'sync':
    case 'request':
      requireFields(message, ['data', 'documentId'])
      break
    case 'ephemeral':
      requireFields(message, ['data', 'documentId'])
      if (!Number.isSafeInteger(message.count) || (message.count as number) < 0)
        malformed('count must be a non-negative integer')
      asId(message.sessionId, 'sessionId')
      break
    case 'doc-unavailable':
      requireFields(message, ['documentId'])
      break
    case 'remote-subscription-change':
      for (const key of ['add', 'remove'] as const) {
        const ids = message[key]
        if (ids !== undefined && (!Array.isArray(ids) || !ids.every((id) => isId(id))))
          malformed(`${key} must be a list of storage ids`)
      }
      break
    case 'remote-heads-changed':
      requireFields(message, ['documentId'])
      checkNewHeads(message.newHeads)
      break
  }
  return message as Message
}

function checkNewHeads(value: unknown): void {
  const heads = asRecord(value, 'newHeads')
  for (const [storageId, entry] of Object.entries(heads)) {
    if (!isId(storageId)) malformed('newHeads has a bad storage id')
    const record = asRecord(entry, 'newHeads entry')
    if (!Array.isArray(record.heads) || !record.heads.every((head) => typeof head === 'string'))
      malformed('heads must be a list of strings')
    if (typeof record.timestamp !== 'number') malformed('timestamp must be a number')
  }
}

function requireFields(message: Record<string, unknown>, keys: string[]): void {
  for (const key of keys) if (message[key] === undefined) malformed(`${message.type} message without ${key}`)
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array)
    malformed(`${what} must be an object`)
  return value as Record<string, unknown>
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_REPO_ID_LENGTH
}

function asId(value: unknown, what: string): string {
  if (!isId(value)) malformed(`${what} must be a string of 1 to ${MAX_REPO_ID_LENGTH} characters`)
  return value
}

function malformed(message: string): never {
  throw new NetworkError('MalformedMessage', message)
}
