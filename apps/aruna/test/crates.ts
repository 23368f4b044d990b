/** Small RO-Crates for route and command tests. */

type Entity = { '@id': string; [property: string]: unknown }

/**
 * A 1.1 crate: the metadata descriptor, a root data entity of `root` (only `@id` and `@type` set), and
 * the `others` entities.
 */
export function crateOf(root: Record<string, unknown>, others: Entity[] = []) {
  return {
    '@context': 'https://w3id.org/ro/crate/1.1/context',
    '@graph': [
      {
        '@id': 'ro-crate-metadata.json',
        '@type': 'CreativeWork',
        conformsTo: { '@id': 'https://w3id.org/ro/crate/1.1' },
        about: { '@id': './' },
      },
      { '@id': './', '@type': 'Dataset', ...root },
      ...others,
    ],
  }
}

/** The smallest crate RO-Crate 1.1 accepts without an error: descriptor and a complete root. */
export function minimalCrate(name = 'minimal', root: Record<string, unknown> = {}, others: Entity[] = []) {
  return crateOf(
    { name, description: `${name}, for tests`, datePublished: '2026-12-06', license: 'CC0-1.0', ...root },
    others,
  )
}
