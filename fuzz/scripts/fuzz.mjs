#!/usr/bin/env node
// Runs the Jazzer.js fuzz targets in targets/*.fuzz.js, one after the other.
//
//   node scripts/fuzz.mjs [--regression | --no-merge] [NAME...] [-- LIBFUZZER_FLAG...]
//
// Default: fuzz each target for FUZZ_SECONDS seconds (default 30), starting from corpus/NAME/ and adding
// the new interesting inputs there, then minimise corpus/NAME/ (libFuzzer -merge=1: hand-named seeds stay,
// sha1-named inputs are replaced by the smallest set that keeps the coverage; --no-merge skips that).
// A crashing input is written to crashes/NAME/.
// --regression: replay every input in corpus/NAME/ once (Jazzer's --mode=regression) and fail if any
// throws; also writes test-results/vitest.json (one test per target) for scripts/test-summary.mjs.
// NAME filters the targets (config → targets/config.fuzz.js). Flags after `--` go to libFuzzer as is.
// Optional files beside a target: NAME.dict (a libFuzzer dictionary, used when fuzzing) and
// NAME.options.json ({ "jazzer": [...], "libfuzzer": [...] }: extra flags, e.g. what to instrument).
// Prints one summary line per target and exits 1 when any target failed.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const jazzerCli = join(root, 'node_modules', '@jazzer.js', 'core', 'dist', 'cli.js')
const SUFFIX = '.fuzz.js'
/** Inputs libFuzzer found are named by the sha1 of their content; hand-written seeds are named otherwise. */
const GENERATED = /^[0-9a-f]{40}$/

function usage(message) {
  if (message) console.error(`fuzz: ${message}`)
  console.error('usage: node scripts/fuzz.mjs [--regression | --no-merge] [NAME...] [-- LIBFUZZER_FLAG...]')
  process.exit(2)
}

// --- arguments -----------------------------------------------------------------------------------------
const argv = process.argv.slice(2)
const dashDash = argv.indexOf('--')
const ownArgs = dashDash < 0 ? argv : argv.slice(0, dashDash)
const extraFuzzerArgs = dashDash < 0 ? [] : argv.slice(dashDash + 1)
let regression = false
let merge = true
const names = []
for (const arg of ownArgs) {
  if (arg === '--regression') regression = true
  else if (arg === '--no-merge') merge = false
  else if (arg === '--help' || arg === '-h') usage()
  else if (arg.startsWith('-')) usage(`unknown option ${arg}`)
  else names.push(arg.endsWith(SUFFIX) ? arg.slice(0, -SUFFIX.length) : arg)
}

const secondsText = process.env.FUZZ_SECONDS ?? '30'
const seconds = Number(secondsText)
if (!regression && !(Number.isInteger(seconds) && seconds > 0)) {
  usage(`FUZZ_SECONDS must be a positive whole number of seconds, not "${secondsText}"`)
}

const all = readdirSync(join(root, 'targets'))
  .filter((f) => f.endsWith(SUFFIX))
  .map((f) => f.slice(0, -SUFFIX.length))
  .sort()
const unknown = names.filter((n) => !all.includes(n))
if (unknown.length > 0) usage(`no target ${unknown.join(', ')} (targets: ${all.join(', ') || 'none'})`)
const targets = names.length > 0 ? all.filter((n) => names.includes(n)) : all
if (targets.length === 0) usage('no targets in targets/')
if (!existsSync(jazzerCli)) {
  console.error(
    `fuzz: ${relative(process.cwd(), jazzerCli)} is missing; run pnpm install (and scripts/patch-jazzer.sh)`,
  )
  process.exit(1)
}

// --- one jazzer process ------------------------------------------------------------------------------------
const sha1 = (buf) => createHash('sha1').update(buf).digest('hex')
const listCorpus = (dir) => readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile())

let current // the running jazzer process, killed with us on Ctrl-C / SIGTERM
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (current) {
      try {
        process.kill(-current.pid, 'SIGKILL')
      } catch {}
    }
    console.error(`\nfuzz: stopped by ${signal}`)
    process.exit(130)
  })
}

