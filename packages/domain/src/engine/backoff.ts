import type { RetryPolicy } from '../manifest/types.ts';

/** Defaults of a step's `retry` block (shared/contract/workflow-dsl.md). */
export const RETRY_DEFAULTS = {
  max_attempts: 1,
  backoff: 'exponential',
  initial_ms: 200,
  max_ms: 10_000,
  jitter: true,
} as const satisfies Required<RetryPolicy>;

export function retryPolicy(policy: RetryPolicy | undefined): Required<RetryPolicy> {
  return { ...RETRY_DEFAULTS, ...(policy ?? {}) };
}

/**
 * The ceiling of the wait before attempt `nextAttempt` (2 for the first retry): initial_ms
 * doubled per earlier retry (or constant for `fixed`), capped at max_ms.
 */
export function backoffCeilingMs(policy: RetryPolicy | undefined, nextAttempt: number): number {
  const p = retryPolicy(policy);
  const retries = Math.max(0, nextAttempt - 2);
  const raw = p.backoff === 'fixed' ? p.initial_ms : p.initial_ms * 2 ** Math.min(retries, 40);
  return Math.min(p.max_ms, raw);
}

/**
 * The wait before attempt `nextAttempt`: the ceiling, or with `jitter` a uniformly random
 * share of it ("full jitter", AWS architecture blog), so retries of many tasks spread out.
 * A `retryAfterMs` the upstream asked for is honoured when longer (capped at max_ms).
 */
export function retryDelayMs(
  policy: RetryPolicy | undefined,
  nextAttempt: number,
  options: { random?: () => number; retryAfterMs?: number } = {},
): number {
  const p = retryPolicy(policy);
  const ceiling = backoffCeilingMs(p, nextAttempt);
  const delay = p.jitter ? Math.floor((options.random ?? Math.random)() * (ceiling + 1)) : ceiling;
  const asked = Math.min(options.retryAfterMs ?? 0, p.max_ms);
  return Math.max(delay, asked);
}
