#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine: the pinned toolchain (Node 24, pnpm),
# the dependencies, and the system packages some tests use. Safe to run again; fast when done.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=toolchain.sh
. "$here/toolchain.sh"
cd "$here/.."

# Real S3 clients for the end-to-end client matrix, from Debian's packages.
missing=()
command -v s3cmd >/dev/null || missing+=(s3cmd)
command -v aws >/dev/null || missing+=(awscli)
command -v rclone >/dev/null || missing+=(rclone)
python3 -c 'import boto3' 2>/dev/null || missing+=(python3-boto3)
# jemalloc, which a node runs on when it is installed (apps/aruna/src/server-heap.ts).
jemalloc=(/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/aarch64-linux-gnu/libjemalloc.so.2 /usr/lib64/libjemalloc.so.2 /usr/lib/libjemalloc.so.2)
have_jemalloc=false
for lib in "${jemalloc[@]}"; do [ -e "$lib" ] && have_jemalloc=true; done
$have_jemalloc || missing+=(libjemalloc2)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[setup] installing ${missing[*]} from Debian's packages" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "[setup] missing Debian packages: ${missing[*]} (install them with apt-get as root); without the S3 clients the e2e client matrix fails, without libjemalloc2 a node runs on glibc's allocator" >&2
  fi
fi

if [ "${CI:-}" = "true" ]; then
  pnpm install --frozen-lockfile
else
  pnpm install --prefer-offline
fi

# Jazzer.js's prebuilt fuzzer needs a newer glibc than Debian 12 has; patch it where needed.
if [ -f scripts/patch-jazzer.sh ]; then
  bash scripts/patch-jazzer.sh
fi
