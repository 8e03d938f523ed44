import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from './test-engine.ts';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine?.close();
});

const byStep = (tasks: { stepId: string; status: string; itemIndex: number | null }[]) =>
  Object.fromEntries(
    tasks.map((t) => [t.itemIndex === null ? t.stepId : `${t.stepId}[${t.itemIndex}]`, t.status]),
  );

describe('DAG runs on the real Redis and Neo4j', () => {
  it('runs a chain in order, passing outputs through expressions', async () => {
    const runId = await engine.start(
      `
name: chain
version: 1.0.0
params:
  who: { type: string, default: world }
steps:
  - id: hello
    uses: core.echo
    with: { message: "hello \${{ params.who }}" }
  - id: again
    uses: core.echo
    needs: [hello]
    with: { message: "\${{ steps.hello.output.message }} again in \${{ run.environment }}" }
`,
      { who: 'maestro' },
    );
    const run = await engine.waitForRun(runId);
    expect(run.status).toBe('SUCCEEDED');
    const tasks = await engine.tasks(runId);
    expect(tasks.map((t) => [t.stepId, t.status, t.output])).toEqual([
      ['hello', 'SUCCEEDED', { message: 'hello maestro' }],
      ['again', 'SUCCEEDED', { message: 'hello maestro again in dev' }],
    ]);
    const timeline = await engine.timeline(runId);
    expect(timeline.map((e) => e.seq)).toEqual(timeline.map((_, i) => i));
    const hello = tasks[0]?.id;
    expect(timeline.filter((e) => e.subjectId === hello).map((e) => e.to)).toEqual([
      'QUEUED',
      'RUNNING',
      'SUCCEEDED',
    ]);
    expect(timeline.at(-1)).toMatchObject({ type: 'run.status', from: 'RUNNING', to: 'SUCCEEDED' });
  });

  it('fans out over foreach items and fans in after every item', async () => {
    const runId = await engine.start(`
name: fan
version: 1.0.0
params:
  targets: { type: array, items: { type: string }, default: [api, web, cli] }
steps:
  - id: plan
    uses: core.echo
    with: { message: plan }
  - id: build
    uses: core.echo
    needs: [plan]
    foreach: \${{ params.targets }}
    with: { message: "build \${{ item }} #\${{ index }}" }
  - id: ship
    uses: core.echo
    needs: [build]
    with: { message: "\${{ join(steps.build.output.*.message, ', ') }}" }
`);
    const run = await engine.waitForRun(runId);
    const tasks = await engine.tasks(runId);
    expect(tasks.filter((t) => t.error).map((t) => t.error)).toEqual([]);
    expect(run.status).toBe('SUCCEEDED');
    expect(byStep(tasks)).toEqual({
      plan: 'SUCCEEDED',
      'build[0]': 'SUCCEEDED',
      'build[1]': 'SUCCEEDED',
      'build[2]': 'SUCCEEDED',
      ship: 'SUCCEEDED',
    });
    expect(tasks.find((t) => t.stepId === 'ship')?.output).toEqual({
      message: 'build api #0, build web #1, build cli #2',
    });
    // Each item has its own idempotency key (item index and input are part of it).
    const keys = tasks.filter((t) => t.stepId === 'build').map((t) => t.idempotencyKey);
    expect(new Set(keys).size).toBe(3);
    // ship started only after the last build item finished.
    const timeline = await engine.timeline(runId);
    const shipQueued = timeline.find(
      (e) => e.subjectId === tasks.find((t) => t.stepId === 'ship')?.id && e.to === 'QUEUED',
    );
    const buildsDone = timeline.filter(
      (e) => tasks.some((t) => t.stepId === 'build' && t.id === e.subjectId) && e.to === 'SUCCEEDED',
    );
    expect(buildsDone).toHaveLength(3);
    expect(Math.max(...buildsDone.map((e) => e.seq))).toBeLessThan(shipQueued?.seq ?? -1);
  });

  it('skips on a false if, lets dependents of a skipped step run, and cancels behind a failure', async () => {
    const runId = await engine.start(`
name: branches
version: 1.0.0
params:
  env: { type: string, default: staging }
steps:
  - id: gate
    uses: core.echo
    if: \${{ params.env == 'prod' }}
    with: { message: prod only }
  - id: after-gate
    uses: core.echo
    needs: [gate]
    with: { message: runs anyway }
  - id: boom
    uses: core.fail
    with: { message: broken on purpose }
  - id: never
    uses: core.echo
    needs: [boom]
    with: { message: unreachable }
  - id: never-either
    uses: core.echo
    needs: [never]
    with: { message: unreachable }
  - id: tolerant
    uses: core.fail
    continue_on_error: true
    with: { message: tolerated }
  - id: after-tolerant
    uses: core.echo
    needs: [tolerant]
    with: { message: still runs }
`);
    const run = await engine.waitForRun(runId);
    expect(run.status).toBe('FAILED');
    const tasks = await engine.tasks(runId);
    expect(byStep(tasks)).toEqual({
      gate: 'SKIPPED',
      'after-gate': 'SUCCEEDED',
      boom: 'FAILED',
      never: 'CANCELLED',
      'never-either': 'CANCELLED',
      tolerant: 'FAILED',
      'after-tolerant': 'SUCCEEDED',
    });
    expect(tasks.find((t) => t.stepId === 'never')?.error).toBe('needs "boom", which failed');
  });

  it('succeeds when the only failure is tolerated', async () => {
    const runId = await engine.start(`
name: tolerant
version: 1.0.0
steps:
  - id: flaky
    uses: core.fail
    continue_on_error: true
    with: { message: nope }
  - id: next
    uses: core.echo
    needs: [flaky]
    with: { message: fine }
`);
    expect((await engine.waitForRun(runId)).status).toBe('SUCCEEDED');
  });

  it('fails a step whose expression cannot be evaluated, without running it', async () => {
    const runId = await engine.start(`
name: bad-foreach
version: 1.0.0
params:
  targets: { type: string, default: not-a-list }
steps:
  - id: build
    uses: core.echo
    foreach: \${{ fromJSON(format('"{0}"', params.targets)) }}
    with: { message: "\${{ item }}" }
`);
    const run = await engine.waitForRun(runId);
    expect(run.status).toBe('FAILED');
    const [task] = await engine.tasks(runId);
    expect(task).toMatchObject({ status: 'FAILED', startedAt: null });
    expect(task?.error).toMatch(/^VALIDATION: foreach must yield an array/);
  });
});
