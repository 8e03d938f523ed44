import { cpus } from 'node:os';

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
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return {
    name,
    n,
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
}

export function compare(name: string, subject: Stats, baseline: Stats): Comparison {
  return { case: name, subject, baseline, ratioP50: subject.p50 / baseline.p50 };
}

export function printTable(rows: Comparison[]): void {
  const f = (x: number) => x.toFixed(3).padStart(9);
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}`);
  console.log(
    `${'case'.padEnd(44)} ${'p50 ms'.padStart(9)} ${'p95 ms'.padStart(9)} ${'p99 ms'.padStart(9)}  ratio(p50)`,
  );
  for (const r of rows) {
    for (const [label, s] of [
      [r.subject.name, r.subject],
      [`  baseline: ${r.baseline.name}`, r.baseline],
    ] as const) {
      const ratio = s === r.subject ? `  ${r.ratioP50.toFixed(2)}x` : '';
      console.log(`${label.padEnd(44)} ${f(s.p50)} ${f(s.p95)} ${f(s.p99)}${ratio}`);
    }
  }
}
