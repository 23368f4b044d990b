import { AuthError } from './errors.js'
import { PathPattern } from './path-pattern.js'
import { parseResourcePath } from './resource-path.js'
import type { Bitmap, OrdinalSet } from './universe-bitmap.js'
import { emptyBitmap, unionOf } from './universe-bitmap.js'

/** Told about every change of a `UniverseIndex`, after it happened (see `SearchUniverses`). */
export interface UniverseIndexListener {
  added(ordinal: number, path: readonly string[], isPublic: boolean): void
  removed(ordinal: number): void
  publicChanged(ordinal: number, path: readonly string[], isPublic: boolean): void
}

export interface UniverseIndexOptions {
  /**
   * Subtrees with at least this many resources keep a bitmap, maintained on every change; smaller ones
   * are collected when needed. Default 64.
   */
  readonly materialiseAt?: number
  /** How many patterns' bitmaps are kept (and maintained) between universes; 0 keeps none. Default 4096. */
  readonly patternCapacity?: number
}

/** One prefix of the resource paths: a node of the path tree. */
class PrefixNode {
  children: Map<string, PrefixNode> | undefined
  /**
   * Ordinals whose path ends exactly here: usually one (kept as a number, not an array: a million leaves
   * make the difference), several for several versions of one resource.
   */
  own: number | number[] | undefined
  /** Ordinals at or below this prefix. */
  count = 0
  /** All ordinals at or below, when materialised (then kept up to date). */
  subtree: Bitmap | undefined

  constructor(
    readonly segment: string,
    readonly parent: PrefixNode | undefined,
  ) {}
}

/** How one pattern segment walks the tree. */
type Step =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'one' }
  | { readonly kind: 'glob'; readonly matcher: PathPattern }
  | { readonly kind: 'globstar' }

/** Bitmaps and loose ordinals gathered by a walk, unioned once at the end. */
interface Gathered {
  readonly bitmaps: Bitmap[]
  readonly loose: number[]
}

const MAX_ORDINAL = 0xffff_ffff

/**
 * A node's index from uint32 ordinals to resource paths, as bitmaps: the set of ordinals under every
 * path prefix (a tree of prefixes, each large subtree holding a roaring bitmap), the public ordinals, and
 * the ordinals matching each pattern asked for (cached, and maintained as resources come and go). This is
 * what makes a caller's universe a handful of bitmap operations instead of a check per resource.
 *
 * Incremental: `add`, `remove` and `setPublic` update the prefix bitmaps along one path, the cached
 * pattern bitmaps, and tell the listeners (the cached universes of `SearchUniverses`).
 */
export class UniverseIndex {
  readonly #root = new PrefixNode('', undefined)
  readonly #leaves = new Map<number, PrefixNode>()
  readonly #public = emptyBitmap()
  readonly #materialiseAt: number
  readonly #patternCapacity: number
  /** Pattern source → its steps and the ordinals it matches. Oldest first (evicted first). */
  readonly #patterns = new Map<string, { readonly pattern: PathPattern; readonly bitmap: Bitmap }>()
  readonly #listeners = new Set<UniverseIndexListener>()

  constructor(options: UniverseIndexOptions = {}) {
    this.#materialiseAt = options.materialiseAt ?? 64
    this.#patternCapacity = options.patternCapacity ?? 4096
  }

  /** How many resources are indexed. */
  get size(): number {
    return this.#leaves.size
  }

  /** The public ordinals (readable by everyone, even anonymous callers). */
  get publicOrdinals(): OrdinalSet {
    return this.#public
  }

  has(ordinal: number): boolean {
    return this.#leaves.has(ordinal)
  }

  /** The resource path of `ordinal`, or undefined. */
  pathOf(ordinal: number): string | undefined {
    const leaf = this.#leaves.get(ordinal)
    return leaf === undefined ? undefined : `/${segmentsOf(leaf).join('/')}`
  }

