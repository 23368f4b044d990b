/**
 * `aruna search "<query>"`: the realm's resources the caller may read that match, from any node (every
 * live node answers for its share). `--facets` adds counts per type, license and year; `--sort date`
 * puts the newest first; `--cursor` continues after a page. A result that lacks the share of a node
 * that did not answer says so on standard error.
 */
import type { Command } from 'commander'
import { connect } from './client.js'
import type { CliIo } from './io.js'
import { addClientFlags, type ClientFlags, clientOptions, print } from './realm-commands.js'

interface Results {
  hits: { resourceId: string; group: string; name: string; score: number; datePublished?: string }[]
  facets?: Record<'type' | 'license' | 'year', { value: string; count: number }[]>
  nextCursor?: string
  partial: boolean
  missing: string[]
}

interface SearchFlags extends ClientFlags {
  limit: string
  cursor?: string
  sort: string
  facets?: boolean
}

export function addSearchCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  addClientFlags(
    program
      .command('search')
      .argument(
        '[query]',
        'words, "phrases", field:value, size:>1GB, datePublished:2020..2024, AND/OR/NOT',
        '',
      )
      .description('search the realm’s metadata: the resources you may read, from every node, each once')
      .option('--limit <n>', 'results per page (1-100)', '20')
      .option('--sort <order>', 'relevance or date (newest first)', 'relevance')
      .option('--facets', 'count the matches per type, license and year')
      .option('--cursor <cursor>', 'continue after a previous page'),
  ).action(async (query: string, opts: SearchFlags) => {
    const client = await connect(clientOptions(opts), io.env)
    const params = new URLSearchParams({ q: query, limit: opts.limit, sort: opts.sort })
    if (opts.facets) params.set('facets', 'true')
    if (opts.cursor !== undefined) params.set('cursor', opts.cursor)
    const results = await client.call<Results>('GET', `/v1/search?${params}`)
    if (results.partial)
      io.stderr.write(
        `aruna: partial results: ${results.missing.length} node(s) did not answer (${results.missing.join(', ')})\n`,
      )
    print(io, opts, results, () => {
      const lines = results.hits.map(
        (hit) =>
          `${hit.resourceId}  ${hit.name || '(no name)'}  (group ${hit.group}${hit.datePublished ? `, ${hit.datePublished}` : ''})`,
      )
      if (lines.length === 0) lines.push('no results')
      for (const [facet, values] of Object.entries(results.facets ?? {}))
        if (values.length > 0)
          lines.push(`${facet}: ${values.map((v) => `${v.value} (${v.count})`).join(', ')}`)
      if (results.nextCursor !== undefined) lines.push(`more: --cursor ${results.nextCursor}`)
      return lines.join('\n')
    })
    setExit(0)
  })
}
