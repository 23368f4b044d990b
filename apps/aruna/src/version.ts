/** The version of this build of the node, reported by `/health` and `aruna --version`. */
export const VERSION = '0.1.0'
