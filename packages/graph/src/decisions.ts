import { kindOfId, type Scope } from '@maestro/domain';
import neo4j from 'neo4j-driver';
import { decodeCursor, type Page, pageSize, toPage } from './cursor.ts';
import type { Graph } from './graph.ts';

export interface PolicyDecisionRecord {
  id: string;
  action: string;
  allow: boolean;
  requiresApproval: boolean;
  reasons: string[];
  bundleProfile: string;
  bundleRevision: string;
  bundleDigest: string;
  inputDigest: string;
  /** The canonical JSON input, kept so decisions can be replayed against a new bundle. */
  input: string;
  actor: string;
  actorRoles: string[];
  subjectId: string | null;
  evaluatedAt: string;
  latencyMs: number;
}

/** What a policy engine returns for one decision (structurally; graph does not import policy). */
export interface EngineDecision {
  id: string;
  allow: boolean;
  requiresApproval: boolean;
  reasons: string[];
  bundle: { profile: string; revision: string; digest: string };
  inputDigest: string;
  latencyMs: number;
}

/** The evidence record of a decision: what was asked (canonical input), by whom, about what. */
export function decisionRecordOf(
  decision: EngineDecision,
  context: {
    action: string;
    input: string;
    actor: string;
    actorRoles: string[];
    subjectId: string | null;
    at: Date;
  },
): PolicyDecisionRecord {
  return {
    id: decision.id,
    action: context.action,
    allow: decision.allow,
    requiresApproval: decision.requiresApproval,
    reasons: decision.reasons,
    bundleProfile: decision.bundle.profile,
    bundleRevision: decision.bundle.revision,
    bundleDigest: decision.bundle.digest,
    inputDigest: decision.inputDigest,
    input: context.input,
    actor: context.actor,
    actorRoles: context.actorRoles,
    subjectId: context.subjectId,
    evaluatedAt: context.at.toISOString(),
    latencyMs: decision.latencyMs,
  };
}

const FIELDS = `d { .id, .action, .allow, .requiresApproval, .reasons, .bundleProfile, .bundleRevision,
  .bundleDigest, .inputDigest, .input, .actor, .actorRoles, .subjectId, .latencyMs,
  evaluatedAt: toString(d.evaluatedAt) }`;

const SUBJECT_LABELS = new Set(['Run', 'Task', 'Workflow', 'WorkflowVersion', 'Schedule', 'Approval']);

/** The label of a decision subject, from its id prefix; only known labels are spliced into Cypher. */
function subjectLabel(subjectId: string | null): string | null {
  const kind = subjectId ? kindOfId(subjectId) : null;
  return kind && SUBJECT_LABELS.has(kind) ? kind : null;
}

/**
 * Stores a decision as evidence, linked to its actor (DECIDED_BY) and, when the subject
 * already exists in the graph, to it (DECIDED_ON).
 */
export async function recordDecision(
  graph: Graph,
  scope: Scope,
  decision: PolicyDecisionRecord,
): Promise<void> {
  const label = subjectLabel(decision.subjectId);
  await graph.write(async (tx) => {
    await tx.run(
      `CREATE (d:PolicyDecision {id: $d.id, tenantId: $tenantId, environment: $environment, region: $region,
                action: $d.action, allow: $d.allow, requiresApproval: $d.requiresApproval, reasons: $d.reasons,
                bundleProfile: $d.bundleProfile, bundleRevision: $d.bundleRevision, bundleDigest: $d.bundleDigest,
                inputDigest: $d.inputDigest, input: $d.input, actor: $d.actor, actorRoles: $d.actorRoles,
                subjectId: $d.subjectId, evaluatedAt: datetime($d.evaluatedAt), latencyMs: $d.latencyMs,
                createdAt: datetime($d.evaluatedAt)})
       MERGE (u:User {tenantId: $tenantId, subject: $d.actor})
         ON CREATE SET u.id = 'usr_' + randomUUID(), u.createdAt = datetime($d.evaluatedAt)
       CREATE (d)-[:DECIDED_BY]->(u)
       ${
         label
           ? `WITH d OPTIONAL MATCH (s:${label} {id: $d.subjectId, tenantId: $tenantId, environment: $environment, region: $region})
              FOREACH (_ IN CASE WHEN s IS NULL THEN [] ELSE [1] END | CREATE (d)-[:DECIDED_ON]->(s))`
           : ''
       }`,
      { ...scope, d: decision },
    );
  });
}

