#!/usr/bin/env bash
# Serve Switchboard for the Playwright harness (webServer in e2e/playwright.config.ts).
#
#   MAESTRO_SWITCHBOARD_PORT     port to listen on (127.0.0.1); default 3100
#   NEXT_PUBLIC_MAESTRO_API_URL  Maestro API base URL, read by the server at request time
#   MAESTRO_E2E_REBUILD=1        force a fresh `next build`
#
# Runs `next start` on the existing production build (apps/switchboard/.next/BUILD_ID). It runs
# `next build` first when there is no build, or when sources under apps/switchboard (or the root
# package-lock.json) are newer than that build, so tests never run against stale code.
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$E2E_DIR/.." && pwd)"
APP="$ROOT/apps/switchboard"
PORT="${MAESTRO_SWITCHBOARD_PORT:-3100}"
export NEXT_TELEMETRY_DISABLED=1

NEXT="$APP/node_modules/.bin/next"
[[ -x "$NEXT" ]] || NEXT="$ROOT/node_modules/.bin/next"

log() { printf '[serve-switchboard] %s\n' "$*" >&2; }

cd "$APP"

reason=""
if [[ "${MAESTRO_E2E_REBUILD:-0}" == "1" ]]; then
  reason="MAESTRO_E2E_REBUILD=1"
elif [[ ! -f .next/BUILD_ID ]]; then
  reason="no build at apps/switchboard/.next"
else
  newer="$(find app public next.config.ts package.json tsconfig.json "$ROOT/package-lock.json" \
    -newer .next/BUILD_ID -type f -print -quit 2>/dev/null || true)"
  [[ -n "$newer" ]] && reason="${newer#"$ROOT"/} changed since the last build"
fi

if [[ -n "$reason" ]]; then
  log "next build ($reason)"
  start=$SECONDS
  "$NEXT" build >&2
  log "next build done in $((SECONDS - start))s"
fi

log "next start on http://127.0.0.1:$PORT (API: ${NEXT_PUBLIC_MAESTRO_API_URL:-default})"
exec "$NEXT" start --hostname 127.0.0.1 --port "$PORT"
