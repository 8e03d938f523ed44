# Shared by scripts/*.sh: repo root, timing and the service environment.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export NPM_CONFIG_UPDATE_NOTIFIER=false NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
export CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1
PATH="$ROOT/node_modules/.bin:$PATH"

step() { # step "label" cmd...
  local label=$1 t0=$SECONDS
  shift
  printf '\n▶ %s\n' "$label"
  if ! "$@"; then
    printf '✖ %s failed (after %ss)\n' "$label" $((SECONDS - t0)) >&2
    exit 1
  fi
  printf '✔ %s (%ss)\n' "$label" $((SECONDS - t0))
}

load_service_env() {
  set -a
  # shellcheck disable=SC1091
  . "$ROOT/.maestro/services.env"
  set +a
}

# Debian packages a step needs (root installs them; others get told what to install).
ensure_apt() { # binary package
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "$1 is missing: sudo apt-get install -y $2" >&2
    return 1
  fi
  echo "installing $2 (apt-get)..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
}
