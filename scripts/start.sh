#!/usr/bin/env bash
# npm start: everything a developer needs, from a fresh clone, in one command.
# Services keep running after Ctrl-C (stop them with `npm run services down`); the apps stop.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
T0=$SECONDS

bash scripts/prepare.sh
load_service_env

# A per-checkout dev signing secret: generated once, never committed, never printed.
SECRET_FILE="$ROOT/.maestro/jwt-secret"
[ -s "$SECRET_FILE" ] || (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '/+=\n' >"$SECRET_FILE")
export MAESTRO_JWT_SECRET="$(cat "$SECRET_FILE")" MAESTRO_DEV_AUTH=1
export MAESTRO_API_PORT="${MAESTRO_API_PORT:-4000}" MAESTRO_SWITCHBOARD_PORT="${MAESTRO_SWITCHBOARD_PORT:-3000}"
export MAESTRO_API_URL="http://127.0.0.1:$MAESTRO_API_PORT"
export MAESTRO_CORS_ORIGINS="http://127.0.0.1:$MAESTRO_SWITCHBOARD_PORT,http://localhost:$MAESTRO_SWITCHBOARD_PORT"

step "demo tenant, users and workflows" tsx scripts/seed-demo.ts
step "switchboard build (cached by turbo)" turbo run build --filter=@maestro/switchboard --output-logs=errors-only

LOGS="$ROOT/.maestro/logs"
PIDS=()
# Each app runs in its own process group (setsid), so stopping it stops npm, tsx/next and
# everything they spawned.
stop_apps() {
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'echo; echo "stopping api, worker and switchboard (services keep running: npm run services down)"; stop_apps; exit 0' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$MAESTRO_API_PORT" "$MAESTRO_SWITCHBOARD_PORT"; do
  port_free "$p" || { echo "port 127.0.0.1:$p is already in use (another npm start?); stop it or set MAESTRO_API_PORT / MAESTRO_SWITCHBOARD_PORT" >&2; exit 1; }
done

launch() { # name cmd...
  local name=$1
  shift
  setsid "$@" >"$LOGS/$name.log" 2>&1 &
  PIDS+=($!)
}
launch api npm run --silent start -w @maestro/api
# The dev worker reconciles the seeded tenants only, so leftovers of test runs in the same graph
# are not picked up; set MAESTRO_WORKER_TENANTS= (empty) to serve every tenant.
export MAESTRO_WORKER_TENANTS="${MAESTRO_WORKER_TENANTS-$(cat "$ROOT/.maestro/seeded-tenant-ids" 2>/dev/null)}"
export MAESTRO_WORKER_ID="${MAESTRO_WORKER_ID:-dev-worker-$(hostname)}"
launch worker npm run --silent start -w @maestro/worker
launch switchboard npm run --silent start -w @maestro/switchboard

wait_http() { # name url seconds
  local deadline=$((SECONDS + $3))
  until curl -fsS -o /dev/null "$2" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      tail -n 20 "$LOGS/$1.log" >&2
      echo "$1: not ready after $3s at $2; see $LOGS/$1.log" >&2
      stop_apps
      exit 1
    fi
    sleep 0.5
  done
}
wait_http api "$MAESTRO_API_URL/healthz" 60
wait_http switchboard "http://127.0.0.1:$MAESTRO_SWITCHBOARD_PORT/" 60
grep -q 'worker ready' "$LOGS/worker.log" 2>/dev/null || sleep 2

cat <<MSG

Maestro Conductor is ready ($((SECONDS - T0))s)
  Switchboard   http://127.0.0.1:$MAESTRO_SWITCHBOARD_PORT
  GraphQL API   $MAESTRO_API_URL/graphql
  Health        $MAESTRO_API_URL/healthz
  Logs          .maestro/logs/{api,worker,switchboard}.log

Sign in (development): demo tenant "$(cat "$ROOT/.maestro/demo-tenant-name" 2>/dev/null || echo demo)", users
  $(cat "$ROOT/.maestro/demo-users" 2>/dev/null || true)
  token:  curl -s -XPOST $MAESTRO_API_URL/dev/token -H 'content-type: application/json' \\
            -d '{"subject":"ada","tenantId":"$(cat "$ROOT/.maestro/demo-tenant-id" 2>/dev/null)"}'
  query:  curl -s $MAESTRO_API_URL/graphql -H "authorization: Bearer \$TOKEN" \\
            -H 'x-maestro-environment: dev' -H 'x-maestro-region: EU' -H 'content-type: application/json' \\
            -d '{"query":"{ whoami { subject roles tenant { name } } }"}'
Ctrl-C stops the apps; services keep running (npm run services status | down).
MSG
wait