/** Runs jazzer (echoing its output unless quiet) and resolves to { code, signal, output, timedOut }. */
function runJazzer(args, limitMs, quiet = false) {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [jazzerCli, ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group (libFuzzer's -merge spawns children), killed whole
    })
    current = child
    let output = ''
    const keep = (chunk, sink) => {
      if (!quiet) sink.write(chunk)
      output = (output + chunk.toString()).slice(-200_000)
    }
    child.stdout.on('data', (c) => keep(c, process.stdout))
    child.stderr.on('data', (c) => keep(c, process.stderr))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }, limitMs)
    const finish = (result) => {
      clearTimeout(timer)
      current = undefined
      resolveRun(result)
    }
    child.on('error', (err) =>
      finish({ code: null, signal: null, output: `${output}\n${err.message}`, timedOut }),
    )
    child.on('close', (code, signal) => finish({ code, signal, output, timedOut }))
  })
}

const failedHow = (run) =>
  run.timedOut ? 'timeout' : run.signal ? `signal ${run.signal}` : `exit ${run.code}`

/** Why a failed run failed, in a few words, with a hint when the cause is a known setup problem. */
function explain(run, corpusDir) {
  if (run.timedOut) return 'run did not finish in time and was killed'
  const parts = []
  const written = run.output.match(/Test unit written to (\S+)/)
  if (written) {
    const file = resolve(root, written[1])
    parts.push(`input written to ${relative(root, file)}`)
    const m = /-([0-9a-f]{40})$/.exec(file)
    if (m) {
      const match = listCorpus(corpusDir).find((f) => sha1(readFileSync(join(corpusDir, f))) === m[1])
      if (match) parts.unshift(`corpus input ${relative(root, join(corpusDir, match))} fails`)
    }
  }
  const error =
    run.output.match(/^(?:==\d+== )?Uncaught Exception: (.*)$/m) ?? run.output.match(/^(\w*Error: .*)$/m)
  if (error) parts.unshift(error[1].slice(0, 160))
  if (/GLIBC_2\.38|GLIBCXX_3\.4\.32/.test(run.output)) {
    parts.push('the fuzzer addon is unpatched: run scripts/patch-jazzer.sh')
  }
  if (/ERR_MODULE_NOT_FOUND|Cannot find (?:module|package)/.test(run.output)) {
    parts.push('an import is missing: build the workspace first (pnpm build)')
  }
  return parts.join('; ') || 'see the output above'
}

/** Per-target flags from targets/NAME.options.json: { "jazzer": [...], "libfuzzer": [...] }. */
function readOptions(file) {
  const options = { jazzer: [], libfuzzer: [] }
  if (!existsSync(file)) return options
  Object.assign(options, JSON.parse(readFileSync(file, 'utf8')))
  for (const key of ['jazzer', 'libfuzzer']) {
    if (!Array.isArray(options[key]) || !options[key].every((s) => typeof s === 'string')) {
      throw new Error(`"${key}" must be an array of strings`)
    }
  }
  return options
}

/**
 * Minimises corpusDir with libFuzzer's -merge=1: the hand-named seeds stay as they are, the sha1-named
 * inputs are replaced by the merged set (minus copies of seeds). Returns null or why it failed.
 */
async function mergeCorpus(target, corpusDir, options) {
  const merged = mkdtempSync(join(tmpdir(), 'aruna-fuzz-merge-'))
  try {
    const args = [
      target,
      merged,
      corpusDir,
      '--sync',
      ...options.jazzer,
      '--',
      ...options.libfuzzer,
      '-merge=1',
      // A crash while merging lands with the other crashes, never in the working tree.
      `-artifact_prefix=${join(root, 'crashes', basename(target).replace(SUFFIX, ''))}/`,
    ]
    const run = await runJazzer(args, 10 * 60_000, true)
    if (run.code !== 0 || run.timedOut) {
      console.error(run.output.slice(-4000))
      return `merging the corpus failed (${failedHow(run)})`
    }
    const files = listCorpus(corpusDir)
    const seeds = new Set(
      files.filter((f) => !GENERATED.test(f)).map((f) => sha1(readFileSync(join(corpusDir, f)))),
    )
    for (const f of files) if (GENERATED.test(f)) rmSync(join(corpusDir, f))
    for (const f of listCorpus(merged)) {
      if (GENERATED.test(f) && !seeds.has(f)) copyFileSync(join(merged, f), join(corpusDir, f))
    }
    return null
  } finally {
    rmSync(merged, { recursive: true, force: true })
  }
}

