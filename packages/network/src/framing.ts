import { NetworkError } from './errors.js'

/**
 * Length-prefixed frames: an unsigned LEB128 varint length, then that many bytes (the format of
 * `it-length-prefixed`, which libp2p protocols use). Frames carry encoded messages over byte streams.
 */

/** Longest varint accepted: 5 bytes carry lengths up to 2^35 - 1, far beyond any sane frame. */
const MAX_VARINT_BYTES = 5

/** The varint encoding of `value` (a non-negative safe integer). */
export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new NetworkError('InvalidArgument', 'a varint must be a non-negative safe integer')
  }
  const bytes: number[] = []
  let rest = value
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  bytes.push(rest)
  return Uint8Array.from(bytes)
}

/**
 * Reads a varint at `offset`. Returns the value and the offset after it, or `undefined` when the
 * bytes end inside the varint. `MalformedMessage` for a varint longer than 5 bytes.
 */
export function decodeVarint(bytes: Uint8Array, offset = 0): { value: number; next: number } | undefined {
  let value = 0
  let scale = 1
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    const byte = bytes[offset + i]
    if (byte === undefined) return undefined
    value += (byte & 0x7f) * scale
    if ((byte & 0x80) === 0) return { value, next: offset + i + 1 }
    scale *= 0x80
  }
  throw new NetworkError('MalformedMessage', 'length prefix longer than 5 bytes')
}

/** One frame: the varint length of `payload`, then `payload`. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const prefix = encodeVarint(payload.byteLength)
  const frame = new Uint8Array(prefix.byteLength + payload.byteLength)
  frame.set(prefix, 0)
  frame.set(payload, prefix.byteLength)
  return frame
}

/**
 * Cuts a byte stream that arrives in arbitrary chunks back into frames, treating it as hostile: a
 * frame over `maxFrameBytes` is never buffered but skipped as it streams by and reported as a
 * `MessageTooLarge` error in its place, so one bad frame costs bandwidth, not memory, and the
 * frames after it still decode. A broken length prefix cannot be skipped: `push` throws
 * `MalformedMessage` and the decoder refuses all further input.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number
  #prefix: number[] = []
  #frame: Uint8Array | undefined
  #filled = 0
  #skipping = 0
  #broken = false

  constructor(options: { maxFrameBytes: number }) {
    if (!Number.isSafeInteger(options.maxFrameBytes) || options.maxFrameBytes < 0) {
      throw new NetworkError('InvalidArgument', 'maxFrameBytes must be a non-negative integer')
    }
    this.#maxFrameBytes = options.maxFrameBytes
  }

  /** True when the input so far ends exactly between two frames. */
  get atBoundary(): boolean {
    return this.#prefix.length === 0 && this.#frame === undefined && this.#skipping === 0
  }

  /** The complete frames in the input so far, in order, with a `MessageTooLarge` error per oversized one. */
  push(chunk: Uint8Array): Array<Uint8Array | NetworkError> {
    if (this.#broken)
      throw new NetworkError('MalformedMessage', 'frame decoder stopped after a broken length prefix')
    const out: Array<Uint8Array | NetworkError> = []
    let offset = 0
    while (offset < chunk.byteLength) {
      if (this.#skipping > 0) {
        const skipped = Math.min(this.#skipping, chunk.byteLength - offset)
        this.#skipping -= skipped
        offset += skipped
      } else if (this.#frame !== undefined) {
        const copied = Math.min(this.#frame.byteLength - this.#filled, chunk.byteLength - offset)
        this.#frame.set(chunk.subarray(offset, offset + copied), this.#filled)
        this.#filled += copied
        offset += copied
        if (this.#filled === this.#frame.byteLength) {
          out.push(this.#frame)
          this.#frame = undefined
        }
      } else {
        offset = this.#readPrefixByte(chunk, offset, out)
      }
    }
    return out
  }

  #readPrefixByte(chunk: Uint8Array, offset: number, out: Array<Uint8Array | NetworkError>): number {
    this.#prefix.push(chunk[offset]!)
    let decoded: { value: number } | undefined
    try {
      decoded = decodeVarint(Uint8Array.from(this.#prefix))
    } catch (err) {
      this.#broken = true
      throw err
    }
    if (decoded === undefined) return offset + 1
    this.#prefix = []
    const length = decoded.value
    if (length > this.#maxFrameBytes) {
      out.push(new NetworkError('MessageTooLarge', `frame of ${length} bytes exceeds ${this.#maxFrameBytes}`))
      this.#skipping = length
    } else if (length === 0) {
      out.push(new Uint8Array(0))
    } else {
      this.#frame = new Uint8Array(length)
      this.#filled = 0
    }
    return offset + 1
  }
}
