import { describe, expect, it } from 'vitest';
import type { Manifest } from '../manifest/types.ts';
import { type EngineTask, planAdvance, referencedSteps, taskIdempotencyKey } from './advance.ts';
import { backoffCeilingMs, retryDelayMs } from './backoff.ts';
import { evaluation } from './evaluate.ts';

const run = { id: 'run_1', tenant: 't', environment: 'dev', region: 'EU' };
const manifest = (steps: Manifest['steps']): Manifest => ({ name: 'm', version: '1.0.0', steps });
let n = 0;
const task = (
  stepId: string,
  status: EngineTask['status'],
  position: number,
  itemIndex: number | null = null,
) => ({
  id: `task_${stepId}_${itemIndex ?? 'x'}_${n++}`,
  stepId,
  status,
  itemIndex,
  position,
});
const plan = (m: Manifest, tasks: EngineTask[], params: Record<string, unknown> = {}, steps = {}) =>
  planAdvance({
    manifest: m,
    digest: 'd',
    tasks,
    context: { params, run, steps },
    newTaskId: () => `task_new_${n++}`,
  });

describe('planAdvance', () => {
  it('queues roots first, with the resolved input and its key', () => {
    const m = manifest([
      { id: 'a', uses: 'core.echo', with: { message: 'hi ${{ params.who }}' } },
      { id: 'b', uses: 'core.echo', needs: ['a'] },
    ]);
    const tasks = [task('a', 'PENDING', 0), task('b', 'PENDING', 1)];
    const { changes, outcome } = plan(m, tasks, { who: 'x' });
    expect(changes).toEqual([
      {
        kind: 'queue',
        taskId: tasks[0]?.id,
        itemIndex: null,
        input: { message: 'hi x' },
        idempotencyKey: taskIdempotencyKey('d', 'a', null, { message: 'hi x' }),
      },
    ]);
    expect(outcome).toBeNull();
  });

  it('settles a chain of skips in one call and finishes the run', () => {
    const m = manifest([
      { id: 'a', uses: 'core.echo', if: '${{ false }}' },
      { id: 'b', uses: 'core.echo', needs: ['a'], if: "${{ params.env == 'prod' }}" },
    ]);
    const { changes, outcome } = plan(m, [task('a', 'PENDING', 0), task('b', 'PENDING', 1)], { env: 'dev' });
    expect(changes.map((c) => c.kind)).toEqual(['skip', 'skip']);
    expect(outcome).toEqual({ status: 'SUCCEEDED', message: null });
  });

  it('cancels transitively behind a failure, but not behind a tolerated one', () => {
    const m = manifest([
      { id: 'a', uses: 'core.fail' },
      { id: 'b', uses: 'core.echo', needs: ['a'] },
      { id: 'c', uses: 'core.echo', needs: ['b'] },
      { id: 't', uses: 'core.fail', continue_on_error: true },
      { id: 'u', uses: 'core.echo', needs: ['t'] },
    ]);
    const tasks = [
      task('a', 'FAILED', 0),
      task('b', 'PENDING', 1),
      task('c', 'PENDING', 2),
      task('t', 'FAILED', 3),
      task('u', 'PENDING', 4),
    ];
    const { changes, outcome } = plan(m, tasks);
    expect(changes.map((c) => [c.kind, c.taskId])).toEqual([
      ['cancel', tasks[1]?.id],
      ['cancel', tasks[2]?.id],
      ['queue', tasks[4]?.id],
    ]);
    expect(outcome).toBeNull();
  });

  it('fans a foreach out into one task per item, each keyed by its item', () => {
    const m = manifest([
      { id: 'b', uses: 'core.echo', foreach: '${{ params.xs }}', with: { message: '${{ item }}' } },
    ]);
    const [t] = [task('b', 'PENDING', 0)];
    const { changes } = plan(m, [t as EngineTask], { xs: ['p', 'q', 'r'] });
    const expand = changes.find((c) => c.kind === 'expand');
    const queue = changes.find((c) => c.kind === 'queue');
    expect(queue).toMatchObject({ taskId: t?.id, itemIndex: 0, input: { message: 'p' } });
    expect(expand?.kind === 'expand' && expand.items.map((i) => [i.itemIndex, i.input])).toEqual([
      [1, { message: 'q' }],
      [2, { message: 'r' }],
    ]);
  });

  it('re-queues only its own item when one item of a fanned-out step is rerun', () => {
    const m = manifest([
      { id: 'b', uses: 'core.echo', foreach: '${{ params.xs }}', with: { message: '${{ item }}' } },
    ]);
    const tasks = [task('b', 'SUCCEEDED', 0, 0), task('b', 'PENDING', 0, 1), task('b', 'SUCCEEDED', 0, 2)];
    const { changes } = plan(m, tasks, { xs: ['p', 'q', 'r'] });
    expect(changes).toEqual([
      {
        kind: 'queue',
        taskId: tasks[1]?.id,
        itemIndex: 1,
        input: { message: 'q' },
        idempotencyKey: taskIdempotencyKey('d', 'b', 1, { message: 'q' }),
      },
    ]);
  });

  it('refuses a foreach past the bound with a failed task, and FAILS the run', () => {
    const m = manifest([{ id: 'b', uses: 'core.echo', foreach: '${{ params.xs }}' }]);
    const { changes, outcome } = plan(m, [task('b', 'PENDING', 0)], {
      xs: Array.from({ length: 101 }, (_, i) => i),
    });
    expect(changes).toMatchObject([{ kind: 'fail', error: expect.stringMatching(/at most 100/) }]);
    expect(outcome).toEqual({ status: 'FAILED', message: 'step "b" failed' });
  });

  it('finds the steps whose outputs expressions read', () => {
    const m = manifest([
      { id: 'a', uses: 'core.echo' },
      { id: 'b', uses: 'core.echo', needs: ['a'], with: { x: '${{ steps.a.output.message }}' } },
    ]);
    expect([...referencedSteps(m)]).toEqual(['a']);
  });
});