async function runTarget(name) {
  const target = join(root, 'targets', `${name}${SUFFIX}`)
  const corpusDir = join(root, 'corpus', name)
  const crashDir = join(root, 'crashes', name)
  const dict = join(root, 'targets', `${name}.dict`)
  const optionsFile = join(root, 'targets', `${name}.options.json`)
  const started = Date.now()
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`

  if (regression && (!existsSync(corpusDir) || listCorpus(corpusDir).length === 0)) {
    return { name, ok: false, line: `FAILED  no corpus in ${relative(root, corpusDir)}/ to replay` }
  }
  let options
  try {
    options = readOptions(optionsFile)
  } catch (err) {
    return { name, ok: false, line: `FAILED  bad ${relative(root, optionsFile)}: ${err.message}` }
  }
  mkdirSync(corpusDir, { recursive: true })
  mkdirSync(crashDir, { recursive: true })
  const before = listCorpus(corpusDir).length

  // Jazzer's own flags, then libFuzzer's after `--` (the last of a flag wins). Targets are synchronous
  // functions, hence --sync (several times faster than the default async mode).
  const mode = regression ? 'regression' : 'fuzzing'
  const args = [target, corpusDir, '--sync', `--mode=${mode}`, ...options.jazzer, '--']
  args.push(`-artifact_prefix=${crashDir}/`, ...options.libfuzzer)
  if (!regression) {
    args.push(`-max_total_time=${seconds}`)
    if (existsSync(dict)) args.push(`-dict=${dict}`)
  }
  args.push(...extraFuzzerArgs)

  console.log(`\n=== fuzz ${regression ? 'regression' : `${seconds}s`}: ${name} (jazzer ${args.join(' ')})`)
  const run = await runJazzer(args, regression ? 10 * 60_000 : (seconds + 120) * 1000)
  if (run.code !== 0 || run.timedOut) {
    return {
      name,
      ok: false,
      line: `FAILED (${failedHow(run)}) in ${elapsed()}: ${explain(run, corpusDir)}`,
    }
  }
  if (regression) return { name, ok: true, line: `ok  replayed ${before} corpus input(s) in ${elapsed()}` }

  const done = run.output.match(/Done (\d+) runs in (\d+) second/)
  const cov = [...run.output.matchAll(/\bcov: (\d+) ft: (\d+) corp: (\d+)/g)].pop()
  const found = listCorpus(corpusDir).length - before
  const mergeError = merge && found > 0 ? await mergeCorpus(target, corpusDir, options) : null
  if (mergeError) return { name, ok: false, line: `FAILED in ${elapsed()}: ${mergeError}` }
  const stats = [
    done ? `${done[1]} runs` : null,
    cov ? `cov ${cov[1]}, features ${cov[2]}` : null,
    `${found} new input(s)`,
    `${relative(root, corpusDir)}/ ${before} -> ${listCorpus(corpusDir).length} files${merge && found > 0 ? ' after merge' : ''}`,
  ].filter(Boolean)
  return { name, ok: true, line: `ok  ${stats.join(', ')} in ${elapsed()}` }
}

// --- all of them -----------------------------------------------------------------------------------------
const results = []
for (const name of targets) results.push(await runTarget(name))

const mode = regression ? 'regression' : 'fuzzing'
console.log(`\n--- fuzz ${mode} summary`)
for (const r of results) console.log(`fuzz ${mode} ${r.name}: ${r.line}`)
const failed = results.filter((r) => !r.ok).length
console.log(`fuzz ${mode}: ${results.length - failed} target(s) passed, ${failed} failed`)

if (regression) {
  // The report scripts/test-summary.mjs adds up (the fields it reads of vitest's JSON reporter).
  mkdirSync(join(root, 'test-results'), { recursive: true })
  const report = {
    numTotalTests: results.length,
    numPassedTests: results.length - failed,
    numFailedTests: failed,
    numPendingTests: 0,
    numTodoTests: 0,
    numRuntimeErrorTestSuites: 0,
    success: failed === 0,
    testResults: results.map((r) => ({
      name: `fuzz regression ${r.name}`,
      status: r.ok ? 'passed' : 'failed',
      message: r.line,
    })),
  }
  writeFileSync(join(root, 'test-results', 'vitest.json'), `${JSON.stringify(report, null, 2)}\n`)
}
process.exit(failed > 0 ? 1 : 0)
