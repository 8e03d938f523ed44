import { defineStep } from '@maestro/steps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestEngine, type TestEngine } from './test-engine.ts';

/** Executions per idempotency key, as a step with a side effect would see them. */
const executions = new Map<string, number>();
const countStep = defineStep({
  uses: 'test.count',
  input: z.object({ ms: z.number().int().min(0).default(0) }),
  run: async (input, ctx) => {
    executions.set(ctx.idempotencyKey, (executions.get(ctx.idempotencyKey) ?? 0) + 1);
    if (input.ms > 0) await new Promise((r) => setTimeout(r, input.ms));
    return { output: { key: ctx.idempotencyKey } };
  },
});

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine({ extraSteps: [countStep] });
});
afterAll(async () => {
  await engine?.close();
});

const at = (iso: string | undefined) => Date.parse(iso ?? '');

describe('retries and backoff', () => {
  it('core.fail with until_attempt: 3 succeeds on attempt 3, waiting as the policy says', async () => {
    const runId = await engine.start(`
name: flaky
version: 1.0.0
steps:
  - id: flaky
    uses: core.fail
    with: { message: not yet, until_attempt: 3 }
    retry: { max_attempts: 3, backoff: exponential, initial_ms: 300, max_ms: 5000, jitter: false }
`);
    const run = await engine.waitForRun(runId);
    expect(run.status).toBe('SUCCEEDED');
    const [task] = await engine.tasks(runId);
    expect(task).toMatchObject({ status: 'SUCCEEDED', attempt: 3, error: null });
    const timeline = await engine.timeline(runId);
    const retries = timeline.filter((e) => e.type === 'task.retry');
    expect(retries.map((e) => e.message?.replace(/\(.*\)/, '()'))).toEqual([
      'attempt 1 failed (); attempt 2 in 300 ms',
      'attempt 2 failed (); attempt 3 in 600 ms',
    ]);
    // Each next attempt started no sooner than its backoff after the failure.
    const starts = timeline.filter((e) => e.subjectId === task?.id && e.to === 'RUNNING');
    expect(starts).toHaveLength(3);
    expect(at(starts[1]?.at) - at(retries[0]?.at)).toBeGreaterThanOrEqual(300);
    expect(at(starts[2]?.at) - at(retries[1]?.at)).toBeGreaterThanOrEqual(600);
  });

  it('keeps the idempotency key across retries', async () => {
    const runId = await engine.start(`
name: flaky-keyed
version: 1.0.0
steps:
  - id: flaky
    uses: core.fail
    with: { message: not yet, until_attempt: 2 }
    retry: { max_attempts: 2, initial_ms: 10, jitter: true }
`);
    await engine.waitForRun(runId);
    const [task] = await engine.tasks(runId);
    const timeline = await engine.timeline(runId);
    expect(timeline.filter((e) => e.type === 'task.retry')).toHaveLength(1);
    // full jitter: the wait is at most the ceiling
    const delay = Number(
      /in (\d+) ms/.exec(timeline.find((e) => e.type === 'task.retry')?.message ?? '')?.[1],
    );
    expect(delay).toBeGreaterThanOrEqual(0);
    expect(delay).toBeLessThanOrEqual(10);
    expect(task?.idempotencyKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not retry a fatal error', async () => {
    const runId = await engine.start(`
name: fatal
version: 1.0.0
steps:
  - id: exit
    uses: exec.command
    with: { argv: [sh, -c, "exit 3"] }
    retry: { max_attempts: 5, initial_ms: 10 }
`);
    const run = await engine.waitForRun(runId);
    expect(run.status).toBe('FAILED');
    const [task] = await engine.tasks(runId);
    expect(task).toMatchObject({
      status: 'FAILED',
      attempt: 1,
      errorCode: 'EXIT_NONZERO',
      deadLetter: false,
    });
    const timeline = await engine.timeline(runId);
    expect(timeline.filter((e) => e.type === 'task.retry')).toEqual([]);
  });

  it('dead-letters a task that ran out of retries, and replays it with rerunTask', async () => {
    const runId = await engine.start(`
name: exhausted
version: 1.0.0
steps:
  - id: always
    uses: core.fail
    with: { message: down, until_attempt: 3 }
    retry: { max_attempts: 2, initial_ms: 10 }
  - id: after
    uses: core.echo
    needs: [always]
    with: { message: after }
`);
    const run = await engine.waitForRun(runId);
    expect(run).toMatchObject({ status: 'FAILED', statusMessage: 'step "always" failed' });
    const [failed, after] = await engine.tasks(runId);
    expect(failed).toMatchObject({
      status: 'FAILED',
      attempt: 2,
      errorCode: 'STEP_FAILED',
      deadLetter: true,
    });
    expect(after?.status).toBe('CANCELLED');
    // Replay: the third attempt succeeds (until_attempt: 3) and the downstream step runs.
    const { rerunTask } = await import('@maestro/graph');
    await rerunTask(engine.graph, engine.scope, {
      taskId: failed?.id ?? '',
      downstream: true,
      actor: 'ops',
      at: new Date(),
    });
    await engine.producer.enqueue('runAdvance', { ...engine.scope, runId });
    const replayed = await engine.waitForRun(runId, { until: (r) => r.status === 'SUCCEEDED' });
    expect(replayed.statusMessage).toBeNull();
    const tasks = await engine.tasks(runId);
    expect(tasks.map((t) => [t.stepId, t.status, t.deadLetter])).toEqual([
      ['always', 'SUCCEEDED', false],
      ['after', 'SUCCEEDED', false],
    ]);
    expect(tasks[0]?.attempt).toBe(3);
  });
});

describe('exactly-once completion', () => {
  it('never runs a recorded step again, whatever the queue redelivers', async () => {
    const runId = await engine.start(`
name: once
version: 1.0.0
params:
  items: { type: array, items: { type: integer }, default: [1, 2, 3, 4, 5] }
steps:
  - id: work
    uses: test.count
    foreach: \${{ params.items }}
    with: { ms: 0 }
`);
    expect((await engine.waitForRun(runId)).status).toBe('SUCCEEDED');
    const tasks = await engine.tasks(runId);
    // Redeliver every task's job several times, under fresh job ids (as a flushed Redis or an
    // operator replay would).
    await Promise.all(
      tasks.flatMap((t) =>
        [1, 2, 3].map((n) =>
          engine.producer.enqueue(
            'taskExecute',
            { ...engine.scope, runId, taskId: t.id, attempt: t.attempt },
            { jobId: `${t.id}.${t.attempt}.again${n}` },
          ),
        ),
      ),
    );
    const queue = engine.producer.queue('maestro-tasks');
    const replaysDone = async () =>
      (await queue.getCompleted(0, 1000)).filter((j) => String(j.id).includes('.again'));
    for (let i = 0; i < 400 && (await replaysDone()).length < 15; i++)
      await new Promise((r) => setTimeout(r, 25));
    const replays = await replaysDone();
    expect(replays.length).toBe(15);
    expect(tasks.map((t) => executions.get(t.idempotencyKey))).toEqual([1, 1, 1, 1, 1]);
    expect(new Set(replays.map((j) => JSON.stringify(j.returnvalue)))).toEqual(
      new Set([JSON.stringify({ skipped: 'run SUCCEEDED' })]),
    );
  });

  it('lets one of several simultaneous deliveries run the step; the others wait for its lease', async () => {
    const runId = await engine.start(`
name: racing
version: 1.0.0
steps:
  - id: slow
    uses: test.count
    with: { ms: 400 }
`);
    const running = await engine.waitForRun(runId, { until: (r) => r.status === 'RUNNING' });
    expect(running.status).toBe('RUNNING');
    let task = (await engine.tasks(runId))[0];
    for (let i = 0; i < 100 && task?.status !== 'RUNNING'; i++) {
      await new Promise((r) => setTimeout(r, 10));
      task = (await engine.tasks(runId))[0];
    }
    await Promise.all(
      [1, 2, 3].map((n) =>
        engine.producer.enqueue(
          'taskExecute',
          { ...engine.scope, runId, taskId: task?.id ?? '', attempt: 1 },
          { jobId: `${task?.id}.1.dup${n}` },
        ),
      ),
    );
    expect((await engine.waitForRun(runId)).status).toBe('SUCCEEDED');
    await new Promise((r) => setTimeout(r, 300));
    const [done] = await engine.tasks(runId);
    expect(executions.get(done?.idempotencyKey ?? '')).toBe(1);
  });
});
