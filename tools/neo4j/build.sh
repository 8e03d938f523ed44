#!/usr/bin/env bash
# Builds tools/neo4j (Neo4j 5 LTS launcher) with Maven, resolving artifacts from Maven Central.
# Idempotent: does nothing when target/neo4j-launcher.jar and target/lib are newer than pom.xml
# and every file under src/. Exit codes: 0 ok, 1 failure (one "neo4j: ..." line on stderr).
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JAR="$DIR/target/neo4j-launcher.jar"
LIB="$DIR/target/lib"
JAVA="${MAESTRO_JAVA:-java}"

fail() {
  echo "neo4j: $*" >&2
  exit 1
}

# --- Java 17+ (needed to build and to run) -----------------------------------------------
if ! command -v "$JAVA" >/dev/null 2>&1; then
  fail "Java 17+ is required (found: no '$JAVA' on PATH)"
fi
java_version="$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1)"
java_major="${java_version#1.}"   # "1.8" -> "8", "17" -> "17"
java_major="${java_major%%.*}"
if ! [[ "$java_major" =~ ^[0-9]+$ ]] || ((java_major < 17)); then
  found="$("$JAVA" -version 2>&1 | head -n1)"
  fail "Java 17+ is required (found: ${found:-unknown})"
fi

# --- Up to date? ---------------------------------------------------------------------------
if [[ -f "$JAR" && -d "$LIB" ]] && compgen -G "$LIB/*.jar" >/dev/null; then
  newer="$(find "$DIR/pom.xml" "$DIR/src" -type f \( -newer "$JAR" -o -newer "$LIB" \) -print -quit)"
  if [[ -z "$newer" ]]; then
    exit 0
  fi
fi

# --- Build -----------------------------------------------------------------------------------
if ! command -v mvn >/dev/null 2>&1; then
  fail "Apache Maven is required to build tools/neo4j (found: no 'mvn' on PATH)"
fi

log="$(mktemp "${TMPDIR:-/tmp}/neo4j-build.XXXXXX")"
trap 'rm -f "$log"' EXIT

# Stale jars from an older Neo4j version must not linger on the classpath.
rm -rf "$LIB"
if mvn -B -q -f "$DIR/pom.xml" -DskipTests package >"$log" 2>&1; then
  # The jar plugin skips rewriting an unchanged jar; stamp outputs so the check above holds.
  touch "$JAR" "$LIB"
  exit 0
fi

strip_error() { sed -E 's/^(\[ERROR\] *)+//' <<<"$1"; }

# Strip ANSI codes (Debian's Maven 3.8 emits them even with -B) and find the first error line.
clean="$(sed -e 's/\x1b\[[0-9;]*m//g' "$log")"
resolution_re='Could not resolve|Could not transfer|Failed to read artifact descriptor|Non-resolvable|could not be resolved|Unknown host|UnknownHost|Connection refused|Connect to .* failed|timed out|Network is unreachable|No route to host|PKIX path'
line="$(grep -E "$resolution_re" <<<"$clean" | head -n1 || true)"
if [[ -n "$line" ]]; then
  echo "$clean" | tail -n 30 >&2
  fail "could not resolve artifacts from Maven Central: $(strip_error "$line")"
fi
echo "$clean" | tail -n 60 >&2
line="$(grep -m1 -E '\.java:\[' <<<"$clean" || grep -m1 -E 'Failed to execute goal' <<<"$clean" || grep -m1 -E '^\[ERROR\]' <<<"$clean" || true)"
fail "maven build failed: $(strip_error "$line")"
