#!/usr/bin/env bash
# npm test: typecheck, lint, unit + integration (real Neo4j, Postgres, Redis, compiled policy)
# and e2e (Playwright in Debian Chromium). Installs and starts what it needs.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
T0=$SECONDS

bash scripts/prepare.sh
load_service_env
step "typecheck" turbo run typecheck --output-logs=errors-only
step "typecheck (scripts)" tsc -p scripts/tsconfig.json
step "lint" biome check --diagnostic-level=error .
step "unit + integration (vitest)" vitest run
step "chromium (Debian)" ensure_apt chromium chromium
step "e2e (playwright)" npm run --silent test -w @maestro/e2e
printf '\nnpm test: all green in %ss\n' $((SECONDS - T0))
