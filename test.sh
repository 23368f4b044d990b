#!/usr/bin/env bash
# The whole test suite, as CI runs it: setup, then build, typecheck, lint, unit and compliance tests
# with coverage thresholds, fuzz corpus replay, and the end-to-end scenarios. Ends with one line
# "N passed, N failed" counting every test that ran.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
cd "$root"
bash scripts/setup.sh
. scripts/toolchain.sh
find . -path ./node_modules -prune -o -name test-results -type d -prune -exec rm -rf {} + 2>/dev/null || true
status=0
pnpm test || status=$?
node scripts/test-summary.mjs || status=$?
exit "$status"
