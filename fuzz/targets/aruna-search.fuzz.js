// Fuzz target: what a node decodes when another realm node asks it for its share of a search, and what
// the entry node decodes from the answers (apps/aruna/src/federation/search-protocol.ts), then merges
// (apps/aruna/src/federation/search-node.ts).
//
// Byte 0 picks the codec (request or response); the rest is its input. A codec must decode or throw a
// `NetworkError` with code `MalformedMessage`; what it decodes must encode to bytes that decode to the
// same value. Decoded results must merge (hits by score and by date, facets) without throwing, keep
// each resource once, and never grow beyond what came in. Anything else escaping is a finding.
import { isDeepStrictEqual } from 'node:util'
import { isNetworkError } from '@aruna/network'
import { mergeFacets, mergeHits, searchProtocol } from 'aruna'

const CODECS = [searchProtocol.request, searchProtocol.response]

/** @param {Buffer} data */
export function fuzz(data) {
  if (data.byteLength < 1) return
  const codec = CODECS[data[0] % CODECS.length]
  let message
  try {
    message = codec.decode(new Uint8Array(data.subarray(1)))
  } catch (err) {
    if (isNetworkError(err) && err.code === 'MalformedMessage') return
    throw err
  }
  const again = codec.decode(codec.encode(message))
  if (!isDeepStrictEqual(again, message))
    throw new Error(`a ${message.kind} message did not survive a round trip`)
  if (message.kind !== 'results') return
  for (const sort of ['relevance', 'date']) {
    const merged = mergeHits([message, message], sort)
    const ids = new Set(message.hits.map((hit) => hit.resourceId))
    if (merged.length !== ids.size)
      throw new Error(`merging kept ${merged.length} hits of ${ids.size} resources`)
    for (const hit of merged)
      if (!(hit.score >= 0 && hit.score <= 1) && message.hits.some((h) => h.score > 0))
        throw new Error(`a merged score ${hit.score} is not normalised`)
  }
  const facets = mergeFacets([message.facets, message.facets])
  for (const key of ['type', 'license', 'year'])
    for (const { count } of facets[key]) if (!(count >= 0)) throw new Error(`a facet count ${count}`)
}
