#!/usr/bin/env bash
# Brings a checkout to a runnable state; idempotent and fast when nothing changed:
# dependencies, services, Prisma client, migrations, graph constraints, policy bundles.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

install_deps() {
  # Install when node_modules is missing or older than the lockfile. `npm install` rather than
  # `npm ci`: the lockfile is written without registry URLs (omit-lockfile-registry-resolved),
  # and npm 11 then leaves other platforms' optional binaries (biome, turbo) out of it, which
  # `npm ci` rejects as out of sync. `npm install` honours the lockfile as it is.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm install --no-audit --no-fund
  else
    echo "dependencies up to date"
  fi
}

step "dependencies" install_deps
step "services" bash scripts/services.sh up
load_service_env
step "prisma client" npm run --silent generate -w @maestro/db
step "postgres migrations" tsx packages/db/src/migrate-cli.ts
step "neo4j constraints" tsx packages/graph/src/constraints-cli.ts
step "policy bundles" bash policy-bundles/build.sh
