import { cancelRun } from '@maestro/graph';
import { defineStep, type StepResult } from '@maestro/steps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestEngine, type TestEngine } from './test-engine.ts';

/** How each blocking step ended: the reason its signal gave, and when. */
const stops = new Map<string, { reason: string; at: number }>();
const blockStep = defineStep({
  uses: 'test.block',
  input: z.object({ ms: z.number().int().min(1) }),
  run: (input, ctx) =>
    new Promise<StepResult>((resolve, reject) => {
      const timer = setTimeout(() => resolve({ output: { slept: input.ms } }), input.ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        const reason = ctx.signal.reason as Error | undefined;
        stops.set(ctx.taskId, { reason: reason?.name ?? String(reason), at: Date.now() });
        reject(reason);
      });
    }),
});

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine({ extraSteps: [blockStep], drainTimeoutMs: 300, leaseMs: 3000 });
});
afterAll(async () => {
  await engine?.close();
});

async function runningTask(runId: string) {
  for (let i = 0; i < 200; i++) {
    const task = (await engine.tasks(runId)).find((t) => t.status === 'RUNNING');
    if (task) return task;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no task became RUNNING');
}

describe('cancellation, timeouts and drain', () => {
  it('cancelRun stops the running step at once (AbortSignal) and records nothing after', async () => {
    const runId = await engine.start(`
name: long
version: 1.0.0
steps:
  - id: wait
    uses: test.block
    with: { ms: 30000 }
  - id: after
    uses: core.echo
    needs: [wait]
    with: { message: never }
`);
    const task = await runningTask(runId);
    const cancelledAt = Date.now();
    await cancelRun(engine.graph, engine.scope, {
      runId,
      actor: 'ops',
      reason: 'wrong params',
      at: new Date(),
    });
    await engine.producer.signalCancel(runId);
    for (let i = 0; i < 100 && !stops.has(task.id); i++) await new Promise((r) => setTimeout(r, 20));
    expect(stops.get(task.id)?.at).toBeLessThan(cancelledAt + 2000);
    await new Promise((r) => setTimeout(r, 200));
    const run = await engine.waitForRun(runId);
    expect(run).toMatchObject({ status: 'CANCELLED', statusMessage: 'wrong params' });
    const tasks = await engine.tasks(runId);
    expect(tasks.map((t) => t.status)).toEqual(['CANCELLED', 'CANCELLED']);
    // The aborted attempt's failure was not recorded over the cancellation.
    expect(tasks[0]?.errorCode).toBeNull();
  });

  it('a step past its timeout fails with TIMEOUT (retryable, so it is retried)', async () => {
    const runId = await engine.start(`
name: slowpoke
version: 1.0.0
steps:
  - id: slow
    uses: test.block
    timeout: 200ms
    retry: { max_attempts: 2, initial_ms: 10 }
    with: { ms: 10000 }
`);
    const run = await engine.waitForRun(runId);
    expect(run.status).toBe('FAILED');
    const [task] = await engine.tasks(runId);
    expect(task).toMatchObject({ status: 'FAILED', attempt: 2, errorCode: 'TIMEOUT', deadLetter: true });
    expect(stops.get(task?.id ?? '')?.reason).toBe('TimeoutError');
  });

  it('a run past its deadline FAILS and its running step is stopped', async () => {
    const runId = await engine.start(`
name: deadline
version: 1.0.0
timeout: 1s
steps:
  - id: slow
    uses: test.block
    with: { ms: 20000 }
`);
    const run = await engine.waitForRun(runId, { timeoutMs: 10_000 });
    expect(run).toMatchObject({ status: 'FAILED', statusMessage: 'run timed out' });
    expect(Date.parse(run.finishedAt ?? '') - Date.parse(run.startedAt ?? '')).toBeGreaterThanOrEqual(1000);
    const [task] = await engine.tasks(runId);
    expect(task?.status).toBe('CANCELLED');
    for (let i = 0; i < 100 && !stops.has(task?.id ?? ''); i++) await new Promise((r) => setTimeout(r, 20));
    expect(stops.has(task?.id ?? '')).toBe(true);
  });

  it('drain hands back a step that outlives the drain timeout; the next worker finishes it', async () => {
    const runId = await engine.start(`
name: drain
version: 1.0.0
steps:
  - id: slow
    uses: test.block
    with: { ms: 1500 }
`);
    const task = await runningTask(runId);
    await engine.workers.close();
    // Handed back, not finished: the 1.5 s step was stopped after the 300 ms drain timeout.
    const [handedBack] = await engine.tasks(runId);
    expect(handedBack?.status).toBe('RUNNING');
    expect(stops.get(task.id)?.reason).toBe('DrainAbort');
    await engine.restart({ workerId: 'another-worker' } as never);
    const run = await engine.waitForRun(runId);
    expect(run.status).toBe('SUCCEEDED');
    const timeline = await engine.timeline(runId);
    const claims = timeline.filter((e) => e.subjectId === task.id && e.to === 'RUNNING');
    expect(claims.map((e) => e.message)).toEqual(['attempt 1', 'attempt 1: lease lapsed, taken over']);
  });
});
