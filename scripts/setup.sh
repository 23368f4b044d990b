#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine: the pinned toolchain (Node 24, pnpm),
# the dependencies, and the system packages some tests use. Safe to run again; fast when done.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=toolchain.sh
. "$here/toolchain.sh"
cd "$here/.."

if [ "${CI:-}" = "true" ]; then
  pnpm install --frozen-lockfile
else
  pnpm install --prefer-offline
fi

# Jazzer.js's prebuilt fuzzer needs a newer glibc than Debian 12 has; patch it where needed.
if [ -f scripts/patch-jazzer.sh ]; then
  bash scripts/patch-jazzer.sh
fi
