#!/usr/bin/env bash
# Local services for Maestro Conductor: Redis, PostgreSQL, Neo4j (Bolt) and the opa CLI.
#
#   scripts/services.sh up [svc...]      start what is not running (idempotent)
#   scripts/services.sh down [svc...]    stop what this script started (pid files under .maestro/run)
#   scripts/services.sh status           one line per service
#   scripts/services.sh logs [svc]       tail the logs
#   scripts/services.sh env              print the connection env (also written to .maestro/services.env)
#
# Neo4j memory: MAESTRO_NEO4J_HEAP (default 2g) and MAESTRO_NEO4J_PAGECACHE (default 3g).
#
# Everything listens on 127.0.0.1 only; data and logs live under the git-ignored .maestro/.
# When NEO4J_URI, DATABASE_URL or REDIS_URL are set, that service is external: nothing is started
# for it and its URL is passed through unchanged.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${MAESTRO_STATE_DIR:-$ROOT/.maestro}"
RUN="$STATE/run"
LOGS="$STATE/logs"
BIN="$STATE/bin"
mkdir -p "$RUN" "$LOGS" "$BIN"

REDIS_PORT="${MAESTRO_REDIS_PORT:-6380}"
PG_PORT="${MAESTRO_PG_PORT:-5433}"
NEO4J_BOLT_PORT="${MAESTRO_NEO4J_BOLT_PORT:-7687}"
NEO4J_HTTP_PORT="${MAESTRO_NEO4J_HTTP_PORT:-7474}"
OPA_VERSION="v1.22.2"
PG_BIN="${MAESTRO_PG_BIN:-}"
JAVA="${MAESTRO_JAVA:-java}"
# Neo4j memory: the graph benchmark holds ~1.7M nodes (several GB of store and indexes); a page
# cache that holds the working set keeps reads off the disk. Sized for the 24 GiB dev box.
NEO4J_HEAP="${MAESTRO_NEO4J_HEAP:-2g}"
NEO4J_PAGECACHE="${MAESTRO_NEO4J_PAGECACHE:-3g}"
SERVICES=(redis postgres neo4j opa)

say() { printf '%s\n' "$*"; }
die() { printf '%s\n' "$*" >&2; exit 1; }

# --------------------------------------------------------------------------- helpers

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_of() { [ -f "$RUN/$1.pid" ] && cat "$RUN/$1.pid" 2>/dev/null || true; }

# A pid is alive when it exists and is not a zombie (reparented children that nobody reaped
# still answer kill -0 in containers whose init does not reap).
pid_alive() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo Z)
  [ "$state" != Z ]
}

alive() { pid_alive "$(pid_of "$1")"; }

external() {
  case "$1" in
    redis) [ -n "${REDIS_URL:-}" ] ;;
    postgres) [ -n "${DATABASE_URL:-}" ] ;;
    neo4j) [ -n "${NEO4J_URI:-}" ] ;;
    *) return 1 ;;
  esac
}

# Refuse to start on a port someone else holds: one clear line, non-zero exit.
claim_port() { # svc port
  if port_open "$2"; then
    die "$1: port 127.0.0.1:$2 is already in use by another process (not started by scripts/services.sh); stop it or set MAESTRO_$(echo "$1" | tr 'a-z' 'A-Z')_PORT"
  fi
}

# wait_healthy svc seconds check-command...: polls until the check passes, the process dies, or time runs out.
wait_healthy() {
  local svc=$1 secs=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ! alive "$svc"; then
      tail -n 15 "$LOGS/$svc.log" >&2 2>/dev/null || true
      rm -f "$RUN/$svc.pid"
      die "$svc: process exited during start-up; see $LOGS/$svc.log"
    fi
    if [ $SECONDS -ge $deadline ]; then
      die "$svc: not healthy after ${secs}s; see $LOGS/$svc.log"
    fi
    sleep 0.3
  done
}

