/** Small RO-Crates for route and command tests. */

/** The smallest crate RO-Crate 1.1 accepts without an error: descriptor and a complete root. */
export function minimalCrate(name = 'minimal') {
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
        name,
        description: `${name}, for tests`,
        datePublished: '2026-12-06',
        license: 'CC0-1.0',
      },
    ],
  }
}
