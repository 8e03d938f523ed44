#!/usr/bin/env bash
# npm run bench: benchmarks against the real services (not timed tests). Results print as a
# table (p50/p95/p99 beside a baseline) and are written under bench/results/ (git-ignored).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
bash scripts/prepare.sh >/dev/null
load_service_env
tsx bench/run.ts
