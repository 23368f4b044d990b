/**
 * Synthetic RO-Crates for tests and benchmarks: shaped like the crates in
 * `test/fixtures/ro-crate/valid` (a root Dataset with name, description, datePublished, a license
 * entity, keywords, authors as Person entities with ORCIDs and Organization affiliations with ROR ids,
 * a publisher, a DOI as PropertyValue, profiles in conformsTo, and File entities with contentSize,
 * encodingFormat and names). They pass RO-Crate 1.1 validation without errors.
 *
 * Deterministic: crate `n` of seed `s` is always the same, whatever was generated before it, so a
 * benchmark can make 100 000 of them without keeping them, and a test can name one by number. Words are
 * drawn with a skew (a few common, many rare), as in real metadata.
 */
import type { Crate, Entity } from '../port.js'

export interface SyntheticResource {
  resourceId: string
  group: string
  crate: Crate
}

const TOPICS = [
  'sea ice',
  'ocean heat',
  'glacier',
  'permafrost',
  'soil moisture',
  'river discharge',
  'aerosol',
  'cloud cover',
  'precipitation',
  'snow depth',
  'sediment core',
  'plankton',
  'coral reef',
  'wind speed',
  'groundwater',
  'land cover',
  'wildfire',
  'drought index',
  'air quality',
  'ozone',
  'methane flux',
  'tree ring',
  'pollen record',
  'ice core',
  'sea level',
  'salinity',
  'chlorophyll',
  'biomass',
  'genome assembly',
  'protein structure',
  'gene expression',
  'cell imaging',
  'metagenome',
  'variant calls',
  'microscopy',
  'mass spectrometry',
  'proteomics',
  'single cell',
  'neuron tracing',
  'brain atlas',
  'crystal structure',
  'particle tracks',
  'beam loss',
  'detector calibration',
  'neutron scattering',
  'galaxy survey',
  'exoplanet transit',
  'solar wind',
  'magnetosphere',
  'seismic waveform',
  'traffic flow',
  'household survey',
  'election results',
  'language corpus',
  'historic letters',
]
const WORDS = [
  'arctic',
  'antarctic',
  'global',
  'regional',
  'daily',
  'weekly',
  'monthly',
  'annual',
  'gridded',
  'satellite',
  'in situ',
  'model',
  'reanalysis',
  'observations',
  'time series',
  'measurements',
  'profiles',
  'high resolution',
  'calibrated',
  'raw',
  'processed',
  'quality controlled',
  'campaign',
  'station',
  'cruise',
  'transect',
  'mooring',
  'drone',
  'lidar',
  'radar',
  'sonar',
  'spectra',
  'images',
  'samples',
  'simulation',
  'ensemble',
  'forecast',
  'climatology',
  'anomaly',
  'trend',
  'baseline',
  'validation',
  'training data',
  'benchmark',
  'pipeline',
  'workflow',
  'notebook',
  'provenance',
  'North Sea',
  'Baltic',
  'Greenland',
  'Alps',
  'Amazon',
  'Sahel',
  'Pacific',
  'Atlantic',
  'Himalaya',
  'Svalbard',
  'Bremen',
]
const GIVEN = [
  'Alice',
  'Bilge',
  'Carlos',
  'Dana',
  'Emeka',
  'Fatima',
  'Görkem',
  'Hannah',
  'Ivan',
  'Jun',
  'Kai',
  'Lena',
  'Mateo',
  'Nadia',
  'Olaf',
  'Priya',
  'Quentin',
  'Rosa',
  'Stian',
  'Tomasz',
  'Uma',
  'Viktor',
  'Wei',
  'Ximena',
  'Yusuf',
  'Zoë',
]
const FAMILY = [
  'Müller',
  'Sürün',
  'García',
  'Okafor',
  'Haddad',
  'Jensen',
  'Kowalski',
  'Nakamura',
  'Novak',
  'Rossi',
  'Schmidt',
  'Soiland-Reyes',
  'Singh',
  'Silva',
  'Smith',
  'Tanaka',
  'Wang',
  'Yilmaz',
  'Zhang',
  'Ødegaard',
]
const ORGANIZATIONS = [
  'Alfred Wegener Institute',
  'University of Bremen',
  'University of Manchester',
  'CRS4',
  'Forschungszentrum Jülich',
  'Max Planck Institute for Meteorology',
  'ETH Zürich',
  'University of Oslo',
  'National Oceanography Centre',
  'CNRS',
  'Helmholtz-Zentrum Hereon',
  'Leibniz Institute for Baltic Sea Research',
  'University of Tokyo',
  'CSIRO',
  'NOAA',
  'European Space Agency',
]
const LICENSES: [string, string][] = [
  ['https://spdx.org/licenses/CC-BY-4.0', 'Creative Commons Attribution 4.0 International'],
  ['https://spdx.org/licenses/CC0-1.0', 'Creative Commons Zero v1.0 Universal'],
  ['https://spdx.org/licenses/CC-BY-SA-4.0', 'Creative Commons Attribution Share Alike 4.0 International'],
  ['https://spdx.org/licenses/MIT', 'MIT License'],
  ['https://spdx.org/licenses/Apache-2.0', 'Apache License 2.0'],
  ['https://spdx.org/licenses/ODbL-1.0', 'Open Data Commons Open Database License v1.0'],
]
/** Format, file extension, typical size in bytes. */
const FORMATS: [string, string, number][] = [
  ['text/csv', 'csv', 2e6],
  ['application/x-netcdf', 'nc', 4e8],
  ['image/tiff', 'tif', 5e7],
  ['image/jpeg', 'jpg', 3e6],
  ['application/json', 'json', 2e5],
  ['text/plain', 'txt', 1e4],
  ['text/markdown', 'md', 5e3],
  ['application/x-hdf5', 'h5', 2e9],
  ['application/zip', 'zip', 8e8],
  ['text/tab-separated-values', 'tsv', 1e6],
]
/** Profiles whose own rules a plain dataset crate does not break (a Workflow or Process Run Crate has many). */
const PROFILES = ['https://w3id.org/isa/ro-crate/1.0', 'https://w3id.org/5s-crate/0.4']

