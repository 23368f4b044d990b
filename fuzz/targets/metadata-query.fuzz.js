// Fuzz target: the search query language of `@aruna/metadata` (packages/metadata/src/query/*) and the two
// search indexes that run it (MemorySearchIndex, FlexSearchIndex in src/search/*), on any query text.
//
// - `parseQuery` returns a tree or throws an InvalidQueryError (code InvalidQuery) whose position lies
//   within the text; nothing else escapes;
// - `formatQuery(tree)` parses back to the same tree, and formatting that again gives the same text;
// - `normalizeQuery` accepts every parsed tree and returns it unchanged;
// - over a small fixed corpus, FlexSearchIndex and the mock give the same page (hits, scores, order,
//   cursor) for the text and for the tree, with every document visible and with half of them; sorted by
//   relevance and by date with facets, the first short page's cursor leads to the same next page, with
//   the same facets; text that does not parse is refused by both with InvalidQuery.
// Async (`--no-sync` in the options): the indexes' `search` returns a promise.
import { isDeepStrictEqual } from 'node:util'
import {
  FlexSearchIndex,
  formatQuery,
  InvalidQueryError,
  isMetadataError,
  MemorySearchIndex,
  normalizeQuery,
  parseQuery,
} from '@aruna/metadata'

const doc = (ordinal, resourceId, text, fields) => ({
  ordinal,
  resourceId,
  group: 'g1',
  path: `/realm/g/g1/meta/${resourceId}`,
  fields,
  text,
})

const CORPUS = [
  doc(1, 'sea-ice', 'Sea ice thickness from CryoSat. Sea ice grids, weekly.', {
    type: 'Dataset',
    name: 'Sea ice thickness 2020',
    size: 4.2e9,
    datePublished: '2021-03-01',
    year: '2021',
    keywords: ['ice', 'arctic'],
    license: 'https://spdx.org/licenses/CC-BY-4.0',
  }),
  doc(2, 'ocean-heat', 'Ocean heat content in months when the sea has no ice.', {
    type: ['Dataset', 'SoftwareSourceCode'],
    name: 'Ocean heat content',
    size: 8e6,
    contentSize: '383766',
    datePublished: '2019-11-20T10:00:00Z',
    keywords: ['ocean'],
    license: 'MIT',
  }),
  doc(3, 'glacier-photos', 'Photos of a glacier with ice and snow. Glaciär, Gletscher, 氷河.', {
    type: 'Collection',
    name: 'Glacier photos',
    size: 2e9,
    datePublished: '2024',
    keywords: ['ice', 'photos', 'été'],
    encodingFormat: ['image/jpeg', 'text/plain'],
  }),
  doc(4, 'sea-level-workflow', 'Nextflow workflow for sea level rise, 2020 edition.', {
    type: 'ComputationalWorkflow',
    name: 'Sea level workflow',
    size: 10e6,
    datePublished: '2020-01',
    author: ['Alice Arctic', 'Bob'],
    conformsTo: 'https://w3id.org/ro/crate/1.1',
  }),
  doc(5, 'empty', '', {}),
  doc(6, 'numbers', '42 -1.5 1GB 2020-05-17 a:b x_y', {
    size: 0,
    count: -3,
    files: 1024,
    Size: '2020',
    date: '2020-05-17T01:04:52+01:00',
    weird: ['AND', 'OR', 'NOT', '(', ')', '"', '..'],
  }),
  doc(7, 'sea-ice-2', 'sea ice sea ice sea', { type: 'Dataset', datePublished: '2021-03', size: 1e12 }),
  doc(8, 'arctic-snow', 'Snow on arctic sea ice', {
    type: 'Dataset',
    keywords: 'snow, arctic',
    size: 1073741824,
  }),
]

const mock = new MemorySearchIndex()
const flex = new FlexSearchIndex()
for (const document of CORPUS) {
  await mock.index(document)
  await flex.index(document)
}
const EVERYTHING = { has: () => true }
const EVEN = { has: (ordinal) => ordinal % 2 === 0 }

/** A search's page, or the code of the MetadataError it was refused with; anything else escapes. */
async function outcome(index, query, options) {
  try {
    return await index.search(query, options)
  } catch (err) {
    if (!isMetadataError(err)) throw err
    return { refused: err.code }
  }
}

async function sameOnBoth(query, options, what) {
  const [expected, actual] = await Promise.all([outcome(mock, query, options), outcome(flex, query, options)])
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(
      `${what}: FlexSearchIndex gave ${JSON.stringify(actual)}, the mock ${JSON.stringify(expected)}`,
    )
  }
  return expected
}

/** @param {Buffer} data */
export async function fuzz(data) {
  const text = data.toString('utf8')
  let tree
  try {
    tree = parseQuery(text)
  } catch (err) {
    if (!(err instanceof InvalidQueryError) || err.code !== 'InvalidQuery') throw err
    const { position } = err
    if (!Number.isInteger(position) || position < 0 || position > text.length) {
      throw new Error(`position ${position} outside the query of ${text.length} characters`)
    }
    if (!err.message.includes(`position ${position}`)) throw new Error(`message without its position`)
    const refused = await sameOnBoth(text, { universe: EVERYTHING }, 'unparsable text')
    if (refused.refused !== 'InvalidQuery') throw new Error(`searched text that does not parse`)
    return
  }

  const formatted = formatQuery(tree)
  const again = parseQuery(formatted)
  if (!isDeepStrictEqual(again, tree)) {
    throw new Error(`'${formatted}' parses to ${JSON.stringify(again)}, not ${JSON.stringify(tree)}`)
  }
  if (formatQuery(again) !== formatted) throw new Error(`formatting '${formatted}' again changed it`)
  const normal = normalizeQuery(tree)
  if (!isDeepStrictEqual(normal, tree)) {
    throw new Error(`normalizeQuery changed ${JSON.stringify(tree)} into ${JSON.stringify(normal)}`)
  }

  for (const [universe, name] of [
    [EVERYTHING, 'everything'],
    [EVEN, 'even ordinals'],
  ]) {
    const page = await sameOnBoth(text, { universe, limit: 100 }, `text, ${name}`)
    if (page.refused !== undefined) throw new Error(`a parsed query was refused: ${page.refused}`)
    await sameOnBoth(tree, { universe, limit: 100 }, `tree, ${name}`)
    for (const sort of ['relevance', 'date']) {
      const options = { universe, limit: 2, sort, facets: true }
      const first = await sameOnBoth(tree, options, `first page by ${sort}, ${name}`)
      if (first.nextCursor !== undefined) {
        const second = await sameOnBoth(
          tree,
          { ...options, cursor: first.nextCursor },
          `second page by ${sort}`,
        )
        if (!isDeepStrictEqual(second.facets, first.facets)) throw new Error('facets changed between pages')
      }
    }
  }
}
