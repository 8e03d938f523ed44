import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { manifestOf, pairs, problemsOf, source, step } from './fixtures/manifests.ts';
import { planTasks } from './graph.ts';
import type { Manifest } from './types.ts';

describe('step ids and needs', () => {
  it('reports a duplicate id at the second step', () => {
    const problems = problemsOf(source({ steps: [step('a'), step('b'), step('a')] }));
    expect(pairs(problems)).toEqual([['duplicate step id "a" (first declared at steps[0])', 'steps.2.id']]);
  });

  it('reports unknown, self and repeated needs at their index', () => {
    const problems = problemsOf(source({ steps: [step('a'), step('b', ['a', 'ghost', 'b', 'a'])] }));
    expect(pairs(problems)).toEqual([
      ['step "b" needs unknown step "ghost"', 'steps.1.needs.1'],
      ['step "b" needs itself', 'steps.1.needs.2'],
      ['step "b" needs "a" twice', 'steps.1.needs.3'],
    ]);
  });

  it('checks needs even when another part of the step is malformed', () => {
    const problems = problemsOf(source({ steps: [{ ...step('a', ['nope']), retry: { max_attempts: 0 } }] }));
    expect(problems.map((p) => p.field.join('.'))).toEqual(['steps.0.retry.max_attempts', 'steps.0.needs.0']);
  });
});

describe('cycles', () => {
  it('reports a 2-cycle at the first step`s need that starts it', () => {
    const problems = problemsOf(source({ steps: [step('x'), step('a', ['x', 'b']), step('b', ['a'])] }));
    expect(pairs(problems)).toEqual([['cycle: a -> b -> a', 'steps.1.needs.1']]);
  });

  it('reports a 3-cycle with its path', () => {
    const problems = problemsOf(source({ steps: [step('a', ['c']), step('b', ['a']), step('c', ['b'])] }));
    expect(pairs(problems)).toEqual([['cycle: a -> c -> b -> a', 'steps.0.needs.0']]);
  });

  it('reports one problem per separate cycle', () => {
    const steps = [step('a', ['b']), step('b', ['a']), step('c', ['e']), step('d', ['c']), step('e', ['d'])];
    expect(pairs(problemsOf(source({ steps })))).toEqual([
      ['cycle: a -> b -> a', 'steps.0.needs.0'],
      ['cycle: c -> e -> d -> c', 'steps.2.needs.0'],
    ]);
  });
});

describe('planTasks', () => {
  const diamond = manifestOf(
    source({ steps: [step('d', ['b', 'c']), step('c', ['a']), step('b', ['a']), step('a'), step('z')] }),
  );

  it('orders steps topologically, earliest declared first among ready ones', () => {
    expect(planTasks(diamond).map((t) => t.id)).toEqual(['a', 'c', 'b', 'd', 'z']);
  });

  it('gives each step its transitive upstream in declaration order', () => {
    const byId = Object.fromEntries(planTasks(diamond).map((t) => [t.id, t]));
    expect(byId.d).toMatchObject({ index: 0, needs: ['b', 'c'], upstream: ['c', 'b', 'a'] });
    expect(byId.c?.upstream).toEqual(['a']);
    expect(byId.a?.upstream).toEqual([]);
    expect(byId.z?.step).toBe(diamond.steps[4]);
  });

  it('throws a VALIDATION AppError for a graph parseManifest would reject', () => {
    const cyclic: Manifest = {
      name: 'x',
      version: '1.0.0',
      steps: [
        { id: 'a', uses: 'core.echo', needs: ['b'] },
        { id: 'b', uses: 'core.echo', needs: ['a'] },
      ],
    };
    expect(() => planTasks(cyclic)).toThrow(AppError);
    expect(() => planTasks(cyclic)).toThrow('cycle: a -> b -> a');
  });
});

/** Random DAG: step i may only need steps declared before it, so the graph is acyclic. */
const dag = fc
  .integer({ min: 1, max: 25 })
  .chain((n) =>
    fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        fc.uniqueArray(fc.nat({ max: Math.max(0, i - 1) }), { maxLength: i }),
      ),
    ),
  )
  .map((needs) => needs.map((list, i) => list.filter((j) => j < i)));

/** Declaration order is shuffled so that "acyclic" does not mean "already sorted". */
const shuffledDag = dag.chain((needs) =>
  fc
    .shuffledSubarray(
      needs.map((_, i) => i),
      { minLength: needs.length, maxLength: needs.length },
    )
    .map((order) =>
      order.map((i) =>
        step(
          `s${i}`,
          (needs[i] ?? []).map((j) => `s${j}`),
        ),
      ),
    ),
);

describe('graph properties', () => {
  it('planTasks puts every step after all of its needs, and upstream is transitive', () => {
    fc.assert(
      fc.property(shuffledDag, (steps) => {
        const tasks = planTasks(manifestOf(source({ steps })));
        const position = new Map(tasks.map((t, i) => [t.id, i]));
        expect(tasks).toHaveLength(steps.length);
        for (const task of tasks) {
          for (const need of task.needs) expect(position.get(need)).toBeLessThan(position.get(task.id) ?? -1);
          const expected = new Set(
            task.needs.flatMap((n) => [n, ...(tasks.find((t) => t.id === n)?.upstream ?? [])]),
          );
          expect(new Set(task.upstream)).toEqual(expected);
        }
      }),
    );
  });

  it('a DAG with one injected back-edge is reported as a cycle whose path is real', () => {
    const withBackEdge = dag
      .filter((needs) => needs.length >= 2)
      .chain((needs) =>
        fc.record({
          needs: fc.constant(needs),
          to: fc.integer({ min: 1, max: needs.length - 1 }),
          pick: fc.nat(),
        }),
      )
      .map(({ needs, to, pick }) => {
        const edges = needs.map((list) => [...list]);
        if ((edges[to] ?? []).length === 0) edges[to]?.push(pick % to); // make sure `to` has an upstream
        const upstream = reachableFrom(to, edges);
        const from = [...upstream][pick % upstream.size] ?? 0;
        edges[from]?.push(to); // from is upstream of to, so from -> to closes a cycle
        return edges;
      });
    fc.assert(
      fc.property(withBackEdge, (edges) => {
        const steps = edges.map((list, i) =>
          step(
            `s${i}`,
            list.map((j) => `s${j}`),
          ),
        );
        const cycles = problemsOf(source({ steps })).filter((p) => p.message.startsWith('cycle: '));
        expect(cycles.length).toBeGreaterThan(0);
        for (const cycle of cycles) {
          const path = cycle.message.slice('cycle: '.length).split(' -> ');
          expect(path[0]).toBe(path.at(-1));
          for (let k = 0; k + 1 < path.length; k++) {
            const from = Number(path[k]?.slice(1));
            expect(edges[from]).toContain(Number(path[k + 1]?.slice(1)));
          }
        }
      }),
    );
  });
});

function reachableFrom(start: number, edges: number[][]): Set<number> {
  const seen = new Set<number>();
  const stack = [...(edges[start] ?? [])];
  while (stack.length > 0) {
    const i = stack.pop() as number;
    if (!seen.has(i)) {
      seen.add(i);
      stack.push(...(edges[i] ?? []));
    }
  }
  return seen;
}
