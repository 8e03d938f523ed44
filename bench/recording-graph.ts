// A Graph wrapper for the benchmark that records the Cypher and parameters the repositories send,
// so the bench can replay exactly those statements bare through the driver, and PROFILE them,
// without copying query text out of packages/graph.
import type { Graph } from '@maestro/graph';
import type { ManagedTransaction } from 'neo4j-driver';

export interface RecordedQuery {
  query: string;
  params: Record<string, unknown>;
}

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
