import { cpus, loadavg } from 'node:os';

export interface Stats {
  name: string;
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

/** Runs `fn` sequentially: `warmup` unmeasured calls, then `n` timed ones (ms). */
export async function measure(
  name: string,
  n: number,
  fn: () => Promise<unknown>,
  warmup = 50,
): Promise<Stats> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return summarise(name, samples);
}

export interface InterleavedCase {
  name: string;
  fn: () => Promise<unknown>;
}

/**
 * Times several cases in alternation (A, B, C, A, B, C …), so drift in the machine's load hits
 * them alike — on a shared box that matters more than the order cases run in. Warm-up: up to
 * `warmup` unmeasured rounds (capped at a tenth of the budget); then up to `n` rounds, stopping
 * early once `budgetMs` is spent, but never before `minSamples` (Stats.n says how many ran).
 */
export async function measureInterleaved(
  cases: InterleavedCase[],
  n: number,
  options: { warmup?: number; budgetMs?: number; minSamples?: number } = {},
): Promise<Stats[]> {
  const { warmup = 50, budgetMs = Number.POSITIVE_INFINITY, minSamples = 20 } = options;
  const w0 = performance.now();
  for (let i = 0; i < warmup && performance.now() - w0 < budgetMs / 10; i++) {
    for (const c of cases) await c.fn();
  }
  const samples: number[][] = cases.map(() => []);
  const t0 = performance.now();
  for (let i = 0; i < n && (i < minSamples || performance.now() - t0 < budgetMs); i++) {
    for (const [k, c] of cases.entries()) {
      const s = performance.now();
      await c.fn();
      samples[k]?.push(performance.now() - s);
    }
  }
  return cases.map((c, k) => summarise(c.name, samples[k] ?? []));
}

/** p50/p95/p99 and mean of timings (ms); sorts `samples` in place. */
export function summarise(name: string, samples: number[]): Stats {
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return {
    name,
    n: samples.length,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    mean,
  };
}

export interface Comparison {
  case: string;
  subject: Stats;
  baseline: Stats;
  /** subject p50 / baseline p50 */
  ratioP50: number;
  /** subject p95 / baseline p95 */
  ratioP95: number;
  /** Requirement on the subject's p95, when the case has one. */
  target?: { p95Ms: number; met: boolean };
}

export function compare(name: string, subject: Stats, baseline: Stats, targetP95Ms?: number): Comparison {
  return {
    case: name,
    subject,
    baseline,
    ratioP50: subject.p50 / baseline.p50,
    ratioP95: subject.p95 / baseline.p95,
    ...(targetP95Ms === undefined ? {} : { target: { p95Ms: targetP95Ms, met: subject.p95 < targetP95Ms } }),
  };
}

/** One line per case: p50/p95/p99 (ms). */
export function printStats(list: Stats[]): void {
  const f = (x: number) => x.toFixed(3).padStart(9);
  for (const s of list) console.log(`${s.name.padEnd(60)} ${f(s.p50)} ${f(s.p95)} ${f(s.p99)}  n=${s.n}`);
}

export function printTable(
  rows: Comparison[],
  options: { width?: number; showP95?: boolean; showN?: boolean } = {},
): void {
  const { width = 44, showP95 = rows.some((r) => r.target), showN = false } = options;
  const f = (x: number) => x.toFixed(3).padStart(9);
  console.log(
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `${'case'.padEnd(width)} ${'p50 ms'.padStart(9)} ${'p95 ms'.padStart(9)} ${'p99 ms'.padStart(9)}  ratio(p50)${showP95 ? '  ratio(p95)' : ''}${rows.some((r) => r.target) ? '  target' : ''}`,
  );
  for (const r of rows) {
    for (const [label, s] of [
      [r.subject.name, r.subject],
      [`  baseline: ${r.baseline.name}`, r.baseline],
    ] as const) {
      let extra = '';
      if (s === r.subject) {
        extra = `  ${`${r.ratioP50.toFixed(2)}x`.padStart(10)}`;
        if (showP95) extra += `  ${`${r.ratioP95.toFixed(2)}x`.padStart(10)}`;
        if (r.target) extra += `  ${r.target.met ? '✓' : '✗'} p95 < ${r.target.p95Ms} ms`;
      }
      console.log(
        `${label.padEnd(width)} ${f(s.p50)} ${f(s.p95)} ${f(s.p99)}${extra}${showN ? `  n=${s.n}` : ''}`,
      );
    }
  }
}
