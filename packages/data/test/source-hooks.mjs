// Imported first by the writer processes the crash tests kill (`*-crash-writer.ts`), which run straight
// from `src/` under `--experimental-transform-types`: the sources import each other as `./x.js`, and in
// such a process those files are `./x.ts`.
import { registerHooks } from 'node:module'

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context)
    } catch (err) {
      if (!specifier.startsWith('.') || !specifier.endsWith('.js')) throw err
      return nextResolve(`${specifier.slice(0, -3)}.ts`, context)
    }
  },
})