/** mulberry32: small, fast, good enough for test data. */
function generator(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

/** The `n`-th synthetic crate of `seed`, in group `g{n % groups}`. */
export function syntheticResource(n: number, seed = 1, groups = 16): SyntheticResource {
  const random = generator(Math.imul(seed, 0x9e3779b1) ^ Math.imul(n + 1, 0x85ebca6b))
  const integer = (below: number): number => Math.floor(random() * below)
  /** Skewed towards the start of the list: a few values common, the rest rare. */
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() ** 2 * items.length)]!
  const some = <T>(items: readonly T[], count: number): T[] => [
    ...new Set(Array.from({ length: count }, () => pick(items))),
  ]

  const topic = pick(TOPICS)
  const qualifiers = some(WORDS, 1 + integer(3))
  const year = 2005 + integer(21)
  const month = String(1 + integer(12)).padStart(2, '0')
  const day = String(1 + integer(28)).padStart(2, '0')
  const datePublished =
    random() < 0.3
      ? `${year}-${month}-${day}T${String(integer(24)).padStart(2, '0')}:00:00+00:00`
      : `${year}-${month}-${day}`
  const [licenseId, licenseName] = pick(LICENSES)
  const keywords = [topic, ...some(WORDS, 2 + integer(4))]

  const entities: Entity[] = []
  const authors: Entity[] = []
  for (let count = 1 + integer(4), index = 0; index < count; index += 1) {
    const person = `https://orcid.org/${orcid(integer(10 ** 8), integer(10 ** 7))}`
    const organization = `https://ror.org/0${ror(integer(36 ** 6))}${String(integer(100)).padStart(2, '0')}`
    authors.push({
      '@id': person,
      '@type': 'Person',
      name: `${pick(GIVEN)} ${pick(FAMILY)}`,
      affiliation: { '@id': organization },
    })
    if (!entities.some((entity) => entity['@id'] === organization)) {
      entities.push({ '@id': organization, '@type': 'Organization', name: pick(ORGANIZATIONS) })
    }
  }
  const files: Entity[] = []
  for (let count = 1 + integer(8), index = 0; index < count; index += 1) {
    const [format, extension, typical] = pick(FORMATS)
    const bytes = Math.max(1, Math.round(typical * random() * 2))
    const name = `${topic.replace(/ /g, '_')}_${index}.${extension}`
    files.push({
      '@id': random() < 0.2 ? `data/${name}` : name,
      '@type': 'File',
      name: `${pick(WORDS)} ${topic} ${index}`,
      // RO-Crate writes contentSize as text; some crates (and ro-crate-py) write a number.
      contentSize: random() < 0.7 ? String(bytes) : bytes,
      encodingFormat: format,
    })
  }

  const root: Entity = {
    '@id': './',
    '@type': 'Dataset',
    name: `${capitalise(qualifiers.join(' '))} ${topic} ${year}`,
    description: `${capitalise(topic)} ${some(WORDS, 3 + integer(6)).join(', ')} from ${pick(WORDS)} ${pick(TOPICS)}. ${capitalise(pick(WORDS))} data, ${pick(WORDS)}.`,
    datePublished,
    license: { '@id': licenseId },
    keywords: random() < 0.5 ? keywords : keywords.join(', '),
    author: authors.map((author) => ({ '@id': author['@id'] })),
    hasPart: files.map((file) => ({ '@id': file['@id'] })),
  }
  if (random() < 0.5) root.identifier = { '@id': '#doi' }
  if (random() < 0.3) root.conformsTo = { '@id': pick(PROFILES) }
  if (random() < 0.4) root.publisher = { '@id': entities[0]!['@id'] }

  const graph: Entity[] = [
    {
      '@id': 'ro-crate-metadata.json',
      '@type': 'CreativeWork',
      conformsTo: { '@id': 'https://w3id.org/ro/crate/1.1' },
      about: { '@id': './' },
    },
    root,
    ...files,
    ...authors,
    ...entities,
    { '@id': licenseId, '@type': 'CreativeWork', name: licenseName, description: licenseName },
  ]
  if (root.identifier !== undefined) {
    graph.push({
      '@id': '#doi',
      '@type': 'PropertyValue',
      propertyID: 'https://registry.identifiers.org/registry/doi',
      value: `doi:10.${5000 + integer(5000)}/zenodo.${integer(10 ** 7)}`,
      url: `https://doi.org/10.5281/zenodo.${n}`,
    })
  }
  if (root.conformsTo !== undefined) {
    const profile = (root.conformsTo as { '@id': string })['@id']
    graph.push({ '@id': profile, '@type': 'CreativeWork', name: `Profile ${profile.split('/').at(-2)}` })
  }
  return {
    resourceId: `syn-${seed}-${String(n).padStart(7, '0')}`,
    group: `g${n % groups}`,
    crate: { '@context': 'https://w3id.org/ro/crate/1.1/context', '@graph': graph },
  }
}

/** Crates `0 … count-1` of `seed`, one at a time. */
export function* syntheticResources(count: number, seed = 1, groups = 16): Generator<SyntheticResource> {
  for (let n = 0; n < count; n += 1) yield syntheticResource(n, seed, groups)
}

/** An ORCID with a valid check digit (ISO 7064 MOD 11-2) from two numbers. */
function orcid(high: number, low: number): string {
  const digits = `0000${String(high).padStart(8, '0')}${String(low).padStart(7, '0')}`.slice(-15)
  let total = 0
  for (const digit of digits) total = (total + Number(digit)) * 2
  const check = (12 - (total % 11)) % 11
  const all = `${digits}${check === 10 ? 'X' : check}`
  return `${all.slice(0, 4)}-${all.slice(4, 8)}-${all.slice(8, 12)}-${all.slice(12)}`
}

/** Six characters of ROR's alphabet (Crockford base 32 without i, l, o, u). */
function ror(value: number): string {
  const alphabet = '0123456789abcdefghjkmnpqrstvwxyz'
  let text = ''
  for (let rest = value, index = 0; index < 6; index += 1, rest = Math.floor(rest / 32))
    text += alphabet[rest % 32]
  return text
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}