/** Links a decision to a subject created after it (e.g. the run a start decision allowed). */
export async function linkDecision(
  graph: Graph,
  scope: Scope,
  decisionId: string,
  subjectId: string,
): Promise<void> {
  const label = subjectLabel(subjectId);
  if (!label) return;
  await graph.write((tx) =>
    tx.run(
      `MATCH (d:PolicyDecision {id: $decisionId, tenantId: $tenantId, environment: $environment, region: $region})
       MATCH (s:${label} {id: $subjectId, tenantId: $tenantId, environment: $environment, region: $region})
       SET d.subjectId = $subjectId
       MERGE (d)-[:DECIDED_ON]->(s)`,
      { ...scope, decisionId, subjectId },
    ),
  );
}

export interface DecisionFilter {
  action?: string | null;
  allow?: boolean | null;
  subjectId?: string | null;
}

/**
 * Decisions newest first, keyset-paginated on (evaluatedAt, id). Predicates are added only when
 * set (an `$x IS NULL OR …` no index can answer): a subject's decisions are a seek on
 * policy_decision_scope_subject_id; otherwise the scope-led ORDER BY lets
 * policy_decision_scope_evaluated_at give the order without a sort.
 */
export async function listDecisions(
  graph: Graph,
  scope: Scope,
  filter: DecisionFilter,
  first: number | null | undefined,
  after: string | null | undefined,
): Promise<Page<PolicyDecisionRecord>> {
  const size = pageSize(first);
  const cursor = decodeCursor('pd', after);
  const where: string[] = ['d.evaluatedAt IS NOT NULL'];
  const params: Record<string, unknown> = { ...scope, limit: neo4j.int(size + 1) };
  if (filter.action !== null && filter.action !== undefined) {
    where.push('d.action = $action');
    params.action = filter.action;
  }
  if (filter.allow !== null && filter.allow !== undefined) {
    where.push('d.allow = $allow');
    params.allow = filter.allow;
  }
  if (filter.subjectId !== null && filter.subjectId !== undefined) {
    where.push('d.subjectId = $subjectId');
    params.subjectId = filter.subjectId;
  }
  if (cursor) {
    where.push(
      'd.evaluatedAt <= datetime($cursorAt) AND (d.evaluatedAt < datetime($cursorAt) OR d.id < $cursorId)',
    );
    Object.assign(params, { cursorAt: String(cursor.s), cursorId: cursor.id });
  }
  return graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH (d:PolicyDecision {tenantId: $tenantId, environment: $environment, region: $region})
       WHERE ${where.join(' AND ')}
       RETURN ${FIELDS} AS d
       ORDER BY d.tenantId DESC, d.environment DESC, d.region DESC, d.evaluatedAt DESC, d.id DESC
       LIMIT $limit`,
      params,
    );
    const rows = result.records.map((r) => r.get('d') as PolicyDecisionRecord);
    return toPage('pd', rows, size, (d) => ({ s: d.evaluatedAt, id: d.id }));
  });
}

/** Decisions by id within the scope (node lookup). */
export async function getDecisions(
  graph: Graph,
  scope: Scope,
  ids: readonly string[],
): Promise<PolicyDecisionRecord[]> {
  return graph.read(async (tx) => {
    const result = await tx.run(
      `UNWIND $ids AS id
       MATCH (d:PolicyDecision {id: id, tenantId: $tenantId, environment: $environment, region: $region})
       RETURN ${FIELDS} AS d`,
      { ...scope, ids: [...ids] },
    );
    return result.records.map((r) => r.get('d') as PolicyDecisionRecord);
  });
}
