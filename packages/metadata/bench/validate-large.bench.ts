// RO-Crate validation of a large crate: a generated ~50 MB ro-crate-metadata.json (a root data entity with
// one File entity per data file, shaped as src/search/synthetic.ts makes them, plus authors and a
// license), validated by `validateCrate`, against a baseline measured in the same run: `JSON.parse` of the
// same text. Time, and memory: the growth of the peak resident set size (maxRSS) and of the JS heap while
// the parsed crate (and the validation) are held.
//
// Text over 16 MiB is refused at once (`crate.size`, the limit of the metadata store), so the crate is
// validated as parsed JSON — what a caller that has parsed it already passes — and the figure for
// validation includes its JSON.parse. Each scenario runs in a child process of its own (peak RSS is per
// process), started with --expose-gc. BENCH_MB sets the crate's size (default 50). The bench fails when
// validation's peak memory growth exceeds 6× the text size.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { validateCrate } from '../dist/index.js'

const MB = Number(process.env.BENCH_MB ?? 50)
const BOUND = 6

const FORMATS = [
  ['application/x-netcdf', 'nc'],
  ['text/csv', 'csv'],
  ['image/tiff', 'tif'],
  ['application/json', 'json'],
] as const
const WORDS = ['salinity', 'thickness', 'drift', 'albedo', 'melt', 'ridge', 'floe', 'lead', 'snow', 'brine']

/** The crate's text, about `mb` MB: File entities until the size is reached. */
function largeCrate(mb: number): string {
  const target = mb * 1_000_000
  const files: string[] = []
  const parts: string[] = []
  let size = 2_000
  for (let index = 0; size < target; index += 1) {
    const [format, extension] = FORMATS[index % FORMATS.length]!
    const word = WORDS[index % WORDS.length]!
    const id = `data/${word}/${word}_${String(index).padStart(7, '0')}.${extension}`
    const file = JSON.stringify({
      '@id': id,
      '@type': 'File',
      name: `${word} grid ${index}`,
      description: `Monthly ${word} of the Arctic sea ice, tile ${index % 997}, from the ${WORDS[(index * 7) % WORDS.length]} campaign.`,
      contentSize: String(1_000 + ((index * 7919) % 9_000_000)),
      encodingFormat: format,
      dateModified: '2024-05-17',
      author: { '@id': `#author-${index % 50}` },
    })
    files.push(file)
    parts.push(`{"@id":${JSON.stringify(id)}}`)
    size += file.length + id.length + 14
  }
  const authors = Array.from({ length: 50 }, (_, index) =>
    JSON.stringify({ '@id': `#author-${index}`, '@type': 'Person', name: `Author ${index}` }),
  )
  const descriptor = JSON.stringify({
    '@id': 'ro-crate-metadata.json',
    '@type': 'CreativeWork',
    conformsTo: { '@id': 'https://w3id.org/ro/crate/1.2' },
    about: { '@id': './' },
  })
  const license = JSON.stringify({
    '@id': 'https://spdx.org/licenses/CC-BY-4.0',
    '@type': 'CreativeWork',
    name: 'CC BY 4.0',
    description: 'Creative Commons Attribution 4.0 International',
  })
  const root = `{"@id":"./","@type":"Dataset","name":"Arctic sea ice grids","description":"Every grid of the campaign.","datePublished":"2024-05-17","license":{"@id":"https://spdx.org/licenses/CC-BY-4.0"},"hasPart":[${parts.join(',')}]}`
  return `{"@context":"https://w3id.org/ro/crate/1.2/context","@graph":[${[descriptor, root, license, ...authors, ...files].join(',')}]}`
}

interface Figures {
  ms: number
  peakRssMiB: number
  heapMiB: number
  textMiB: number
  entities: number
  problems?: number
  valid?: boolean
}

const MiB = 1024 * 1024
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined)

function measure(scenario: 'parse' | 'validate', path: string): Figures {
  const text = readFileSync(path, 'utf8')
  // Warm up: code, JIT and the bundled term sets are loaded once per process, whatever the crate.
  const small = largeCrate(0.05)
  JSON.parse(small)
  if (scenario === 'validate') validateCrate(JSON.parse(small))
  gc()
  const rssBefore = process.resourceUsage().maxRSS * 1024
  const heapBefore = process.memoryUsage().heapUsed
  const started = performance.now()
  const json = JSON.parse(text) as { '@graph': unknown[] }
  const validation = scenario === 'validate' ? validateCrate(json) : undefined
  const ms = performance.now() - started
  gc()
  const figures: Figures = {
    ms,
    peakRssMiB: (process.resourceUsage().maxRSS * 1024 - rssBefore) / MiB,
    heapMiB: (process.memoryUsage().heapUsed - heapBefore) / MiB,
    textMiB: Buffer.byteLength(text) / MiB,
    entities: json['@graph'].length,
  }
  if (validation !== undefined) {
    figures.problems = validation.problems.length
    figures.valid = validation.valid
  }
  return figures
}

const scenario = process.argv[2]
if (scenario === 'parse' || scenario === 'validate') {
  process.stdout.write(JSON.stringify(measure(scenario, process.argv[3]!)))
} else {
  const dir = mkdtempSync(join(tmpdir(), 'aruna-validate-large-'))
  const path = join(dir, 'ro-crate-metadata.json')
  writeFileSync(path, largeCrate(MB))
  const run = (name: string): Figures => {
    const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), name, path], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    if (child.status !== 0) throw new Error(`${name} failed (exit ${child.status ?? child.signal})`)
    return JSON.parse(child.stdout) as Figures
  }
  let parse: Figures
  let validate: Figures
  try {
    parse = run('parse')
    validate = run('validate')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const row = (name: string, figures: Figures) =>
    `| ${name} | ${figures.ms.toFixed(0)} | ${(figures.ms / parse.ms).toFixed(1)}× | ${figures.peakRssMiB.toFixed(0)} | ${(figures.peakRssMiB / figures.textMiB).toFixed(1)}× | ${figures.heapMiB.toFixed(0)} |`
  console.log(`## Validation of a ${validate.textMiB.toFixed(0)} MiB crate

${validate.entities.toLocaleString('en')} entities (File entities with name, description, contentSize, encodingFormat,
dateModified, author), validated as parsed JSON (each scenario in a process of its own that has read the text and warmed up on a
small crate); baseline: \`JSON.parse\` of the same text. Peak RSS growth
is the rise of the process's maxRSS over the operation; heap growth what stays held after it (the parsed
crate, and the validation result). Validation result: ${validate.valid === true ? 'valid' : 'not valid'}, ${validate.problems} problems.

| operation | ms | vs JSON.parse | peak RSS growth MiB | × text size | heap growth MiB |
| --- | ---: | ---: | ---: | ---: | ---: |
${row('JSON.parse (baseline)', parse)}
${row('JSON.parse + validateCrate', validate)}
`)
  if (validate.peakRssMiB > BOUND * validate.textMiB) {
    console.error(
      `validation grew peak RSS by ${validate.peakRssMiB.toFixed(0)} MiB, over ${BOUND}× the text`,
    )
    process.exit(1)
  }
}
