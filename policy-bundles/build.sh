#!/usr/bin/env bash
# Tests and compiles every policy profile to a wasm bundle.
#   policy-bundles/build.sh               opa test (coverage gate) + opa build -t wasm per profile
#   policy-bundles/build.sh --test-only   opa test only
# Output per profile: build/<profile>.tar.gz and build/<profile>.json {profile, revision, digest}.
# The revision is a hash of the profile's sources, so the same sources give the same revision.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OPA="${OPA_BIN:-$HERE/../.maestro/bin/opa}"
[ -x "$OPA" ] || { echo "policy: opa CLI not found at $OPA; run scripts/services.sh up opa" >&2; exit 1; }
MIN_COVERAGE="${POLICY_MIN_COVERAGE:-90}"
ENTRYPOINT="maestro/authz/decision"
PROFILES=(internal)
mkdir -p "$HERE/build"

for profile in "${PROFILES[@]}"; do
  src="$HERE/$profile"
  if ! "$OPA" test "$src" >/dev/null; then
    "$OPA" test "$src" -v >&2 || true
    echo "policy: opa test failed for profile $profile" >&2
    exit 1
  fi
  cov=$("$OPA" test "$src" --coverage --format=json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).coverage))')
  if ! node -e "process.exit(Number($cov) >= $MIN_COVERAGE ? 0 : 1)"; then
    echo "policy: coverage of profile $profile is ${cov}%, below ${MIN_COVERAGE}%" >&2
    exit 1
  fi
  echo "policy: $profile tests pass (coverage ${cov}%)"
  [ "${1:-}" = "--test-only" ] && continue

  revision=$(cd "$src" && find . -name '*.rego' ! -name '*_test.rego' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  out="$HERE/build/$profile.tar.gz"
  (cd "$src" && "$OPA" build -t wasm -e "$ENTRYPOINT" --revision "$revision" --ignore '*_test.rego' -o "$out.tmp" .)
  mv "$out.tmp" "$out"
  digest=$(sha256sum "$out" | cut -d' ' -f1)
  # The packs a profile carries, from the `# METADATA` annotations of its packages.
  packs=$(cd "$src" && "$OPA" inspect -a --format json . | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const packs = (JSON.parse(s).annotations ?? [])
        .filter((a) => a.annotations?.scope === "package" && a.annotations?.title)
        .map((a) => ({ id: a.path.slice(1).map((p) => p.value).join("."), title: a.annotations.title,
                       summary: (a.annotations.description ?? "").trim() }));
      console.log(JSON.stringify(packs));
    });')
  node -e 'const [profile, revision, digest, entrypoint, packs] = process.argv.slice(1);
    console.log(JSON.stringify({ profile, revision, digest, entrypoint, packs: JSON.parse(packs) }));' \
    "$profile" "$revision" "$digest" "$ENTRYPOINT" "$packs" >"$HERE/build/$profile.json"
  echo "policy: built $profile revision $revision digest ${digest:0:12}"
done