need_apt() { # binary package
  command -v "$1" >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || die "$1 is missing: install the Debian package '$2' (sudo apt-get install -y $2)"
  say "installing $2 (apt-get)..."
  if ! (apt-get install -y -qq "$2" >"$LOGS/apt-$2.log" 2>&1 ||
    { apt-get update -qq >>"$LOGS/apt-$2.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >>"$LOGS/apt-$2.log" 2>&1; }); then
    die "$2: apt-get install failed; see $LOGS/apt-$2.log"
  fi
}

# --------------------------------------------------------------------------- redis

redis_up() {
  need_apt redis-server redis-server
  alive redis && return 0
  claim_port redis "$REDIS_PORT"
  mkdir -p "$STATE/redis"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$STATE/redis" --daemonize no \
    --appendonly yes --save "" --protected-mode yes --logfile "" >"$LOGS/redis.log" 2>&1 &
  echo $! >"$RUN/redis.pid"
  wait_healthy redis 20 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping
}

# --------------------------------------------------------------------------- postgres

pg_bin() {
  if [ -z "$PG_BIN" ]; then
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  fi
  if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/postgres" ]; then
    need_apt /usr/lib/postgresql/15/bin/postgres postgresql
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
}

# PostgreSQL refuses to run as root: as root we run it as the 'postgres' system user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else "$@"; fi
}

# As root, the postgres user must be able to reach .maestro/postgres. A checkout under a
# private directory (mode 700, e.g. a CI temp dir) blocks that: grant traverse-only (+x) on the
# blocking ancestors and say so.
pg_traverse() {
  local dir=$1
  setpriv --reuid=postgres --regid=postgres --init-groups -- test -x "$dir" 2>/dev/null && return 0
  local d=$dir
  while [ "$d" != / ]; do
    if ! setpriv --reuid=postgres --regid=postgres --init-groups -- test -x "$d" 2>/dev/null; then
      chmod o+x "$d" && say "postgres: granted traverse (o+x) on $d so the postgres user can reach its data"
    fi
    d=$(dirname "$d")
  done
}

postgres_up() {
  pg_bin
  alive postgres && return 0
  claim_port postgres "$PG_PORT"
  local data="$STATE/postgres/data"
  [ "$(id -u)" = 0 ] && pg_traverse "$STATE"
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$STATE/postgres"
    as_pg "$PG_BIN/initdb" -D "$data" -U maestro --auth=trust -E UTF8 --locale=C.UTF-8 >"$LOGS/postgres-initdb.log" 2>&1 ||
      die "postgres: initdb failed; see $LOGS/postgres-initdb.log"
  fi
  [ "$(id -u)" = 0 ] && { touch "$LOGS/postgres.log"; chown postgres "$LOGS/postgres.log"; }
  # Sized for a 2-core box shared with Neo4j and Node; fsync stays on (the ledger is money).
  as_pg "$PG_BIN/postgres" -D "$data" -h 127.0.0.1 -p "$PG_PORT" -k "$STATE/postgres" \
    -c max_connections=200 -c shared_buffers=256MB -c unix_socket_permissions=0700 \
    >>"$LOGS/postgres.log" 2>&1 &
  echo $! >"$RUN/postgres.pid"
  wait_healthy postgres 30 "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -U maestro
  # The background job's pid is a wrapper; the postmaster writes its own pid.
  head -n 1 "$data/postmaster.pid" >"$RUN/postgres.pid"
  if ! psql -h 127.0.0.1 -p "$PG_PORT" -U maestro -d postgres -tAc "select 1 from pg_database where datname='maestro'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$PG_PORT" -U maestro -d postgres -qc "create database maestro" >/dev/null
  fi
}

# --------------------------------------------------------------------------- neo4j

neo4j_password() {
  local f="$STATE/neo4j/password"
  mkdir -p "$STATE/neo4j"
  if [ ! -s "$f" ]; then
    (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$f")
  fi
  cat "$f"
}

neo4j_up() {
  alive neo4j && return 0
  claim_port neo4j "$NEO4J_BOLT_PORT"
  bash "$ROOT/tools/neo4j/build.sh" >"$LOGS/neo4j-build.log" 2>&1 || {
    cat "$LOGS/neo4j-build.log" >&2
    die "neo4j: launcher build failed; see $LOGS/neo4j-build.log"
  }
  local pw
  pw=$(neo4j_password)
  mkdir -p "$STATE/neo4j/data"
  NEO4J_PASSWORD="$pw" NEO4J_DATA_DIR="$STATE/neo4j/data" \
    NEO4J_BOLT_LISTEN="127.0.0.1:$NEO4J_BOLT_PORT" NEO4J_HTTP_LISTEN="127.0.0.1:$NEO4J_HTTP_PORT" \
    NEO4J_PAGECACHE="$NEO4J_PAGECACHE" \
    "$JAVA" -Xms512m "-Xmx$NEO4J_HEAP" -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError \
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
    -cp "$ROOT/tools/neo4j/target/neo4j-launcher.jar:$ROOT/tools/neo4j/target/lib/*" \
    dev.maestro.neo4j.Launcher >"$LOGS/neo4j.log" 2>&1 &
  echo $! >"$RUN/neo4j.pid"
  wait_healthy neo4j 180 grep -q '^NEO4J_READY' "$LOGS/neo4j.log"
}

# --------------------------------------------------------------------------- opa (build-time CLI)

opa_up() {
  if [ -x "$BIN/opa" ] && "$BIN/opa" version 2>/dev/null | grep -q "Version: ${OPA_VERSION#v}"; then
    return 0
  fi
  command -v go >/dev/null 2>&1 || die "opa: Go is required to build the opa CLI (go install github.com/open-policy-agent/opa@$OPA_VERSION)"
  say "building opa $OPA_VERSION (go install, first time only)..."
  GOBIN="$BIN" GOFLAGS=-mod=mod go install "github.com/open-policy-agent/opa@$OPA_VERSION" >"$LOGS/opa-build.log" 2>&1 || {
    tail -n 5 "$LOGS/opa-build.log" >&2
    die "opa: go install failed (is the Go module proxy reachable?); see $LOGS/opa-build.log"
  }
}

# --------------------------------------------------------------------------- env, status

write_env() {
  local f="$STATE/services.env"
  {
    echo "# written by scripts/services.sh; sourced by npm start / npm test"
    echo "REDIS_URL=${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}"
    echo "DATABASE_URL=${DATABASE_URL:-postgresql://maestro@127.0.0.1:$PG_PORT/maestro}"
    echo "NEO4J_URI=${NEO4J_URI:-bolt://127.0.0.1:$NEO4J_BOLT_PORT}"
    echo "NEO4J_USER=${NEO4J_USER:-neo4j}"
    if [ -n "${NEO4J_URI:-}" ]; then
      echo "NEO4J_PASSWORD=${NEO4J_PASSWORD:-}"
    else
      echo "NEO4J_PASSWORD=$(neo4j_password)"
    fi
    echo "OPA_BIN=$BIN/opa"
  } >"$f.tmp"
  chmod 600 "$f.tmp"
  mv "$f.tmp" "$f"
}

status_line() {
  local svc=$1 where
  case $svc in
    redis) where="127.0.0.1:$REDIS_PORT" ;;
    postgres) where="127.0.0.1:$PG_PORT" ;;
    neo4j) where="bolt://127.0.0.1:$NEO4J_BOLT_PORT" ;;
    opa)
      if [ -x "$BIN/opa" ]; then printf '%-9s %-8s %s\n' opa installed "$BIN/opa ($OPA_VERSION)"; else printf '%-9s %-8s\n' opa missing; fi
      return 0
      ;;
  esac
  if external "$svc"; then
    printf '%-9s %-8s %s\n' "$svc" external "(from environment)"
  elif alive "$svc"; then
    printf '%-9s %-8s %s pid %s\n' "$svc" running "$where" "$(pid_of "$svc")"
  else
    printf '%-9s %-8s %s\n' "$svc" stopped "$where"
  fi
}