describe('evaluation', () => {
  const ev = evaluation({ params: { n: 2, xs: ['a'] }, run, steps: { a: { output: { v: 1 } } } });
  it('keeps the type of a whole expression and interpolates text', () => {
    expect(ev.resolve({ n: '${{ params.n }}', s: 'n=${{ params.n }}', xs: '${{ params.xs }}' }, [])).toEqual({
      n: 2,
      s: 'n=2',
      xs: ['a'],
    });
    expect(ev.resolve('${{ steps.a.output.v }}', [])).toBe(1);
    expect(ev.condition("${{ run.environment == 'dev' }}", [])).toBe(true);
  });
  it('reports a failing expression as VALIDATION at its field', () => {
    expect(() => ev.items('${{ params.n }}', ['steps', '0', 'foreach'], 100)).toThrow(
      expect.objectContaining({ code: 'VALIDATION', field: ['steps', '0', 'foreach'] }),
    );
  });
});

describe('backoff', () => {
  const policy = {
    max_attempts: 5,
    backoff: 'exponential' as const,
    initial_ms: 100,
    max_ms: 1000,
    jitter: false,
  };
  it('doubles from initial_ms per retry and caps at max_ms', () => {
    expect([2, 3, 4, 5, 6].map((a) => retryDelayMs(policy, a))).toEqual([100, 200, 400, 800, 1000]);
    expect(retryDelayMs({ ...policy, backoff: 'fixed' }, 5)).toBe(100);
  });
  it('full jitter draws uniformly below the ceiling; Retry-After wins when longer', () => {
    const jittered = { ...policy, jitter: true };
    expect(retryDelayMs(jittered, 4, { random: () => 0 })).toBe(0);
    expect(retryDelayMs(jittered, 4, { random: () => 0.999999 })).toBe(backoffCeilingMs(jittered, 4));
    expect(retryDelayMs(jittered, 2, { random: () => 0, retryAfterMs: 700 })).toBe(700);
  });
});
