import { describe, expect, it } from 'vitest'
import { GroupCommit } from '../src/group-commit.js'

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { opened, open }
}

const fulfilled = <R>(value: R): PromiseSettledResult<R> => ({ status: 'fulfilled', value })

describe('GroupCommit', () => {
  it('runs a lone member at once, in a batch of its own', async () => {
    const batches: number[][] = []
    const commits = new GroupCommit<number, number>({
      commit: async (members) => {
        batches.push([...members])
        return members.map((m) => fulfilled(m * 2))
      },
    })
    expect(await commits.submit(21)).toBe(42)
    expect(batches).toEqual([[21]])
    expect(commits.batches).toBe(1)
  })

  it('gathers the members that arrive while a batch runs into the next batch', async () => {
    const batches: number[][] = []
    const first = gate()
    const commits = new GroupCommit<number, number>({
      commit: async (members) => {
        batches.push([...members])
        if (batches.length === 1) await first.opened
        return members.map((m) => fulfilled(m))
      },
    })
    const lone = commits.submit(0)
    const gathered = Array.from({ length: 10 }, (_v, i) => commits.submit(i + 1))
    first.open()
    expect(await Promise.all([lone, ...gathered])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(batches).toEqual([[0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]])
  })

  it('answers a member only after its whole batch has run', async () => {
    let committed = 0
    const commits = new GroupCommit<number, void>({
      commit: async (members) => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        committed += members.length
        return members.map(() => fulfilled(undefined))
      },
    })
    const seen: number[] = []
    await Promise.all(
      Array.from({ length: 20 }, (_v, i) => commits.submit(i).then(() => seen.push(committed))),
    )
    // The first member went alone; the other 19 waited for the second batch to be done.
    expect(seen[0]).toBe(1)
    expect(seen.slice(1).every((n) => n === 20)).toBe(true)
  })

  it('fails only the member whose outcome is a failure', async () => {
    const commits = new GroupCommit<number, number>({
      commit: async (members) =>
        members.map((m) =>
          m === 3 ? { status: 'rejected', reason: new Error('member 3 failed') } : fulfilled(m),
        ),
    })
    const outcomes = await Promise.allSettled([1, 2, 3, 4].map((m) => commits.submit(m)))
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled'])
    expect((outcomes[2] as PromiseRejectedResult).reason).toEqual(new Error('member 3 failed'))
  })

  it('fails every member of a batch whose commit throws, and still runs the next batch', async () => {
    const first = gate()
    let calls = 0
    const commits = new GroupCommit<number, number>({
      commit: async (members) => {
        calls++
        if (calls === 1) {
          await first.opened
          return members.map((m) => fulfilled(m))
        }
        if (calls === 2) throw new Error('the disk is gone')
        return members.map((m) => fulfilled(m))
      },
    })
    const lone = commits.submit(0)
    const doomed = [commits.submit(1), commits.submit(2)]
    first.open()
    expect(await lone).toBe(0)
    for (const member of doomed) await expect(member).rejects.toThrow('the disk is gone')
    expect(await commits.submit(3)).toBe(3)
  })

  it('fails the members of a batch that answers the wrong number of outcomes', async () => {
    const commits = new GroupCommit<number, number>({ commit: async () => [] })
    await expect(commits.submit(1)).rejects.toThrow('a batch of 1 got 0 outcomes')
  })

  it('keeps batches to maxBatch members', async () => {
    const sizes: number[] = []
    const commits = new GroupCommit<number, number>({
      maxBatch: 4,
      commit: async (members) => {
        sizes.push(members.length)
        await new Promise((resolve) => setTimeout(resolve, 1))
        return members.map((m) => fulfilled(m))
      },
    })
    await Promise.all(Array.from({ length: 11 }, (_v, i) => commits.submit(i)))
    expect(sizes).toEqual([1, 4, 4, 2])
  })
})
