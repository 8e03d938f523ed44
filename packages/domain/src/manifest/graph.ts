import { AppError } from '../errors.ts';
import { type Manifest, type ManifestProblem, type ManifestStep, problem } from './types.ts';

/** A step as far as the graph is concerned; `needs` entries keep their index in the list. */
export interface GraphStep {
  index: number;
  id: string | undefined;
  needs: { id: string; pos: number }[];
}

export interface GraphCheck {
  problems: ManifestProblem[];
  /** By step index: indices of the steps it depends on directly or transitively, ascending. */
  upstream: number[][];
}

/**
 * Duplicate ids, unknown / self / repeated needs, and cycles (one problem per strongly
 * connected component, naming one cycle through its earliest-declared step, with the field at
 * that step's need that starts the cycle).
 */
export function checkGraph(steps: readonly GraphStep[]): GraphCheck {
  const problems: ManifestProblem[] = [];
  const indexOf = new Map<string, number>();
  for (const step of steps) {
    if (step.id === undefined) continue;
    const first = indexOf.get(step.id);
    if (first === undefined) indexOf.set(step.id, step.index);
    else {
      problems.push(
        problem(`duplicate step id "${step.id}" (first declared at steps[${first}])`, stepField(step, 'id')),
      );
    }
  }
  // edges[i]: needed step index -> position of that need in steps[i].needs
  const edges = steps.map(() => new Map<number, number>());
  for (const step of steps) {
    const name = step.id ?? `steps[${step.index}]`;
    for (const need of step.needs) {
      const target = indexOf.get(need.id);
      const field = stepField(step, 'needs', String(need.pos));
      if (need.id === step.id) problems.push(problem(`step "${name}" needs itself`, field));
      else if (target === undefined)
        problems.push(problem(`step "${name}" needs unknown step "${need.id}"`, field));
      else if (edges[step.index]?.has(target))
        problems.push(problem(`step "${name}" needs "${need.id}" twice`, field));
      else edges[step.index]?.set(target, need.pos);
    }
  }
  const components = stronglyConnected(edges);
  const cyclic = components.filter((c) => c.length > 1).sort((a, b) => Math.min(...a) - Math.min(...b));
  for (const component of cyclic) {
    const start = Math.min(...component);
    const cycle = shortestCycle(start, edges, new Set(component));
    const [, next] = cycle;
    const pos = next === undefined ? undefined : edges[start]?.get(next);
    const names = cycle.map((i) => steps[i]?.id ?? `steps[${i}]`);
    const field = ['steps', String(start), 'needs', ...(pos === undefined ? [] : [String(pos)])];
    problems.push(problem(`cycle: ${names.join(' -> ')}`, field));
  }
  const upstream = transitiveUpstream(edges, components);
  return { problems, upstream };
}

export interface PlannedTask {
  id: string;
  /** Position of the step in `manifest.steps`. */
  index: number;
  step: ManifestStep;
  /** Direct needs, as declared. */
  needs: string[];
  /** Every step this one depends on, directly or transitively, in declaration order. */
  upstream: string[];
}

/**
 * Topological order of the steps (Kahn's algorithm; among ready steps the earliest declared
 * goes first), each with its transitive upstream set. Throws a VALIDATION AppError when the
 * manifest has unknown needs, duplicate ids or a cycle (parseManifest never returns one).
 */
export function planTasks(manifest: Manifest): PlannedTask[] {
  const steps = manifest.steps;
  const graph = checkGraph(
    steps.map((step, index) => ({
      index,
      id: step.id,
      needs: (step.needs ?? []).map((id, pos) => ({ id, pos })),
    })),
  );
  const [first] = graph.problems;
  if (first) throw new AppError('VALIDATION', first.message, { field: first.field });

  const indexOf = new Map(steps.map((step, index) => [step.id, index]));
  const needsOf = steps.map((step) => [...new Set(step.needs ?? [])].map((id) => indexOf.get(id) ?? -1));
  const dependents = steps.map((): number[] => []);
  const waiting = needsOf.map((needs) => needs.length);
  needsOf.forEach((needs, i) => {
    for (const n of needs) dependents[n]?.push(i);
  });
  const ready = waiting.flatMap((count, i) => (count === 0 ? [i] : []));
  const order: number[] = [];
  while (ready.length > 0) {
    const next = ready.shift() as number; // ready is sorted: earliest declared first
    order.push(next);
    for (const d of dependents[next] ?? []) {
      const left = (waiting[d] ?? 0) - 1;
      waiting[d] = left;
      if (left === 0) ready.splice(sortedIndex(ready, d), 0, d);
    }
  }
  return order.map((index) => {
    const step = steps[index] as ManifestStep;
    const upstream = (graph.upstream[index] ?? []).map((i) => steps[i]?.id ?? '');
    return { id: step.id, index, step, needs: [...(step.needs ?? [])], upstream };
  });
}

