import { AppError, type Scope } from '@maestro/domain';
import neo4j, { type Node } from 'neo4j-driver';
import { decodeCursor, type Page, pageSize, toPage } from './cursor.ts';
import type { Graph } from './graph.ts';
import { RUN_FIELDS, type RunRecord, toRun } from './runs.ts';

export interface GraphNodeRecord {
  id: string;
  label: string;
  name: string;
  properties: Record<string, unknown>;
}

export interface GraphEdgeRecord {
  from: string;
  to: string;
  type: string;
}

/** Caps what one graph-pane request may return, so a huge neighbourhood cannot pin the server. */
export const GRAPH_NODE_LIMIT = 20_000;

/**
 * The run's neighbourhood for the graph pane: nodes within `depth` hops (1..3) that belong to
 * the same tenant and scope, and the edges among them. Tasks and their DEPENDS_ON edges are
 * always included (also the ones not started yet), so the pane can draw the whole DAG.
 */
export async function runNeighbourhood(
  graph: Graph,
  scope: Scope,
  runId: string,
  depth: number,
): Promise<{ nodes: GraphNodeRecord[]; edges: GraphEdgeRecord[] } | null> {
  if (!Number.isInteger(depth) || depth < 1 || depth > 3) {
    throw new AppError('VALIDATION', 'depth must be 1, 2 or 3', { field: ['depth'] });
  }
  return graph.read(async (tx) => {
    // depth is an integer from 1 to 3 (checked above), the only value spliced into the query.
    const result = await tx.run(
      `MATCH (r:Run {id: $runId, tenantId: $tenantId, environment: $environment, region: $region})
       // Every node on the path (not only its end) must be in scope: a tenant-wide User must not
       // become a bridge into another environment's approvals or runs.
       OPTIONAL MATCH p = (r)-[*1..${depth}]-(n)
       WHERE all(x IN nodes(p) WHERE x.tenantId = $tenantId AND NOT x:TimelineEvent
                 AND (x:User OR (x.environment = $environment AND x.region = $region)))
       WITH r, collect(DISTINCT n)[..$limit] AS near
       OPTIONAL MATCH (r)-[:HAS_TASK]->(t:Task)
       WITH r, near, collect(t) AS tasks
       UNWIND [r] + tasks + near AS x
       WITH collect(DISTINCT x) AS ns
       CALL (ns) {
         UNWIND ns AS a
         MATCH (a)-[rel]->(b)
         WHERE b IN ns
         RETURN collect({from: a.id, to: b.id, type: type(rel)}) AS edges
       }
       RETURN ns AS nodes, edges`,
      { ...scope, runId, limit: neo4j.int(GRAPH_NODE_LIMIT) },
    );
    const row = result.records[0];
    if (!row) return null;
    // Shaped here rather than in Cypher: Neo4j 5.26 fails to plan a map projection that mixes
    // n.prop and properties(n) over a collected list ("Property cannot be cast to ASTCachedProperty").
    const nodes = (row.get('nodes') as Node[]).map((n): GraphNodeRecord => {
      const p = n.properties as Record<string, unknown>;
      const name = [p.name, p.stepId, p.subject, p.version, p.uri, p.action, p.id].find(
        (v) => typeof v === 'string',
      );
      return {
        id: String(p.id),
        label: n.labels[0] ?? 'Node',
        name: String(name ?? p.id),
        properties: plain(p),
      };
    });
    return { nodes, edges: row.get('edges') as GraphEdgeRecord[] };
  });
}

/** Neo4j temporal values become ISO strings; JSON-in-string properties stay strings. */
function plain(props: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) ? String(v) : v;
  }
  return out;
}

