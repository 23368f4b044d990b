import { describe, expect, it } from 'vitest'
import { KeyWrites } from '../src/engine/key-writes.js'

/** A write that records when it starts and ends, and ends when the test says so. */
function gated(log: string[], name: string): { run: () => Promise<string>; finish: () => void } {
  let finish!: () => void
  const gate = new Promise<void>((resolve) => {
    finish = resolve
  })
  return {
    run: async () => {
      log.push(`start ${name}`)
      await gate
      log.push(`end ${name}`)
      return name
    },
    finish,
  }
}

const turns = () => new Promise((resolve) => setTimeout(resolve, 5))

describe('KeyWrites', () => {
  it('runs plain writes of one key side by side', async () => {
    const writes = new KeyWrites()
    const log: string[] = []
    const a = gated(log, 'a')
    const b = gated(log, 'b')
    const ra = writes.shared('k', a.run)
    const rb = writes.shared('k', b.run)
    await turns()
    expect(log).toEqual(['start a', 'start b'])
    b.finish()
    a.finish()
    expect(await Promise.all([ra, rb])).toEqual(['a', 'b'])
  })

  it('runs a conditional write after the plain writes in progress, and plain writes started meanwhile after it', async () => {
    const writes = new KeyWrites()
    const log: string[] = []
    const plain = gated(log, 'plain')
    const conditional = gated(log, 'conditional')
    const later = gated(log, 'later')
    const other = gated(log, 'other key')
    const results = [
      writes.shared('k', plain.run),
      writes.exclusive('k', conditional.run),
      writes.shared('k', later.run),
      writes.shared('j', other.run),
    ]
    await turns()
    expect(log).toEqual(['start plain', 'start other key'])
    plain.finish()
    await turns()
    expect(log).toEqual(['start plain', 'start other key', 'end plain', 'start conditional'])
    conditional.finish()
    await turns()
    expect(log.slice(4)).toEqual(['end conditional', 'start later'])
    later.finish()
    other.finish()
    expect(await Promise.all(results)).toEqual(['plain', 'conditional', 'later', 'other key'])
  })

  it('runs two conditional writes of one key one after the other, also when the first fails', async () => {
    const writes = new KeyWrites()
    const log: string[] = []
    const first = writes.exclusive('k', async () => {
      log.push('first')
      await turns()
      throw new Error('refused')
    })
    const second = writes.exclusive('k', async () => {
      log.push('second')
      return 2
    })
    await expect(first).rejects.toThrow('refused')
    expect(await second).toBe(2)
    expect(log).toEqual(['first', 'second'])
  })
})
