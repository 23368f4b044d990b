import { expect } from 'vitest'
import { MetadataError, type MetadataErrorCode } from '../errors.js'

/**
 * Runs `action` and checks that it fails with a `MetadataError` of `code` (a rejection or a throw, never
 * another kind of error). Returns the error for further checks.
 */
export async function expectMetadataError(
  action: () => Promise<unknown> | unknown,
  code: MetadataErrorCode,
): Promise<MetadataError> {
  let outcome: unknown
  try {
    outcome = await action()
  } catch (error) {
    expect(error, `expected a MetadataError ${code}, got ${String(error)}`).toBeInstanceOf(MetadataError)
    expect((error as MetadataError).code, (error as Error).message).toBe(code)
    return error as MetadataError
  }
  return expect.fail(`expected a MetadataError ${code}, but it succeeded with ${JSON.stringify(outcome)}`)
}