function stepField(step: GraphStep, ...rest: string[]): string[] {
  return ['steps', String(step.index), ...rest];
}

function sortedIndex(sorted: number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? 0) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Upstream sets with one bitset per step: components come dependencies-first (Tarjan's
 * order), so each one ORs in the finished sets of what it needs, O(edges * steps / 32).
 * Members of a cycle reach each other (but a step is never listed in its own set).
 */
function transitiveUpstream(edges: Map<number, number>[], components: number[][]): number[][] {
  const words = Math.ceil(edges.length / 32);
  const bits = edges.map(() => new Uint32Array(words));
  const set = (row: Uint32Array, i: number) => {
    row[i >>> 5] = (row[i >>> 5] ?? 0) | (1 << (i & 31));
  };
  for (const component of components) {
    const row = new Uint32Array(words);
    const inside = new Set(component);
    for (const member of component) {
      if (component.length > 1) set(row, member);
      for (const target of edges[member]?.keys() ?? []) {
        if (inside.has(target)) continue;
        set(row, target);
        const up = bits[target] ?? row;
        for (let w = 0; w < words; w++) row[w] = (row[w] ?? 0) | (up[w] ?? 0);
      }
    }
    for (const member of component) bits[member] = row;
  }
  return bits.map((row, self) => {
    const out: number[] = [];
    for (let i = 0; i < edges.length; i++) {
      if (i !== self && ((row[i >>> 5] ?? 0) & (1 << (i & 31))) !== 0) out.push(i);
    }
    return out;
  });
}

/** Strongly connected components (Tarjan, iterative), each emitted after those it reaches. */
function stronglyConnected(edges: Map<number, number>[]): number[][] {
  const index = new Array<number>(edges.length).fill(-1);
  const low = new Array<number>(edges.length).fill(0);
  const onStack = new Array<boolean>(edges.length).fill(false);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  for (let root = 0; root < edges.length; root++) {
    if (index[root] !== -1) continue;
    const work: { node: number; next: Iterator<number> }[] = [];
    const enter = (node: number) => {
      index[node] = low[node] = counter++;
      stack.push(node);
      onStack[node] = true;
      work.push({ node, next: (edges[node] ?? new Map<number, number>()).keys() });
    };
    enter(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as (typeof work)[number];
      const step = frame.next.next();
      if (!step.done) {
        const to = step.value;
        if (index[to] === -1) enter(to);
        else if (onStack[to]) low[frame.node] = Math.min(low[frame.node] ?? 0, index[to] ?? 0);
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent.node] = Math.min(low[parent.node] ?? 0, low[frame.node] ?? 0);
      if (low[frame.node] === index[frame.node]) {
        const component: number[] = [];
        let member: number | undefined;
        do {
          member = stack.pop() as number;
          onStack[member] = false;
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}

/** Shortest path start -> … -> start inside one component (BFS), as step indices. */
function shortestCycle(start: number, edges: Map<number, number>[], within: Set<number>): number[] {
  const previous = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] as number;
    for (const to of edges[node]?.keys() ?? []) {
      if (!within.has(to)) continue;
      if (to === start) {
        const back: number[] = [];
        for (let at = node; at !== start; at = previous.get(at) as number) back.push(at);
        return [start, ...back.reverse(), start];
      }
      if (!previous.has(to) && to !== start) {
        previous.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}
