import { createHash } from 'node:crypto'
import type { RangeDigest } from './port.js'

/** Set before each purge id in a range digest, so a purge never hashes like a version. */
const PURGE_MARK = Buffer.from('purge\u0000')

/**
 * Computes a `RangeDigest` from record ids (`recordId`), fed in index order: first every version
 * record of the range, then every purge record. Both indexes use it, so a memory and an LMDB replica
 * of the same records agree byte for byte.
 */
export class RangeDigester {
  readonly #hash = createHash('sha256')
  #count = 0
  #purges = 0

  version(id: Uint8Array): void {
    this.#hash.update(id)
    this.#count++
  }

  purge(id: Uint8Array): void {
    this.#hash.update(PURGE_MARK)
    this.#hash.update(id)
    this.#purges++
  }

  digest(): RangeDigest {
    return { count: this.#count, purges: this.#purges, digest: this.#hash.digest('hex') }
  }
}