  /**
   * Indexes `ordinal` as the resource at `path` (replacing what it was before, if anything).
   * @throws AuthError('InvalidPath') for a path that is not a resource path; AuthError('InvalidArgument')
   *   for an ordinal that is not a uint32.
   */
  add(ordinal: number, path: string, options: { public?: boolean } = {}): void {
    checkOrdinal(ordinal)
    const segments = parseResourcePath(path)
    const isPublic = options.public === true
    const existing = this.#leaves.get(ordinal)
    if (existing !== undefined) {
      if (sameSegments(segmentsOf(existing), segments)) {
        this.setPublic(ordinal, isPublic)
        return
      }
      this.remove(ordinal)
    }
    let node = this.#root
    this.#enter(node, ordinal)
    for (const segment of segments) {
      let child = node.children?.get(segment)
      if (child === undefined) {
        child = new PrefixNode(segment, node)
        node.children ??= new Map()
        node.children.set(segment, child)
      }
      node = child
      this.#enter(node, ordinal)
    }
    if (node.own === undefined) node.own = ordinal
    else if (typeof node.own === 'number') node.own = [node.own, ordinal]
    else node.own.push(ordinal)
    this.#leaves.set(ordinal, node)
    if (isPublic) this.#public.add(ordinal)
    for (const { pattern, bitmap } of this.#patterns.values()) {
      if (pattern.matchesSegments(segments)) bitmap.add(ordinal)
    }
    for (const listener of this.#listeners) listener.added(ordinal, segments, isPublic)
  }

  /** Removes `ordinal`; returns whether it was indexed. */
  remove(ordinal: number): boolean {
    const leaf = this.#leaves.get(ordinal)
    if (leaf === undefined) return false
    this.#leaves.delete(ordinal)
    const own = leaf.own!
    if (typeof own === 'number') leaf.own = undefined
    else {
      own.splice(own.indexOf(ordinal), 1)
      if (own.length === 1) leaf.own = own[0]
    }
    for (let node: PrefixNode | undefined = leaf; node !== undefined; node = node.parent) {
      node.count--
      node.subtree?.remove(ordinal)
      if (node.count === 0 && node.parent !== undefined) {
        node.parent.children!.delete(node.segment)
        node.subtree = undefined
      }
    }
    this.#public.remove(ordinal)
    for (const { bitmap } of this.#patterns.values()) bitmap.remove(ordinal)
    for (const listener of this.#listeners) listener.removed(ordinal)
    return true
  }

  /** Marks an indexed resource public (or not). Does nothing for an ordinal that is not indexed. */
  setPublic(ordinal: number, isPublic: boolean): void {
    const leaf = this.#leaves.get(ordinal)
    if (leaf === undefined || this.#public.has(ordinal) === isPublic) return
    if (isPublic) this.#public.add(ordinal)
    else this.#public.remove(ordinal)
    const segments = segmentsOf(leaf)
    for (const listener of this.#listeners) listener.publicChanged(ordinal, segments, isPublic)
  }

  /**
   * Builds the bitmap of every large subtree now (they are otherwise built on first use, then kept up to
   * date). Call it after loading the index at start-up, so that the first query does not pay for it.
   */
  materialise(): void {
    this.#subtreeOf(this.#root)
  }

  /** The ordinals under the literal prefix `segments` (`[]`: all). Read-only: do not change it. */
  prefixBitmap(segments: readonly string[]): Bitmap {
    let node: PrefixNode | undefined = this.#root
    for (const segment of segments) {
      node = node.children?.get(segment)
      if (node === undefined) return emptyBitmap()
    }
    return this.#subtreeOf(node)
  }

  /**
   * The ordinals whose path `pattern` matches, cached and kept up to date. Read-only: do not change it.
   */
  patternBitmap(pattern: PathPattern): Bitmap {
    const cached = this.#patterns.get(pattern.source)
    if (cached !== undefined) {
      // Most recently used last.
      this.#patterns.delete(pattern.source)
      this.#patterns.set(pattern.source, cached)
      return cached.bitmap
    }
    const bitmap = this.#match(pattern)
    if (this.#patternCapacity === 0) return bitmap
    if (this.#patterns.size >= this.#patternCapacity) {
      const oldest = this.#patterns.keys().next()
      if (oldest.done !== true) this.#patterns.delete(oldest.value)
    }
    this.#patterns.set(pattern.source, { pattern, bitmap })
    return bitmap
  }

  /** A new set of the ordinals whose path `pattern` (a `PathPattern` or its source) matches. */
  matching(pattern: PathPattern | string): OrdinalSet {
    const compiled = typeof pattern === 'string' ? PathPattern.parse(pattern) : pattern
    return this.patternBitmap(compiled).clone()
  }

  /** Calls `listener` after every change; returns the function that stops it. */
  subscribe(listener: UniverseIndexListener): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  #enter(node: PrefixNode, ordinal: number): void {
    node.count++
    node.subtree?.add(ordinal)
  }

  #subtreeOf(node: PrefixNode): Bitmap {
    if (node.subtree !== undefined) return node.subtree
    const gathered: Gathered = { bitmaps: [], loose: [] }
    pushOwn(node, gathered.loose)
    if (node.children !== undefined)
      for (const child of node.children.values()) this.#gatherSubtree(child, gathered)
    const bitmap = unionOf(gathered.bitmaps, gathered.loose)
    if (node.count >= this.#materialiseAt) node.subtree = bitmap
    return bitmap
  }

  #gatherSubtree(node: PrefixNode, into: Gathered): void {
    if (node.subtree !== undefined || node.count >= this.#materialiseAt) {
      into.bitmaps.push(this.#subtreeOf(node))
      return
    }
    pushOwn(node, into.loose)
    if (node.children !== undefined)
      for (const child of node.children.values()) this.#gatherSubtree(child, into)
  }

  /** Walks the tree along `pattern`: literal segments descend, wildcards fan out, a final `**` takes a subtree. */
  #match(pattern: PathPattern): Bitmap {
    const steps = stepsOf(pattern)
    const gathered: Gathered = { bitmaps: [], loose: [] }
    // A node can be reached along several routes only when two `**` precede the last segment.
    const middleGlobstars = steps.filter((s, i) => s.kind === 'globstar' && i < steps.length - 1).length
    const visited = middleGlobstars > 1 ? new Map<PrefixNode, Set<number>>() : undefined
    const walk = (node: PrefixNode, i: number): void => {
      if (i === steps.length) {
        pushOwn(node, gathered.loose)
        return
      }
      const step = steps[i]!
      if (step.kind === 'globstar') {
        if (i === steps.length - 1) {
          this.#gatherSubtree(node, gathered)
          return
        }
        // `**` before more segments: with two of them, walk each (node, step) once.
        if (visited !== undefined) {
          const seen = visited.get(node) ?? new Set<number>()
          if (seen.has(i)) return
          seen.add(i)
          visited.set(node, seen)
        }
        walk(node, i + 1)
        if (node.children !== undefined) for (const child of node.children.values()) walk(child, i)
        return
      }
      if (node.children === undefined) return
      if (step.kind === 'literal') {
        const child = node.children.get(step.value)
        if (child !== undefined) walk(child, i + 1)
        return
      }
      for (const child of node.children.values()) {
        if (step.kind === 'one' || step.matcher.matchesSegments([child.segment])) walk(child, i + 1)
      }
    }
    walk(this.#root, 0)
    return unionOf(gathered.bitmaps, gathered.loose)
  }
}

/** The walking steps of a pattern, from its (already validated) source. */
function stepsOf(pattern: PathPattern): Step[] {
  const steps: Step[] = []
  for (const segment of pattern.source.slice(1).split('/')) {
    if (segment === '**') {
      if (steps.at(-1)?.kind !== 'globstar') steps.push({ kind: 'globstar' })
    } else if (segment === '*') steps.push({ kind: 'one' })
    else if (segment.includes('*')) steps.push({ kind: 'glob', matcher: PathPattern.parse(`/${segment}`) })
    else steps.push({ kind: 'literal', value: segment })
  }
  return steps
}

function pushOwn(node: PrefixNode, into: number[]): void {
  const own = node.own
  if (own === undefined) return
  if (typeof own === 'number') into.push(own)
  else for (const ordinal of own) into.push(ordinal)
}

function segmentsOf(leaf: PrefixNode): string[] {
  const segments: string[] = []
  for (let node: PrefixNode = leaf; node.parent !== undefined; node = node.parent) segments.push(node.segment)
  return segments.reverse()
}

function sameSegments(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i])
}

function checkOrdinal(ordinal: number): void {
  if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal > MAX_ORDINAL) {
    throw new AuthError('InvalidArgument', `an ordinal is a uint32, not ${ordinal}`)
  }
}
