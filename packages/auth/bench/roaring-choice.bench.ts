// Which roaring implementation should hold the universe bitmaps? The design card named roaring-wasm;
// the code uses the native `roaring` (CRoaring through N-API). This measures the operations a universe
// computation does, with both libraries, in the same run: build per-prefix bitmaps over 1 M ordinals,
// union the allowed prefixes, subtract the denied ones, probe membership, serialize (portable).
import roaring from 'roaring'
import { roaringLibraryInitialize, RoaringBitmap32 as WasmBitmap } from 'roaring-wasm'
import { median } from './measure.ts'

await roaringLibraryInitialize()
const Native = roaring.RoaringBitmap32

const RESOURCES = 1_000_000
const PREFIXES = 1000
const ALLOWED = 200
const DENIED = 20
const PROBES = 1_000_000

/** Ordinals of each prefix: resource i belongs to prefix (i * 7919) % PREFIXES, so prefixes interleave. */
const perPrefix: Uint32Array[] = (() => {
  const lists: number[][] = Array.from({ length: PREFIXES }, () => [])
  for (let i = 0; i < RESOURCES; i++) (lists[(i * 7919) % PREFIXES] as number[]).push(i)
  return lists.map((l) => Uint32Array.from(l))
})()
const probes = Uint32Array.from({ length: PROBES }, (_, i) => (i * 2654435761) % RESOURCES)

interface Lib {
  name: string
  make(values: Uint32Array): {
    orInPlace(o: unknown): unknown
    andNotInPlace(o: unknown): unknown
    has(v: number): boolean
    size: number
    serialize(f: 'portable'): Uint8Array
    dispose?(): unknown
  }
  empty(): ReturnType<Lib['make']>
}

const libs: Lib[] = [
  { name: 'roaring (native)', make: (v) => new Native(v) as never, empty: () => new Native() as never },
  { name: 'roaring-wasm', make: (v) => new WasmBitmap(v) as never, empty: () => new WasmBitmap() as never },
]

function time(fn: () => void, runs = 5): number {
  const t: number[] = []
  for (let r = 0; r < runs; r++) {
    const s = performance.now()
    fn()
    t.push(performance.now() - s)
  }
  return median(t)
}

const rows: string[] = []
const results: Record<string, number[]> = {}
for (const lib of libs) {
  let bitmaps: ReturnType<Lib['make']>[] = []
  const build = time(() => {
    for (const b of bitmaps) b.dispose?.()
    bitmaps = perPrefix.map((p) => lib.make(p))
  }, 3)
  let universe = lib.empty()
  const compute = time(() => {
    universe.dispose?.()
    universe = lib.empty()
    for (let i = 0; i < ALLOWED; i++) universe.orInPlace(bitmaps[i * 5])
    for (let i = 0; i < DENIED; i++) universe.andNotInPlace(bitmaps[i * 50])
  })
  let hits = 0
  const probe = time(() => {
    hits = 0
    for (const p of probes) if (universe.has(p)) hits++
  })
  const serialize = time(() => {
    universe.serialize('portable')
  })
  results[lib.name] = [build, compute, probe, serialize]
  rows.push(
    `| ${lib.name} | ${build.toFixed(1)} | ${compute.toFixed(2)} | ${probe.toFixed(1)} | ${serialize.toFixed(2)} | ${universe.size} / ${hits} |`,
  )
  for (const b of bitmaps) b.dispose?.()
  universe.dispose?.()
}

const native = results['roaring (native)'] as number[]
const wasm = results['roaring-wasm'] as number[]
const ratio = (i: number) => ((wasm[i] as number) / (native[i] as number)).toFixed(2)
console.log(`## Roaring implementation: native \`roaring\` vs \`roaring-wasm\`

${RESOURCES.toLocaleString('en')} ordinals in ${PREFIXES} interleaved prefix bitmaps; a universe = union of
${ALLOWED} allowed prefixes minus ${DENIED} denied ones; ${PROBES.toLocaleString('en')} membership probes. Median ms.

| library | build prefixes (ms) | compute universe (ms) | 1 M probes (ms) | serialize portable (ms) | size / hits |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

roaring-wasm / native time ratio: build ${ratio(0)}×, universe ${ratio(1)}×, probes ${ratio(2)}×, serialize ${ratio(3)}×
(above 1 means the native library is faster).
`)
