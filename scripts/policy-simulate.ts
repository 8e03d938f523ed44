// Policy simulation harness: replays decisions against the compiled policy bundles.
//
//   npm run policy:simulate                 every scenario (policy-bundles/scenarios/*.yaml) and every
//                                           pack annotation example against both profiles' bundles;
//                                           prints scenario x profile (expected / actual, ✓ / ✗) and
//                                           exits 1 on any mismatch
//   npm run policy:simulate -- --quiet      the same, printing only mismatches and the summary
//   npm run policy:simulate -- --replay-graph [--profile P] [--as P] [--limit N] [--show N]
//                                           [--entrypoint E] [--fail-on-change]
//       reads stored PolicyDecision nodes (their canonical JSON `input`) from Neo4j
//       (NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD) and reports which would change under the
//       candidate bundle (allow flipped, reasons or approval changed), with counts
//   npm run policy:simulate -- --replay-file decisions.ndjson [...same options]
//       the same from exported decisions, one JSON object per line ({id, action, allow,
//       reasons, requiresApproval, bundleProfile, input})
//   --bundles DIR   compiled bundles to use (default policy-bundles/build)
//
// The scenarios are the regression contract of the bundles: a bundle change that flips an
// outcome fails `policy-bundles/build.sh` (and so `npm test`) until the scenario file is
// updated in the same change. Each baseline pack must have at least one allowed and one denied
// scenario per profile that carries it.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parse } from 'yaml';
import {
  BUNDLES,
  bundlePath,
  contractProblems,
  type Decision,
  describeExpectation,
  type Expectation,
  isProfile,
  LEGACY_ENTRYPOINT,
  type LoadedBundle,
  loadBundle,
  loadPacks,
  MAIN_ENTRYPOINT,
  mismatches,
  type Pack,
  PROFILES,
  type Profile,
  summarize,
} from './policy-common.ts';

const SCENARIOS = join(BUNDLES, 'scenarios');

interface Options {
  quiet: boolean;
  bundles: string;
  replayGraph: boolean;
  replayFile: string | null;
  profile: string | null;
  as: string | null;
  entrypoint: string;
  limit: number;
  show: number;
  failOnChange: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    quiet: false,
    bundles: join(BUNDLES, 'build'),
    replayGraph: false,
    replayFile: null,
    profile: null,
    as: null,
    entrypoint: MAIN_ENTRYPOINT,
    limit: 10_000,
    show: 20,
    failOnChange: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quiet') o.quiet = true;
    else if (arg === '--bundles') o.bundles = value();
    else if (arg === '--replay-graph') o.replayGraph = true;
    else if (arg === '--replay-file') o.replayFile = value();
    else if (arg === '--profile') o.profile = value();
    else if (arg === '--as') o.as = value();
    else if (arg === '--entrypoint') o.entrypoint = value();
    else if (arg === '--limit') o.limit = Number(value());
    else if (arg === '--show') o.show = Number(value());
    else if (arg === '--fail-on-change') o.failOnChange = true;
    else throw new Error(`unknown option ${arg} (see the header of scripts/policy-simulate.ts)`);
  }
  for (const p of [o.profile, o.as]) if (p !== null && !isProfile(p)) throw new Error(`unknown profile ${p}`);
  if (!Number.isInteger(o.limit) || o.limit < 1) throw new Error('--limit must be a positive integer');
  return o;
}

async function loadBundles(dir: string): Promise<Map<Profile, LoadedBundle>> {
  const bundles = new Map<Profile, LoadedBundle>();
  for (const profile of PROFILES) bundles.set(profile, await loadBundle(bundlePath(profile, dir), profile));
  return bundles;
}

// ---------------------------------------------------------------------------------------------
// Scenario files
// ---------------------------------------------------------------------------------------------

interface Scenario {
  name: string;
  input?: unknown;
  entrypoint?: string;
  expect: Record<string, Expectation> | Expectation;
}

interface ScenarioFile {
  pack?: string;
  description?: string;
  defaults?: { input?: unknown };
  scenarios?: Scenario[];
}