/** Runs whose tasks touched a resource (lineage), newest first, keyset-paginated. */
export async function runsTouchingResource(
  graph: Graph,
  scope: Scope,
  uri: string,
  first: number | null | undefined,
  after: string | null | undefined,
): Promise<Page<RunRecord> & { totalCount: number }> {
  const size = pageSize(first);
  const cursor = decodeCursor('run', after);
  return graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH (res:Resource {tenantId: $tenantId, environment: $environment, region: $region, uri: $uri})<-[:TOUCHES]-(:Task)<-[:HAS_TASK]-
             (r:Run {tenantId: $tenantId, environment: $environment, region: $region})
       WITH DISTINCT r
       WITH collect(r) AS touched
       WITH touched, size(touched) AS total
       UNWIND touched AS r
       WITH r, total WHERE $cursorAt IS NULL OR r.createdAt < datetime($cursorAt)
                      OR (r.createdAt = datetime($cursorAt) AND r.id < $cursorId)
       RETURN r ${RUN_FIELDS} AS run, total
       ORDER BY r.createdAt DESC, r.id DESC
       LIMIT $limit`,
      {
        ...scope,
        uri,
        cursorAt: cursor?.s ?? null,
        cursorId: cursor?.id ?? null,
        limit: neo4j.int(size + 1),
      },
    );
    const rows = result.records.map((rec) => toRun(rec.get('run') as Record<string, unknown>));
    const totalCount = Number(result.records[0]?.get('total') ?? 0);
    return { ...toPage('run', rows, size, (r) => ({ s: r.createdAt, id: r.id })), totalCount };
  });
}

/** Records that a task read or wrote a resource (TOUCHES), creating the Resource on first use. */
export async function recordTouch(
  graph: Graph,
  scope: Scope,
  input: { taskId: string; uri: string; kind: string; mode: 'read' | 'write'; at: Date },
): Promise<void> {
  await graph.write(async (tx) => {
    const result = await tx.run(
      `MATCH (t:Task {id: $taskId, tenantId: $tenantId, environment: $environment, region: $region})
       MERGE (res:Resource {tenantId: $tenantId, environment: $environment, region: $region, uri: $uri})
         ON CREATE SET res.id = 'res_' + randomUUID(), res.kind = $kind, res.createdAt = datetime($at)
       MERGE (t)-[touch:TOUCHES {mode: $mode}]->(res)
         ON CREATE SET touch.at = datetime($at)
       RETURN count(*) AS n`,
      { ...scope, ...input, at: input.at.toISOString() },
    );
    if (Number(result.records[0]?.get('n') ?? 0) === 0) {
      throw new AppError('NOT_FOUND', 'task not found', { field: ['taskId'] });
    }
  });
}

/** Workflows whose runs touched a resource (lineage), by name. */
export async function workflowsTouchingResource(graph: Graph, scope: Scope, uri: string): Promise<string[]> {
  return graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH (:Resource {tenantId: $tenantId, environment: $environment, region: $region, uri: $uri})
             <-[:TOUCHES]-(:Task)<-[:HAS_TASK]-(r:Run {tenantId: $tenantId, environment: $environment, region: $region})
       RETURN DISTINCT r.workflowName AS name ORDER BY name`,
      { ...scope, uri },
    );
    return result.records.map((r) => r.get('name') as string);
  });
}

export interface RunParticipants {
  initiator: string;
  approvers: Array<{ subject: string; verdict: string; reason: string; at: string; approvalId: string }>;
}

/** Who started a run and who decided its approvals, when and why — one traversal. */
export async function runParticipants(
  graph: Graph,
  scope: Scope,
  runId: string,
): Promise<RunParticipants | null> {
  return graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH (r:Run {id: $runId, tenantId: $tenantId, environment: $environment, region: $region})
             -[:INITIATED_BY]->(initiator:User)
       OPTIONAL MATCH (a:Approval)-[:GATES]->(r)
       OPTIONAL MATCH (a)-[d:DECIDED_BY]->(u:User)
       WITH initiator, a, d, u ORDER BY d.at
       RETURN initiator.subject AS initiator,
              [x IN collect(CASE WHEN d IS NULL THEN null ELSE
                 {subject: u.subject, verdict: d.verdict, reason: d.reason, at: toString(d.at), approvalId: a.id} END)
               WHERE x IS NOT NULL] AS approvers`,
      { ...scope, runId },
    );
    const row = result.records[0];
    return row
      ? {
          initiator: row.get('initiator') as string,
          approvers: row.get('approvers') as RunParticipants['approvers'],
        }
      : null;
  });
}
