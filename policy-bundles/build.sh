#!/usr/bin/env bash
# Tests and compiles every policy profile to a wasm bundle, then replays the scenarios.
#   policy-bundles/build.sh               per profile: opa check --strict, opa test with the coverage
#                                         gate, opa build -t wasm; then scenarios/*.yaml and the
#                                         annotation examples against both bundles (policy-simulate)
#                                         and the policy catalog check (docs/policy is up to date)
#   policy-bundles/build.sh --test-only   per profile: opa check --strict and opa test only
#
# A profile's bundle is lib/ (shared packages: role table, helpers, PII markers, the baseline
# packs) plus <profile>/ (its maestro/main entrypoint, profile-only packs and data.json).
# Output per profile: build/<profile>.tar.gz and build/<profile>.json
#   {profile, revision, digest, entrypoint, entrypoints, packs: [{id, title, summary}]}.
# The revision is a hash of the sources the bundle is built from (lib and profile policies,
# data.json, entrypoints), so the same sources give the same revision and a change to lib
# changes the revision of every profile.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
OPA="${OPA_BIN:-$ROOT/.maestro/bin/opa}"
[ -x "$OPA" ] || { echo "policy: opa CLI not found at $OPA; run scripts/services.sh up opa" >&2; exit 1; }
MIN_COVERAGE="${POLICY_MIN_COVERAGE:-90}"
# maestro/main/decision is the decision of the policy plane; maestro/authz/decision is the
# legacy role check, kept for callers that have not moved. The legacy one is listed first so a
# loader that evaluates the default entrypoint (index 0) keeps its old {allow, reasons}
# behaviour; loaders that know both select them by name.
ENTRYPOINT="maestro/main/decision"
ENTRYPOINTS=(maestro/authz/decision maestro/main/decision)
PROFILES=(internal hosted-saas)
SDK_CAPABILITIES="$ROOT/node_modules/@open-policy-agent/opa-wasm/capabilities.json"
mkdir -p "$HERE/build"
cd "$HERE"

# The builtins the wasm bundle may call: those OPA supports and the opa-wasm SDK implements
# (natively in the module or in JavaScript). A policy using anything else fails to build here
# rather than at evaluation time.
capabilities="$HERE/build/wasm-capabilities.json"
"$OPA" capabilities --current | node -e '
  const [sdkPath, out] = process.argv.slice(1);
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const current = JSON.parse(s);
    const sdk = new Set(JSON.parse(require("node:fs").readFileSync(sdkPath, "utf8")).builtins.map((b) => b.name));
    current.builtins = current.builtins.filter((b) => sdk.has(b.name));
    require("node:fs").writeFileSync(out, JSON.stringify(current));
  });' "$SDK_CAPABILITIES" "$capabilities"

for profile in "${PROFILES[@]}"; do
  srcs=(lib "$profile")
  "$OPA" check --strict "${srcs[@]}" >&2 || { echo "policy: opa check failed for profile $profile" >&2; exit 1; }
  if ! "$OPA" test "${srcs[@]}" >/dev/null; then
    "$OPA" test "${srcs[@]}" -v >&2 || true
    echo "policy: opa test failed for profile $profile" >&2
    exit 1
  fi
  # Coverage of the bundle's policies (test files excluded), over lib and the profile together.
  read -r cov uncovered < <("$OPA" test "${srcs[@]}" --coverage --format=json | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      let covered = 0, total = 0; const gaps = [];
      for (const [file, f] of Object.entries(JSON.parse(s).files ?? {})) {
        if (file.endsWith("_test.rego")) continue;
        covered += f.covered_lines ?? 0;
        total += (f.covered_lines ?? 0) + (f.not_covered_lines ?? 0);
        if (f.not_covered_lines) gaps.push(`${file}:${f.not_covered_lines}`);
      }
      console.log((total ? (100 * covered) / total : 0).toFixed(1), gaps.join(",") || "-");
    });')
  if ! node -e "process.exit(Number($cov) >= $MIN_COVERAGE ? 0 : 1)"; then
    echo "policy: coverage of profile $profile is ${cov}%, below ${MIN_COVERAGE}% (uncovered lines: $uncovered)" >&2
    exit 1
  fi
  echo "policy: $profile tests pass (coverage ${cov}%)"
  [ "${1:-}" = "--test-only" ] && continue

  revision=$( {
    find "${srcs[@]}" -type f \( -name '*.rego' ! -name '*_test.rego' -o -name 'data.json' \) -print0 |
      sort -z | xargs -0 sha256sum
    echo "${ENTRYPOINTS[*]}"
  } | sha256sum | cut -c1-16)
  out="$HERE/build/$profile.tar.gz"
  entry_flags=()
  for e in "${ENTRYPOINTS[@]}"; do entry_flags+=(-e "$e"); done
  "$OPA" build -t wasm --capabilities "$capabilities" "${entry_flags[@]}" --revision "$revision" \
    --ignore '*_test.rego' -o "$out.tmp" "${srcs[@]}"
  mv "$out.tmp" "$out"
  digest=$(sha256sum "$out" | cut -d' ' -f1)
  # The packs a profile carries, from the `# METADATA` annotations of the packages in its bundle.
  packs=$("$OPA" inspect -a --format json "$out" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const packs = (JSON.parse(s).annotations ?? [])
        .filter((a) => a.annotations?.scope === "package" && a.annotations?.title)
        .map((a) => ({ id: a.path.slice(1).map((p) => p.value).join("."), title: a.annotations.title,
                       summary: (a.annotations.description ?? "").trim() }))
        .sort((a, b) => a.id.localeCompare(b.id));
      console.log(JSON.stringify(packs));
    });')
  node -e 'const [profile, revision, digest, entrypoint, entrypoints, packs] = process.argv.slice(1);
    console.log(JSON.stringify({ profile, revision, digest, entrypoint, entrypoints: entrypoints.split(" "),
      packs: JSON.parse(packs) }));' \
    "$profile" "$revision" "$digest" "$ENTRYPOINT" "${ENTRYPOINTS[*]}" "$packs" >"$HERE/build/$profile.json"
  echo "policy: built $profile revision $revision digest ${digest:0:12}"
done
[ "${1:-}" = "--test-only" ] && exit 0

# Scenarios (scenarios/*.yaml) and the packs' annotation examples, replayed against the
# compiled bundles: a bundle change that flips an outcome fails here until the scenario (or
# example) is updated in the same change. Then the catalog in docs/policy must be current.
TSX="$ROOT/node_modules/.bin/tsx"
"$TSX" "$ROOT/scripts/policy-simulate.ts" --quiet
"$TSX" "$ROOT/scripts/policy-docs.ts" --check
