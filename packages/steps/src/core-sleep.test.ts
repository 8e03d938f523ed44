import { describe, expect, it } from 'vitest';
import { coreSleep } from './core-sleep.ts';
import { executeStep } from './step-type.ts';
import { stepFailure } from './test-support.ts';
import { testStepContext } from './testing.ts';

describe('core.sleep', () => {
  it('sleeps for ms and returns {}', async () => {
    const started = performance.now();
    expect(await executeStep(coreSleep, { ms: 50 }, testStepContext())).toEqual({ output: {} });
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('stops within a few ms of the signal firing, as CANCELLED (not retryable)', async () => {
    const controller = new AbortController();
    const ctx = testStepContext({ signal: controller.signal });
    const running = coreSleep.run({ ms: 60_000 }, ctx);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const abortedAt = performance.now();
    controller.abort();
    const error = await stepFailure(running);
    expect(performance.now() - abortedAt).toBeLessThan(50);
    expect(error).toMatchObject({ code: 'CANCELLED', retryable: false });
  });

  it('reports a step timeout (TimeoutError abort reason) as retryable TIMEOUT', async () => {
    const started = performance.now();
    const error = await stepFailure(
      executeStep(coreSleep, { ms: 60_000 }, testStepContext({ signal: AbortSignal.timeout(30) })),
    );
    expect(performance.now() - started).toBeLessThan(500);
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
  });

  it('does not start when already aborted', async () => {
    const error = await stepFailure(
      coreSleep.run({ ms: 10 }, testStepContext({ signal: AbortSignal.abort() })),
    );
    expect(error.code).toBe('CANCELLED');
  });

  it('validates ms', async () => {
    for (const ms of [-1, 1.5, '10', 8 * 24 * 3_600_000]) {
      expect(coreSleep.input.safeParse({ ms }).success).toBe(false);
    }
    expect((await stepFailure(executeStep(coreSleep, {}, testStepContext()))).code).toBe('VALIDATION');
  });
});
