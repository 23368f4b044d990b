import type { Crate, Entity } from '../port.js'

/** A small crate in RO-Crate 1.1 form, as a client would upload it. */
export function sampleCrate(): Crate {
  return {
    '@context': 'https://w3id.org/ro/crate/1.1/context',
    '@graph': [
      {
        '@id': 'ro-crate-metadata.json',
        '@type': 'CreativeWork',
        conformsTo: { '@id': 'https://w3id.org/ro/crate/1.1' },
        about: { '@id': './' },
      },
      {
        '@id': './',
        '@type': 'Dataset',
        name: 'Sea ice thickness 2020',
        description: 'Weekly sea ice thickness from CryoSat-2',
        datePublished: '2021-03-01',
        license: { '@id': 'https://spdx.org/licenses/CC-BY-4.0' },
        author: { '@id': '#alice' },
        hasPart: [{ '@id': 'thickness.nc' }, { '@id': 'readme.txt' }],
      },
      {
        '@id': 'thickness.nc',
        '@type': 'File',
        name: 'Thickness grid',
        encodingFormat: 'application/x-netcdf',
      },
      { '@id': 'readme.txt', '@type': 'File', name: 'Read me', author: { '@id': '#alice' } },
      { '@id': '#alice', '@type': 'Person', name: 'Alice Example' },
      { '@id': 'https://spdx.org/licenses/CC-BY-4.0', '@type': 'CreativeWork', name: 'CC BY 4.0' },
    ],
  }
}

export function entity(crate: Crate, id: string): Entity | undefined {
  return crate['@graph'].find((candidate) => candidate['@id'] === id)
}