/** One check: an input, an entrypoint, and what each profile should decide. */
interface Case {
  source: string;
  name: string;
  pack: string | null;
  input: unknown;
  entrypoint: string;
  expect: Map<Profile, Expectation>;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Deep merge: objects merge key by key, anything else replaces; a null in `over` deletes the key. */
function merge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isRecord(base) || !isRecord(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out;
}

function expectation(raw: unknown, where: string): Expectation {
  if (!isRecord(raw) || typeof raw.allow !== 'boolean')
    throw new Error(`${where}: expect needs allow: true|false`);
  return raw as unknown as Expectation;
}

function loadScenarios(): { cases: Case[]; problems: string[] } {
  const cases: Case[] = [];
  const problems: string[] = [];
  const files = readdirSync(SCENARIOS)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  for (const f of files) {
    const source = basename(f).replace(/\.ya?ml$/, '');
    const doc = parse(readFileSync(join(SCENARIOS, f), 'utf8')) as ScenarioFile;
    const names = new Set<string>();
    for (const s of doc.scenarios ?? []) {
      const where = `scenarios/${f} "${s.name}"`;
      try {
        if (!s.name) throw new Error(`scenarios/${f}: a scenario has no name`);
        if (names.has(s.name)) throw new Error(`${where}: duplicate name`);
        names.add(s.name);
        const expect = new Map<Profile, Expectation>();
        if (isRecord(s.expect) && 'allow' in s.expect) {
          for (const p of PROFILES) expect.set(p, expectation(s.expect, where));
        } else if (isRecord(s.expect)) {
          for (const [p, e] of Object.entries(s.expect)) {
            if (!isProfile(p)) throw new Error(`${where}: unknown profile ${p}`);
            expect.set(p, expectation(e, `${where} (${p})`));
          }
          const missing = PROFILES.filter((p) => !expect.has(p));
          if (missing.length > 0) throw new Error(`${where}: no expectation for ${missing.join(', ')}`);
        } else throw new Error(`${where}: no expect`);
        cases.push({
          source,
          name: s.name,
          pack: doc.pack ?? null,
          input: merge(doc.defaults?.input ?? {}, s.input ?? {}),
          entrypoint: s.entrypoint ?? MAIN_ENTRYPOINT,
          expect,
        });
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    if ((doc.scenarios ?? []).length === 0) problems.push(`scenarios/${f}: no scenarios`);
  }
  return { cases, problems };
}

/** The annotation examples of every pack, each checked in the profiles that carry the pack. */
function exampleCases(packs: Pack[]): { cases: Case[]; problems: string[] } {
  const cases: Case[] = [];
  const problems: string[] = [];
  for (const pack of packs) {
    if (pack.examples.length === 0) problems.push(`${pack.file}: pack ${pack.id} has no custom.examples`);
    pack.examples.forEach((ex, i) => {
      const where = `${pack.file} example ${i + 1}`;
      if ((ex.allow === true) === (ex.deny === true)) {
        problems.push(`${where}: give exactly one of allow: true or deny: true`);
        return;
      }
      if (ex.deny && !ex.reason_code) problems.push(`${where}: a deny example needs its reason_code`);
      const e: Expectation = { allow: ex.allow === true };
      if (ex.reason_code !== undefined) e.reason_code = ex.reason_code;
      if (ex.requires_approval !== undefined) e.requires_approval = ex.requires_approval;
      if (ex.approval_count !== undefined) e.approval_count = ex.approval_count;
      if (ex.warning_code !== undefined) e.warning_code = ex.warning_code;
      const profiles = pack.profiles.filter((p) => !ex.profiles || ex.profiles.includes(p));
      cases.push({
        source: `@${pack.slug}`,
        name: ex.name ?? `example ${i + 1}`,
        pack: pack.id,
        input: ex.input,
        entrypoint: MAIN_ENTRYPOINT,
        expect: new Map(profiles.map((p) => [p, e])),
      });
    });
  }
  return { cases, problems };
}

/**
 * Each pack needs, in every profile that carries it, a scenario it lets through (allowed without
 * approval) and one it stops (denied, or for the risk pack, held for approval).
 */
function packCoverage(packs: Pack[], cases: Case[]): string[] {
  const problems: string[] = [];
  const ids = new Set(packs.map((p) => p.id));
  for (const c of cases)
    if (c.pack && !c.source.startsWith('@') && !ids.has(c.pack))
      problems.push(`scenarios/${c.source}.yaml: pack ${c.pack} does not exist`);
  for (const pack of packs) {
    const own = cases.filter((c) => c.pack === pack.id && !c.source.startsWith('@'));
    for (const profile of pack.profiles) {
      const outcomes = new Set(
        own.map((c) => {
          const e = c.expect.get(profile);
          if (!e) return 'none';
          return e.allow && !e.requires_approval && !e.approval_count ? 'pass' : 'stop';
        }),
      );
      if (!outcomes.has('pass') || !outcomes.has('stop'))
        problems.push(
          `pack ${pack.id} needs a scenario it allows and one it denies (or holds for approval) for ${profile} in scenarios/*.yaml`,
        );
    }
  }
  return problems;
}

interface Outcome {
  ok: boolean;
  cell: string;
  details: string[];
}

function check(bundle: LoadedBundle, c: Case, e: Expectation): Outcome {
  let result: unknown;
  try {
    result = bundle.evaluate(c.input, c.entrypoint);
  } catch (error) {
    return { ok: false, cell: '✗ error', details: [(error as Error).message] };
  }
  if (c.entrypoint === LEGACY_ENTRYPOINT) {
    const d = result as { allow?: unknown; reasons?: unknown } | undefined;
    if (typeof d?.allow !== 'boolean' || !Array.isArray(d.reasons))
      return { ok: false, cell: '✗ not {allow, reasons}', details: [JSON.stringify(result)] };
    const ok = d.allow === e.allow;
    const got = d.allow ? 'allow' : 'deny';
    return {
      ok,
      cell: ok ? `✓ ${got}` : `✗ ${describeExpectation(e)} ≠ ${got}`,
      details: ok ? [] : [`expected ${e.allow ? 'allow' : 'deny'}, got ${got}: ${JSON.stringify(d.reasons)}`],
    };
  }
  const problems = contractProblems(result);
  if (problems.length > 0) return { ok: false, cell: '✗ contract', details: problems };
  const d = result as Decision;
  const wrong = mismatches(d, e);
  if (wrong.length === 0) return { ok: true, cell: `✓ ${describeExpectation(e)}`, details: [] };
  const got = summarize(d);
  return {
    ok: false,
    cell: `✗ ${describeExpectation(e)} ≠ ${got}`,
    details: [...wrong, ...d.reasons.map((r) => `reason: ${r}`), ...d.warnings.map((w) => `warning: ${w}`)],
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length))) ?? [];
  const line = (r: string[]) =>
    r
      .map((cell, i) => cell + ' '.repeat((widths[i] ?? 0) - [...cell].length))
      .join('  ')
      .trimEnd();
  return [line(rows[0] ?? []), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join(
    '\n',
  );
}

async function simulate(o: Options): Promise<number> {
  const bundles = await loadBundles(o.bundles);
  const packs = loadPacks();
  const scenarios = loadScenarios();
  const examples = exampleCases(packs);
  const cases = [...scenarios.cases, ...examples.cases];
  const problems = [...scenarios.problems, ...examples.problems, ...packCoverage(packs, scenarios.cases)];

  const rows: string[][] = [['scenario', ...PROFILES]];
  const failures: string[] = [];
  let checks = 0;
  for (const c of cases) {
    const row = [`${c.source} › ${c.name}`];
    let failed = false;
    for (const profile of PROFILES) {
      const e = c.expect.get(profile);
      const bundle = bundles.get(profile);
      if (!e || !bundle) {
        row.push('–');
        continue;
      }
      checks++;
      const outcome = check(bundle, c, e);
      row.push(outcome.cell);
      if (!outcome.ok) {
        failed = true;
        failures.push(`✗ ${c.source} › ${c.name} [${profile}]\n    ${outcome.details.join('\n    ')}`);
      }
    }
    if (!o.quiet || failed) rows.push(row);
  }

  if (rows.length > 1) console.log(table(rows));
  for (const f of failures) console.log(f);
  for (const p of problems) console.log(`✗ ${p}`);
  const revisions = PROFILES.map((p) => `${p} ${bundles.get(p)?.revision ?? '?'}`).join(', ');
  const summary =
    `policy-simulate: ${scenarios.cases.length} scenarios and ${examples.cases.length} annotation examples, ` +
    `${checks} checks against ${revisions}: ${checks - failures.length} ✓, ${failures.length} ✗` +
    (problems.length > 0 ? `, ${problems.length} problem(s)` : '');
  console.log(summary);
  if (failures.length > 0)
    console.log(
      "A scenario flipped: if the new outcome is intended, update policy-bundles/scenarios/*.yaml (or the pack's example) in the same change.",
    );
  return failures.length > 0 || problems.length > 0 ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Replay of stored decisions
// ---------------------------------------------------------------------------------------------

interface StoredDecision {
  id: string;
  action: string;
  allow: boolean;
  reasons: string[];
  requiresApproval: boolean | null;
  bundleProfile: string;
  bundleRevision?: string | null;
  input: string;
}

async function storedFromGraph(o: Options): Promise<StoredDecision[]> {
  const { NEO4J_URI: uri, NEO4J_USER: user, NEO4J_PASSWORD: password } = process.env;
  if (!uri || !user || !password)
    throw new Error('--replay-graph needs NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD in the environment');
  const { createGraph } = await import('@maestro/graph');
  const graph = createGraph({ uri, user, password, maxConnectionPoolSize: 2 });
  try {
    return await graph.read(async (tx) => {
      const result = await tx.run(
        `MATCH (d:PolicyDecision)
         WHERE d.input IS NOT NULL AND ($profile IS NULL OR d.bundleProfile = $profile)
         RETURN d.id AS id, d.action AS action, d.allow AS allow, d.reasons AS reasons,
                d.requiresApproval AS requiresApproval, d.bundleProfile AS bundleProfile,
                d.bundleRevision AS bundleRevision, d.input AS input
         ORDER BY d.evaluatedAt DESC, d.id DESC
         LIMIT toInteger($limit)`,
        { profile: o.profile, limit: o.limit },
      );
      return result.records.map((r) => r.toObject() as unknown as StoredDecision);
    });
  } finally {
    await graph.close();
  }
}

function storedFromFile(path: string, o: Options): StoredDecision[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as StoredDecision)
    .map((d) => ({ ...d, input: typeof d.input === 'string' ? d.input : JSON.stringify(d.input) }))
    .filter((d) => o.profile === null || d.bundleProfile === o.profile)
    .slice(0, o.limit);
}

type Change = 'allow→deny' | 'deny→allow' | 'reasons' | 'approval' | 'unchanged' | 'unreplayable';

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

async function replay(o: Options): Promise<number> {
  const bundles = await loadBundles(o.bundles);
  const stored = o.replayFile ? storedFromFile(o.replayFile, o) : await storedFromGraph(o);
  const counts = new Map<Change, number>();
  const byAction = new Map<string, { total: number; changed: number }>();
  const shown: string[][] = [['decision', 'action', 'profile', 'stored', 'candidate', 'change']];
  for (const d of stored) {
    const target = o.as ?? d.bundleProfile;
    const bundle = isProfile(target) ? bundles.get(target) : undefined;
    let change: Change;
    let candidate = '';
    if (!bundle) {
      change = 'unreplayable';
      candidate = `no bundle for profile ${target}`;
    } else {
      try {
        const result = bundle.evaluate(JSON.parse(d.input), o.entrypoint) as Partial<Decision> | undefined;
        if (typeof result?.allow !== 'boolean' || !Array.isArray(result.reasons))
          throw new Error('no decision document');
        const approval = result.requires_approval ?? null;
        if (result.allow !== d.allow) change = d.allow ? 'allow→deny' : 'deny→allow';
        else if (!sameList(result.reasons, d.reasons ?? [])) change = 'reasons';
        else if (d.requiresApproval !== null && approval !== null && approval !== d.requiresApproval)
          change = 'approval';
        else change = 'unchanged';
        candidate = result.allow ? 'allow' : `deny: ${result.reasons.join('; ')}`;
        if (result.requires_approval) candidate += ` (${result.approval?.count ?? '?'} approvals)`;
      } catch (error) {
        change = 'unreplayable';
        candidate = (error as Error).message;
      }
    }
    counts.set(change, (counts.get(change) ?? 0) + 1);
    const a = byAction.get(d.action) ?? { total: 0, changed: 0 };
    a.total++;
    if (change !== 'unchanged') a.changed++;
    byAction.set(d.action, a);
    if (change !== 'unchanged' && shown.length <= o.show) {
      const was = d.allow ? 'allow' : `deny: ${(d.reasons ?? []).join('; ')}`;
      const profile = target === d.bundleProfile ? target : `${d.bundleProfile}→${target}`;
      shown.push([d.id, d.action, profile, clip(was), clip(candidate), change]);
    }
  }
  const changed = stored.length - (counts.get('unchanged') ?? 0);
  const revisions = PROFILES.map((p) => `${p} ${bundles.get(p)?.revision ?? '?'}`).join(', ');
  console.log(
    `policy-simulate: replayed ${stored.length} stored decision(s) against ${o.entrypoint} of ${revisions}` +
      (o.as ? ` (all as ${o.as})` : ''),
  );
  const order: Change[] = ['unchanged', 'allow→deny', 'deny→allow', 'reasons', 'approval', 'unreplayable'];
  console.log(table([['outcome', 'count'], ...order.map((c) => [c, String(counts.get(c) ?? 0)])]));
  if (byAction.size > 0) {
    console.log('');
    console.log(
      table([
        ['action', 'decisions', 'would change'],
        ...[...byAction.entries()]
          .sort(([x], [y]) => x.localeCompare(y))
          .map(([action, a]) => [action, String(a.total), String(a.changed)]),
      ]),
    );
  }
  if (shown.length > 1) {
    console.log(`\nfirst ${shown.length - 1} of ${changed} change(s):`);
    console.log(table(shown));
  }
  return o.failOnChange && changed > 0 ? 1 : 0;
}

function clip(s: string, max = 80): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  if (o.replayGraph || o.replayFile) return replay(o);
  return simulate(o);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`policy-simulate: ${(error as Error).message}`);
    if ((error as { code?: string }).code === 'ENOENT')
      console.error(`build the bundles first: bash ${relative(process.cwd(), join(BUNDLES, 'build.sh'))}`);
    process.exitCode = 1;
  },
);
