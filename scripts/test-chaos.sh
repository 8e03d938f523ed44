#!/usr/bin/env bash
# npm run test:chaos: the kill-and-resume ship gate at full size — 100 runs of a 10-step
# fan-out/fan-in workflow, the worker process kill -9'd and restarted 10 times, Redis flushed
# once mid-flight (CHAOS_RUNS / CHAOS_KILLS / CHAOS_TIMEOUT_MS override). `npm test` runs the
# same harness at 20 runs and 3 kills.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
bash scripts/prepare.sh
load_service_env
CHAOS_RUNS="${CHAOS_RUNS:-100}" CHAOS_KILLS="${CHAOS_KILLS:-10}" CHAOS_TIMEOUT_MS="${CHAOS_TIMEOUT_MS:-300000}" \
  step "chaos (kill -9 + FLUSHALL)" vitest run --project @maestro/worker test/chaos.test.ts
