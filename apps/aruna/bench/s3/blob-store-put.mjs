// The chunk store alone under the small-PUT load of the S3 bench: `FsBlobStore.put` of distinct 1 KiB
// chunks from `concurrency` writers, against the ceiling's file pattern (write, fdatasync, rename) in
// the same process, interleaved in slices so that both see the machine's other load alike. Prints
// puts/s, this process's CPU per put and the store's sync counters, to see what the store's durability
// protocol costs apart from the HTTP path. Needs @aruna/data built.
//
//   node apps/aruna/bench/s3/blob-store-put.mjs [rounds=10] [slice=200] [concurrency=20] [size=1024]
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FsBlobStore } from '@aruna/data'

const [rounds = 10, slice = 200, concurrency = 20, size = 1024] = process.argv.slice(2).map(Number)

const work = await mkdtemp(join(tmpdir(), 'aruna-blob-bench-'))
try {
  const store = await FsBlobStore.open({ directory: join(work, 'store') })
  await mkdir(join(work, 'ceiling'))
  const contenders = [
    { name: 'FsBlobStore.put', put: (_i, bytes) => store.put(bytes), ms: 0, cpuMs: 0, puts: 0 },
    {
      name: 'ceiling (write, fdatasync, rename)',
      put: async (i, bytes) => {
        const partial = join(work, `tmp-${i}`)
        const handle = await open(partial, 'w')
        await handle.write(bytes)
        await handle.datasync()
        await handle.close()
        await rename(partial, join(work, 'ceiling', String(i)))
      },
      ms: 0,
      cpuMs: 0,
      puts: 0,
    },
  ]
  let id = 0
  for (let round = 0; round < rounds; round++) {
    for (const contender of round % 2 === 0 ? contenders : [...contenders].reverse()) {
      let left = slice
      const cpu = process.cpuUsage()
      const start = performance.now()
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (left-- > 0) await contender.put(id++, new Uint8Array(randomBytes(size)))
        }),
      )
      contender.ms += performance.now() - start
      const used = process.cpuUsage(cpu)
      contender.cpuMs += (used.user + used.system) / 1000
      contender.puts += slice
    }
  }
  for (const { name, ms, cpuMs, puts } of contenders)
    console.log(`${name}: ${((puts / ms) * 1000).toFixed(0)} puts/s, CPU ${(cpuMs / puts).toFixed(3)} ms/put`)
  console.log(`FsBlobStore counters: ${JSON.stringify(store.counters)}`)
} finally {
  await rm(work, { recursive: true, force: true })
}
