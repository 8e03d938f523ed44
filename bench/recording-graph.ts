// Graph wrappers for the benchmark: one records the Cypher and parameters the repositories send
// (so the bench can replay exactly those statements bare through the driver, and PROFILE them,
// without copying query text out of packages/graph); one rewrites statements on the fly (so the
// real API can be timed with the rewrites of bench/prototypes.ts applied).
import type { Graph } from '@maestro/graph';
import type { ManagedTransaction } from 'neo4j-driver';

export interface RecordedQuery {
  query: string;
  params: Record<string, unknown>;
}

/** What to send instead of a statement: another statement, 'skip' (answer no rows), or null (as is). */
export type Transform = (q: RecordedQuery) => RecordedQuery | 'skip' | null;

function wrapGraph(graph: Graph, onRun: (tx: ManagedTransaction, q: RecordedQuery) => unknown): Graph {
  const wrap =
    <T>(work: (tx: ManagedTransaction) => Promise<T>) =>
    (tx: ManagedTransaction) =>
      work({
        run: (query: string, params?: Record<string, unknown>) => onRun(tx, { query, params: params ?? {} }),
      } as unknown as ManagedTransaction);
  return {
    driver: graph.driver,
    database: graph.database,
    read: (work) => graph.read(wrap(work)),
    write: (work) => graph.write(wrap(work)),
    ping: () => graph.ping(),
    close: () => graph.close(),
  };
}

export function recordingGraph(graph: Graph): { graph: Graph; calls: RecordedQuery[] } {
  const calls: RecordedQuery[] = [];
  return {
    calls,
    graph: wrapGraph(graph, (tx, q) => {
      calls.push(q);
      return tx.run(q.query, q.params);
    }),
  };
}

/** Runs `fn` against a recording graph and returns the one statement it sent. */
export async function captureOne(graph: Graph, fn: (g: Graph) => Promise<unknown>): Promise<RecordedQuery> {
  const rec = recordingGraph(graph);
  await fn(rec.graph);
  const [call, ...more] = rec.calls;
  if (!call || more.length) throw new Error(`expected one statement, got ${rec.calls.length}`);
  return call;
}

/** A graph that sends `transform(statement)` instead of each statement; counts what it changed. */
export function transformingGraph(
  graph: Graph,
  transform: Transform,
): { graph: Graph; changed: () => number } {
  let changed = 0;
  return {
    changed: () => changed,
    graph: wrapGraph(graph, (tx, q) => {
      const t = transform(q);
      if (t === null) return tx.run(q.query, q.params);
      changed++;
      // 'skip' stands in for a statement that is never sent (e.g. a totalCount nobody selected).
      if (t === 'skip') return Promise.resolve({ records: [], keys: [] });
      return tx.run(t.query, t.params);
    }),
  };
}
