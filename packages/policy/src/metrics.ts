import type { DecisionResult } from './decision.ts';

/** Upper bounds (ms) of the latency histogram's buckets; a last, unbounded bucket follows. */
export const LATENCY_BUCKETS_MS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000,
] as const;

export interface LatencySummary {
  count: number;
  meanMs: number;
  maxMs: number;
  /** Percentiles estimated from the histogram (linear within a bucket). */
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Per-bucket counts (not cumulative); the last bucket's `leMs` is Infinity. */
  buckets: Array<{ leMs: number; count: number }>;
}

export interface PolicyEngineStats {
  /** Every `decide` call: decisions = allows + denies. */
  decisions: number;
  allows: number;
  /** Includes the pdpUnavailable denials. */
  denies: number;
  /** Fail-closed denials: evaluation error, malformed result, deadline, oversized input, PDP down. */
  pdpUnavailable: number;
  /** Successful bundle swaps (not the initial load). */
  reloads: number;
  reloadFailures: number;
  /** `can`/`evaluate` (scope-auth) calls that failed closed. */
  authzErrors: number;
  /** Latency of `decide`, end to end. */
  latency: LatencySummary;
}

/** Counters and a fixed-bucket latency histogram; O(1) per decision. */
export class EngineMetrics {
  private decisions = 0;
  private allows = 0;
  private pdpUnavailable = 0;
  reloads = 0;
  reloadFailures = 0;
  authzErrors = 0;
  private readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  private sumMs = 0;
  private maxMs = 0;

  record(result: DecisionResult, unavailable: boolean, latencyMs: number): void {
    this.decisions++;
    if (result.allow) this.allows++;
    if (unavailable) this.pdpUnavailable++;
    this.sumMs += latencyMs;
    if (latencyMs > this.maxMs) this.maxMs = latencyMs;
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && latencyMs > (LATENCY_BUCKETS_MS[i] ?? 0)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
  }

  snapshot(): PolicyEngineStats {
    return {
      decisions: this.decisions,
      allows: this.allows,
      denies: this.decisions - this.allows,
      pdpUnavailable: this.pdpUnavailable,
      reloads: this.reloads,
      reloadFailures: this.reloadFailures,
      authzErrors: this.authzErrors,
      latency: {
        count: this.decisions,
        meanMs: this.decisions ? this.sumMs / this.decisions : 0,
        maxMs: this.maxMs,
        p50Ms: this.percentile(50),
        p95Ms: this.percentile(95),
        p99Ms: this.percentile(99),
        buckets: this.counts.map((count, i) => ({
          leMs: LATENCY_BUCKETS_MS[i] ?? Number.POSITIVE_INFINITY,
          count,
        })),
      },
    };
  }

  private percentile(p: number): number {
    if (this.decisions === 0) return 0;
    const rank = (p / 100) * this.decisions;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const count = this.counts[i] ?? 0;
      if (count > 0 && seen + count >= rank) {
        const lower = i === 0 ? 0 : (LATENCY_BUCKETS_MS[i - 1] ?? 0);
        const upper = Math.min(LATENCY_BUCKETS_MS[i] ?? this.maxMs, this.maxMs);
        return lower + (upper - lower) * Math.max(0, (rank - seen) / count);
      }
      seen += count;
    }
    return this.maxMs;
  }
}
