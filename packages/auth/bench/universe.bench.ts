// Bitmap universes over 1 M resources: building the index, a caller's universe from scratch, and the
// incremental updates, against deciding every resource with the PermissionEvaluator (the baseline).
import type { Role } from '../dist/index.js'
import {
  computeUniverse,
  defineRole,
  MemoryRoleSource,
  PermissionEvaluator,
  parseResourcePath,
  SearchUniverses,
  UniverseIndex,
} from '../dist/index.js'
import { fiftyRuleRoles, GROUPS, resourcePath } from './fixtures.ts'
import { fmt, millis, table } from './measure.ts'

const N = 1_000_000
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
const isPublic = (i: number) => i % 1000 === 0

// Flat strings, as paths read from storage are (template literals would be ropes).
const paths: string[] = JSON.parse(JSON.stringify(Array.from({ length: N }, (_, i) => resourcePath(i))))
const roles = fiftyRuleRoles()
const evaluator = new PermissionEvaluator(roles)

function build(index: UniverseIndex): number {
  const start = performance.now()
  for (let i = 0; i < N; i++) index.add(i, paths[i]!, { public: isPublic(i) })
  return performance.now() - start
}

function timed<T>(fn: () => T): [T, number] {
  const start = performance.now()
  const result = fn()
  return [result, performance.now() - start]
}

// 1. From scratch: an index that keeps no pattern bitmaps, so every rule walks the prefix tree.
gc()
const before = process.memoryUsage()
let scratchIndex: UniverseIndex | undefined = new UniverseIndex({ patternCapacity: 0 })
const buildMs = build(scratchIndex)
gc()
const after = process.memoryUsage()
const [first, coldMs] = timed(() => computeUniverse(scratchIndex!, evaluator))
const scratchMs = millis(() => computeUniverse(scratchIndex!, evaluator), 9)
const universeSize = first.size
scratchIndex = undefined
gc()

// 2. The default index (pattern bitmaps kept), materialised up front as a node does at start-up, with
//    100 other callers' universes kept and maintained.
const index = new UniverseIndex()
build(index)
gc()
const [, materialiseMs] = timed(() => index.materialise())
const [, firstAfterMaterialiseMs] = timed(() => computeUniverse(index, evaluator))
const cachedMs = millis(() => computeUniverse(index, evaluator), 9)
const source = new MemoryRoleSource()
const universes = new SearchUniverses({ index, roles: source })
for (let u = 0; u < 100; u++) {
  const g = u % GROUPS
  const userRoles: Role[] = [
    defineRole({
      name: `u${u}`,
      scope: { realm: 'r', group: `g${g}` },
      rules: [
        { pattern: `/r/g/g${g}/data/**`, permission: 'READ' },
        { pattern: `/r/g/g${g}/data/b${u % 10}/**`, permission: 'DENY' },
      ],
    }),
  ]
  source.set(`user-${u}`, userRoles)
  universes.universeForRoles({ userId: `user-${u}` }, userRoles)
}
universes.universeForRoles({ userId: 'alice' }, roles)
let next = N
const addMs = millis(() => index.add(next++, `/r/g/g3/data/b1/d9/new-${next}.csv`), 201)
const removeMs = millis(() => index.remove(--next), 201)
let flip = 0
const publicMs = millis(() => index.setPublic((flip++ * 7919) % N, flip % 2 === 0), 201)
let toggle = false
const roleChangeMs = millis(() => {
  toggle = !toggle
  universes.universeForRoles({ userId: 'alice' }, toggle ? roles.slice(0, 4) : roles)
}, 9)
const kept = universes.universeForRoles({ userId: 'alice' }, roles)
if (!computeUniverse(index, evaluator).isEqual(kept as typeof first))
  throw new Error('the kept universe drifted')

// 3. Baseline: every resource decided by the evaluator (paths already split), ordinals collected.
const split = paths.map((p) => parseResourcePath(p))
const decide = (i: number) => isPublic(i) || evaluator.evaluateSegments('READ', split[i]!).allowed
const baselineMs = millis(() => {
  const out: number[] = []
  for (let i = 0; i < N; i++) if (decide(i)) out.push(i)
}, 3)
for (let i = 0; i < N; i++) {
  if (first.has(i) !== decide(i)) throw new Error(`the universe disagrees with the evaluator on ${paths[i]}`)
}

const goal = (ms: number, limit: number) =>
  ms < limit ? `yes (< ${limit} ms)` : `**no** (goal < ${limit} ms)`
const x = (ms: number) => fmt(baselineMs / ms, 0)
const rows: string[][] = []
rows.push(['index build: 1 M `add` (once, at node start)', `${fmt(buildMs)} ms`, '', ''])
rows.push(['`materialise()`: every prefix bitmap (once, at node start)', `${fmt(materialiseMs)} ms`, '', ''])
rows.push([
  'first universe after `materialise()`',
  `${fmt(firstAfterMaterialiseMs, 1)} ms`,
  goal(firstAfterMaterialiseMs, 100),
  x(firstAfterMaterialiseMs),
])
rows.push([
  'universe from scratch (no pattern bitmaps kept)',
  `${fmt(scratchMs, 1)} ms`,
  goal(scratchMs, 100),
  x(scratchMs),
])
rows.push([
  'first universe on a fresh index, no `materialise()`',
  `${fmt(coldMs, 1)} ms`,
  goal(coldMs, 100),
  x(coldMs),
])
rows.push(['universe from kept pattern bitmaps', `${fmt(cachedMs, 2)} ms`, '', x(cachedMs)])
rows.push([
  'incremental: role change seen by `SearchUniverses`',
  `${fmt(roleChangeMs, 2)} ms`,
  goal(roleChangeMs, 5),
  '',
])
rows.push([
  'incremental: add a resource (101 universes kept)',
  `${fmt(addMs * 1000, 1)} µs`,
  goal(addMs, 5),
  '',
])
rows.push([
  'incremental: remove a resource (101 universes kept)',
  `${fmt(removeMs * 1000, 1)} µs`,
  goal(removeMs, 5),
  '',
])
rows.push([
  'incremental: make a resource public / private',
  `${fmt(publicMs * 1000, 1)} µs`,
  goal(publicMs, 5),
  '',
])
rows.push(['baseline: evaluator on every resource (pre-split)', `${fmt(baselineMs, 1)} ms`, '', '1'])

console.log(`## Bitmap universes over 1 M resources

${fmt(N)} resources (\`/r/g/g{0..19}/data/b{0..9}/d{0..49}/f{0..99}.csv|txt|tmp\`, 0.1 % public) in a
\`UniverseIndex\` (prefix tree with roaring bitmaps; native \`roaring\`, CRoaring). A user with 50 rules (five
group roles: allows, denies under allows, \`*\`, \`**/*.tmp\`, globs) whose universe holds ${fmt(universeSize)}
ordinals; it agrees with the evaluator on every resource (checked). Medians of several runs where a
figure is repeatable; the one-off figures (build, materialise, first universe) vary with garbage collection.
roaring-wasm is not installed, so it was not measured.

${table(['operation', 'time', 'goal met', '× faster than the baseline'], rows)}

Memory: the index of ${fmt(N)} resources ≈ ${fmt((after.heapUsed - before.heapUsed) / 2 ** 20)} MB of JS heap before its prefix
bitmaps are built (they live outside the heap, in CRoaring).
`)
