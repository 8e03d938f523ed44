// Policy decision latency in process: `engine.decide('start_workflow', …)` (canonical JSON +
// digest, wasm evaluate of maestro/main/decision, shape check, id) beside the bare opa-wasm
// evaluate of the same entrypoint on the same bundle, plus decisions/s on one core.
//
//   import { benchPolicy } from './policy.ts';  await benchPolicy(rows);          (bench/run.ts)
//   tsx bench/policy.ts [bundle.tar.gz]                                          (standalone)
//
// Env: BENCH_POLICY_N (samples per case, default 20000), BENCH_POLICY_BUNDLE (bundle path).
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type BundleRef,
  createPolicyEngine,
  MAIN_ENTRYPOINT,
  type PolicyInput,
  readBundle,
} from '@maestro/policy';
import { REPO_ROOT } from '@maestro/testing';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { type Comparison, compare, measure, printTable, type Stats } from './stats.ts';

export interface PolicyBenchOptions {
  /** A bundle with maestro/main/decision. Default: policy-bundles/build/internal.tar.gz. */
  bundlePath?: string;
  profile?: string;
  /** Timed samples per case (default 20,000; at least 10,000). */
  n?: number;
  /** How long each throughput loop runs (default 2,000 ms). */
  throughputMs?: number;
}

export interface PolicyBenchResult {
  bundle: BundleRef;
  n: number;
  decide: Stats;
  bare: Stats;
  /** Sequential decisions per second on one core (one event loop, awaited one by one). */
  decisionsPerSec: number;
  bareEvaluationsPerSec: number;
  /** What the engine adds to the bare evaluate at p50, ms. */
  overheadP50Ms: number;
  /** The first decision, to show what was measured (allow/deny, reasons). */
  sample: { allow: boolean; requiresApproval: boolean; reasons: string[] };
}

/**
 * A start_workflow input in the shape the profiles' Rego reads (policy-bundles/<profile>/maestro/main):
 * a prod run of a medium-risk workflow with room in quota and budget, so every pack evaluates
 * and the answer is an allow that needs one approval.
 */
export function startWorkflowInput(): PolicyInput {
  return {
    actor: {
      sub: 'bench-operator',
      subject: 'bench-operator',
      roles: ['operator', 'composer'],
      tenant: 'tnt_b001',
    },
    tenant: {
      id: 'tnt_b001',
      quota: { maxConcurrent: 25, inUse: 7 },
      budget: { dailyMaxUSD: 500, spentUSD: 212.4, alertThreshold: 0.8 },
      residency: { allowedRegions: ['EU'] },
    },
    request: { environment: 'prod', region: 'EU', resourceClass: 'medium' },
    plan: { estimatedCostUSD: 4.75 },
    subject: {
      id: 'wf_00000000-0000-4000-8000-0000000000a1',
      kind: 'workflow',
      workflow: { name: 'etl-nightly', version: '1.4.0', region: 'EU', environment: 'prod', risk: 'medium' },
      params: { day: '2026-11-21', tables: ['orders', 'customers', 'invoices'], fullRefresh: false },
    },
  };
}

/** Sequential calls of `fn` for about `ms`; calls per second. */
async function throughput(ms: number, fn: () => unknown): Promise<number> {
  for (let i = 0; i < 200; i++) await fn();
  let count = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 100; i++) await fn();
    count += 100;
    elapsed = performance.now() - started;
  }
  return (count / elapsed) * 1000;
}

/**
 * Measures in-process decisions for start_workflow against the bare opa-wasm evaluate of the
 * same entrypoint, pushes one row (`compare`) onto `rows`, and returns the details.
 */
export async function benchPolicy(
  rows: Comparison[],
  options: PolicyBenchOptions = {},
): Promise<PolicyBenchResult> {
  const bundlePath = resolve(
    options.bundlePath ??
      process.env.BENCH_POLICY_BUNDLE ??
      join(REPO_ROOT, 'policy-bundles/build/internal.tar.gz'),
  );
  const n = Math.max(10_000, options.n ?? Number(process.env.BENCH_POLICY_N ?? 20_000));
  const throughputMs = options.throughputMs ?? 2000;
  const input = startWorkflowInput();

  // Generous deadline: a GC pause must not turn a benchmark sample into a denial.
  const engine = await createPolicyEngine({
    bundlePath,
    profile: options.profile ?? 'internal',
    deadlineMs: 1000,
  });
  const sample = await engine.decide('start_workflow', input);
  if (sample.reasons.some((r) => r.startsWith('pdp_unavailable'))) {
    throw new Error(`policy bench: the bundle cannot decide: ${sample.reasons.join('; ')}`);
  }
  const decide = await measure(
    'policy: engine.decide start_workflow (wasm)',
    n,
    () => engine.decide('start_workflow', input),
    500,
  );

  const compiled = await readBundle(bundlePath);
  const raw = await loadPolicy(compiled.wasm);
  raw.setData(compiled.data as object);
  const rawInput = { ...input, action: 'start_workflow' };
  const bare = await measure(
    'bare opa-wasm evaluate maestro/main/decision',
    n,
    async () => raw.evaluate(rawInput, MAIN_ENTRYPOINT),
    500,
  );

  const decisionsPerSec = await throughput(throughputMs, () => engine.decide('start_workflow', input));
  const bareEvaluationsPerSec = await throughput(throughputMs, async () =>
    raw.evaluate(rawInput, MAIN_ENTRYPOINT),
  );
  const stats = engine.stats();
  await engine.close();
  if (stats.pdpUnavailable > 0) {
    throw new Error(`policy bench: ${stats.pdpUnavailable} decisions failed closed during the run`);
  }

  rows.push(compare('policy decide (in process)', decide, bare));
  return {
    bundle: engine.bundle,
    n,
    decide,
    bare,
    decisionsPerSec,
    bareEvaluationsPerSec,
    overheadP50Ms: decide.p50 - bare.p50,
    sample: { allow: sample.allow, requiresApproval: sample.requiresApproval, reasons: sample.reasons },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows: Comparison[] = [];
  const bundlePath = process.argv[2];
  const result = await benchPolicy(rows, bundlePath ? { bundlePath } : {});
  printTable(rows);
  const { bundle, n, decisionsPerSec, bareEvaluationsPerSec, overheadP50Ms, sample } = result;
  console.log(
    `\nbundle ${bundle.profile} revision ${bundle.revision} digest ${bundle.digest.slice(0, 12)}, n=${n}`,
  );
  console.log(
    `decision: allow=${sample.allow} requiresApproval=${sample.requiresApproval} reasons=${JSON.stringify(sample.reasons)}`,
  );
  console.log(
    `decisions/s (one core): ${decisionsPerSec.toFixed(0)}; bare evaluations/s: ${bareEvaluationsPerSec.toFixed(0)}`,
  );
  console.log(`engine overhead at p50: ${(overheadP50Ms * 1000).toFixed(1)} µs`);
}
