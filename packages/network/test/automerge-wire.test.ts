import { generateAutomergeUrl, parseAutomergeUrl } from '@automerge/automerge-repo/slim'
import { describe, expect, it } from 'vitest'
import {
  type AutomergeWireMessage,
  automergeWireCodec,
  MAX_REPO_ID_LENGTH,
  messageCodec,
} from '../src/index.js'
import { expectNetworkErrorSync } from '../src/testing/index.js'

const documentId = parseAutomergeUrl(generateAutomergeUrl()).documentId
const raw = messageCodec((value) => value)

/** Bytes a peer could send: any structure, encoded with the package's message codec. */
function hostile(value: unknown): Uint8Array {
  return raw.encode(value)
}

function message(fields: Record<string, unknown>): Uint8Array {
  return hostile({ kind: 'message', message: { senderId: 'a', targetId: 'b', ...fields } })
}

describe('automergeWireCodec', () => {
  it('round-trips greetings, leave and repo messages, keeping binary data binary', () => {
    const data = Uint8Array.from([0, 1, 2, 250, 251, 252, 253])
    const messages: AutomergeWireMessage[] = [
      {
        kind: 'arrive',
        peerId: 'alice' as never,
        peerMetadata: { storageId: 's1' as never, isEphemeral: false },
      },
      { kind: 'welcome', peerId: 'bob' as never, peerMetadata: {} },
      { kind: 'leave' },
      {
        kind: 'message',
        message: { type: 'sync', senderId: 'alice' as never, targetId: 'bob' as never, documentId, data },
      },
    ]
    for (const wire of messages)
      expect(automergeWireCodec.decode(automergeWireCodec.encode(wire))).toEqual(wire)

    const encoded = automergeWireCodec.encode(messages[3]!)
    // The bytes travel as they are at the end of the message, not as base64 or a JSON array in the header.
    expect([...encoded.subarray(encoded.byteLength - data.byteLength)]).toEqual([...data])
    const header = new TextDecoder().decode(encoded)
    expect(header).not.toContain(Buffer.from(data).toString('base64'))
    expect(header).not.toContain('250,251')
  })

  it('keeps only the peer metadata fields automerge-repo defines', () => {
    const decoded = automergeWireCodec.decode(
      hostile({ kind: 'arrive', peerId: 'p', peerMetadata: { storageId: 's', isEphemeral: true, extra: 1 } }),
    )
    expect(decoded).toEqual({
      kind: 'arrive',
      peerId: 'p',
      peerMetadata: { storageId: 's', isEphemeral: true },
    })
    expect(automergeWireCodec.decode(hostile({ kind: 'welcome', peerId: 'p' }))).toEqual({
      kind: 'welcome',
      peerId: 'p',
      peerMetadata: {},
    })
  })

  it('passes message types the Repo does not know with their envelope checked', () => {
    const decoded = automergeWireCodec.decode(message({ type: 'future-thing', extra: [1, 2] }))
    expect(decoded).toEqual({
      kind: 'message',
      message: { type: 'future-thing', senderId: 'a', targetId: 'b', extra: [1, 2] },
    })
  })

  it('accepts each message type the Repo sends', () => {
    const data = Uint8Array.of(1)
    const valid = [
      { type: 'request', documentId, data },
      { type: 'ephemeral', documentId, data, count: 3, sessionId: 'session' },
      { type: 'doc-unavailable', documentId },
      { type: 'remote-subscription-change', add: ['s1'], remove: [] },
      { type: 'remote-heads-changed', documentId, newHeads: { s1: { heads: ['h'], timestamp: 5 } } },
    ]
    for (const fields of valid) expect(automergeWireCodec.decode(message(fields)).kind).toBe('message')
  })

  it('refuses every malformed wire message with MalformedMessage', () => {
    const tooLong = 'x'.repeat(MAX_REPO_ID_LENGTH + 1)
    const data = Uint8Array.of(1)
    const bad: Uint8Array[] = [
      Uint8Array.of(1, 2, 3),
      hostile('arrive'),
      hostile([{ kind: 'leave' }]),
      hostile({ kind: 'dance' }),
      hostile({ kind: 'arrive', peerId: '' }),
      hostile({ kind: 'arrive', peerId: 7 }),
      hostile({ kind: 'welcome', peerId: tooLong }),
      hostile({ kind: 'arrive', peerId: 'p', peerMetadata: 'meta' }),
      hostile({ kind: 'arrive', peerId: 'p', peerMetadata: { storageId: 5 } }),
      hostile({ kind: 'arrive', peerId: 'p', peerMetadata: { isEphemeral: 'yes' } }),
      hostile({ kind: 'arrive', peerId: 'p', peerMetadata: Uint8Array.of(1) }),
      hostile({ kind: 'message' }),
      message({}),
      message({ type: 'sync', senderId: 5, documentId, data }),
      message({ type: 'sync', targetId: null, documentId, data }),
      message({ type: 'sync', documentId, data: 'AAEC' }),
      message({ type: 'sync', documentId, data: [0, 1, 2] }),
      message({ type: 'sync', documentId: 'not-a-document', data }),
      message({ type: 'sync', data }),
      message({ type: 'request', documentId }),
      message({ type: 'ephemeral', documentId, data, sessionId: 's' }),
      message({ type: 'ephemeral', documentId, data, count: -1, sessionId: 's' }),
      message({ type: 'ephemeral', documentId, data, count: 1 }),
      message({ type: 'doc-unavailable' }),
      message({ type: 'remote-subscription-change', add: 's1' }),
      message({ type: 'remote-subscription-change', remove: [1] }),
      message({ type: 'remote-heads-changed', documentId }),
      message({ type: 'remote-heads-changed', documentId, newHeads: { s1: { heads: 'h', timestamp: 1 } } }),
      message({ type: 'remote-heads-changed', documentId, newHeads: { s1: { heads: [1], timestamp: 1 } } }),
      message({ type: 'remote-heads-changed', documentId, newHeads: { s1: { heads: [] } } }),
      message({ type: 'remote-heads-changed', documentId, newHeads: { s1: 'x' } }),
      message({ type: 'remote-heads-changed', documentId, newHeads: { '': { heads: [], timestamp: 1 } } }),
    ]
    for (const bytes of bad)
      expectNetworkErrorSync(() => automergeWireCodec.decode(bytes), 'MalformedMessage')
  })
})
