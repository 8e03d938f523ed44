#!/usr/bin/env bash
# npm run bench: benchmarks against the real services (not timed tests). Results print as a
# table (p50/p95/p99 beside a baseline) and are written under bench/results/ (git-ignored).
#
#   npm run bench                          skeleton + graph at scale (loads 100k runs once, ~1.7M nodes)
#   npm run bench -- --reload              delete the bench tenants' graph data and load it again
#   BENCH_SUITE=graph-scale npm run bench  one suite (skeleton | graph-scale | all)
#   BENCH_SCALE=small npm run bench        5,000 runs instead of 100,000 (BENCH_RUNS=n for any size)
#   BENCH_SCALE_N=300 BENCH_CASE_BUDGET_S=120   samples per graph-scale case / seconds per case group
#   BENCH_PLANS=verbose                    print the PROFILE operator trees
#   tsx bench/load-graph.ts [--reload|--drop]   load (or remove) the data set without benchmarking
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
bash scripts/prepare.sh >/dev/null
load_service_env
tsx bench/run.ts "$@"