down_one() {
  local svc=$1 pid
  [ "$svc" = opa ] && return 0
  pid=$(pid_of "$svc")
  if pid_alive "$pid"; then
    # PostgreSQL's SIGTERM waits for clients to leave; SIGINT is its "fast" shutdown.
    kill "-$([ "$svc" = postgres ] && echo INT || echo TERM)" "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do pid_alive "$pid" || break; sleep 0.2; done
    pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
    say "$svc: stopped"
  fi
  rm -f "$RUN/$svc.pid"
}

cmd=${1:-status}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${SERVICES[@]}")
for t in "${targets[@]}"; do
  case " ${SERVICES[*]} " in *" $t "*) ;; *) die "unknown service '$t' (one of: ${SERVICES[*]})" ;; esac
done

case "$cmd" in
  up)
    # Java is checked first so a missing JDK fails fast, before anything else starts.
    if [[ " ${targets[*]} " == *" neo4j "* ]] && ! external neo4j; then
      command -v "$JAVA" >/dev/null 2>&1 || die "neo4j: Java 17+ is required and '$JAVA' was not found (apt-get install openjdk-17-jdk-headless, or set MAESTRO_JAVA)"
    fi
    for t in "${targets[@]}"; do
      if external "$t"; then continue; fi
      "${t}_up"
    done
    write_env
    for t in "${targets[@]}"; do status_line "$t"; done
    ;;
  down)
    for ((i = ${#targets[@]} - 1; i >= 0; i--)); do down_one "${targets[$i]}"; done
    ;;
  status)
    for t in "${targets[@]}"; do status_line "$t"; done
    ;;
  logs)
    files=()
    for t in "${targets[@]}"; do [ -f "$LOGS/$t.log" ] && files+=("$LOGS/$t.log"); done
    [ ${#files[@]} -gt 0 ] || die "no logs yet under $LOGS"
    tail -n 50 "${files[@]}"
    ;;
  env)
    write_env
    cat "$STATE/services.env"
    ;;
  *)
    die "usage: scripts/services.sh up|down|status|logs|env [${SERVICES[*]}]"
    ;;
esac
