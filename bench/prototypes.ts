// Rewrites of the slow reads, prototyped here (packages/graph is not ours to edit). They are
// applied as text transforms to the exact statements the repositories send (captured through
// recording-graph.ts), so the benchmark can (1) time today's statement against its rewrite,
// bare through the driver, and (2) serve the real API through a Graph that swaps the statements
// on the fly — the API's latency once the fixes land. Each transform is checked to return the
// same rows as the original before anything is timed (graph-scale.ts).
import neo4j from 'neo4j-driver';
import type { RecordedQuery } from './recording-graph.ts';

export type RewriteKind = 'timeline' | 'listRuns' | 'countRuns';

export interface RewriteOptions {
  /** countRuns: count at most this many matches (the UI shows "1,000+"). */
  countCap: number;
}

const RUN_SCOPE_MATCH = 'MATCH (r:Run {tenantId: $tenantId, environment: $environment, region: $region})';

/**
 * tasks.ts listTimeline: `WHERE $afterSeq IS NULL OR e.seq > $afterSeq` cannot be answered by
 * the (runId, seq) uniqueness index, so the planner scans every :TimelineEvent in the database
 * (NodeByLabelScan) for each run. A plain range on seq is an index seek, in seq order.
 */
const TIMELINE_WHERE = 'WHERE $afterSeq IS NULL OR e.seq > $afterSeq';
const TIMELINE_WHERE_NEW = 'WHERE e.seq > coalesce($afterSeq, -1)';

/**
 * runs.ts listRuns:
 *  1. `ORDER BY r.createdAt DESC, r.id DESC` does not let the planner use the order of
 *     run_scope_created (tenantId, environment, region, createdAt): it reads every run of the
 *     window (or of the scope) and sorts (Top). Leading the ORDER BY with the scope keys —
 *     constant within the match, so the order is the same — gives index order + PartialTop: it
 *     stops after `limit` matches.
 *  2. The cursor predicate is `$cursorAt IS NULL OR …`, which no index can seek; adding it only
 *     when there is a cursor, with `r.createdAt <= datetime($cursorAt)`, makes page N start at the
 *     cursor instead of re-reading the pages before it.
 */
const LIST_CURSOR =
  /\(\$cursorAt IS NULL OR r\.createdAt < datetime\(\$cursorAt\)\s+OR \(r\.createdAt = datetime\(\$cursorAt\) AND r\.id < \$cursorId\)\)/;
const LIST_ORDER = 'ORDER BY r.createdAt DESC, r.id DESC';
const LIST_ORDER_NEW =
  'ORDER BY r.tenantId DESC, r.environment DESC, r.region DESC, r.createdAt DESC, r.id DESC';

/**
 * runs.ts countRuns (RunConnection.totalCount): counts every match of the filter on every
 * request (all runs of a 14-day window are read to count them). Capped, it stops after
 * `countCap` matches.
 */
const COUNT_RETURN = 'RETURN count(r) AS n';

export function rewriteStatement(
  q: RecordedQuery,
  options: RewriteOptions,
): { kind: RewriteKind; q: RecordedQuery } | null {
  const text = q.query;
  if (text.includes('(e:TimelineEvent {runId: $runId') && text.includes(TIMELINE_WHERE)) {
    return {
      kind: 'timeline',
      q: { query: text.replace(TIMELINE_WHERE, TIMELINE_WHERE_NEW), params: q.params },
    };
  }
  if (text.includes(RUN_SCOPE_MATCH) && LIST_CURSOR.test(text) && text.includes(LIST_ORDER)) {
    const cursor =
      q.params.cursorAt === null || q.params.cursorAt === undefined
        ? 'r.createdAt IS NOT NULL'
        : '(r.createdAt <= datetime($cursorAt) AND (r.createdAt < datetime($cursorAt) OR r.id < $cursorId))';
    return {
      kind: 'listRuns',
      q: { query: text.replace(LIST_CURSOR, cursor).replace(LIST_ORDER, LIST_ORDER_NEW), params: q.params },
    };
  }
  if (text.includes(RUN_SCOPE_MATCH) && text.includes(COUNT_RETURN) && !text.includes('LIMIT')) {
    return {
      kind: 'countRuns',
      q: {
        query: text.replace(COUNT_RETURN, `WITH r LIMIT $countCap ${COUNT_RETURN}`),
        params: { ...q.params, countCap: neo4j.int(options.countCap) },
      },
    };
  }
  return null;
}

const unknown = new Set<RewriteKind>();

/**
 * The rewrite of a statement of the given kind, or the statement itself when the repository no
 * longer sends what the prototype knows (someone changed it: the comparison then shows ~1x and
 * `unrecognised()` names it, rather than failing the whole benchmark).
 */
export function rewriteOrSame(q: RecordedQuery, kind: RewriteKind, options: RewriteOptions): RecordedQuery {
  const r = rewriteStatement(q, options);
  if (r && r.kind === kind) return r.q;
  unknown.add(kind);
  return q;
}

export function unrecognised(): RewriteKind[] {
  return [...unknown];
}
