import type { Scope } from '@maestro/domain';
import type { ManagedTransaction } from 'neo4j-driver';

/** One state change for a run's timeline. */
export interface NewEvent {
  type: string;
  subjectId: string;
  from: string | null;
  to: string | null;
  message: string | null;
}

/**
 * Appends events to a run's timeline inside the caller's write transaction, in order: `seq`
 * comes from the counter on the run node, whose write lock keeps it gap-free. One statement
 * whatever the number of events.
 */
export async function appendEvents(
  tx: ManagedTransaction,
  scope: Scope,
  runId: string,
  events: NewEvent[],
  at: Date,
  actor: string | null,
): Promise<void> {
  if (events.length === 0) return;
  await tx.run(
    `MATCH (r:Run {id: $runId, tenantId: $tenantId, environment: $environment, region: $region})
     WITH r, coalesce(r.lastSeq, 0) AS base
     SET r.lastSeq = base + size($events), r.updatedAt = datetime($at)
     WITH r, base
     UNWIND range(0, size($events) - 1) AS i
     WITH r, base, i, $events[i] AS ev
     CREATE (r)-[:HAS_EVENT]->(:TimelineEvent {id: 'evt_' + randomUUID(), tenantId: r.tenantId,
       environment: r.environment, region: r.region, runId: r.id, seq: base + 1 + i, at: datetime($at),
       createdAt: datetime($at), type: ev.type, subjectId: ev.subjectId, from: ev.from, to: ev.to,
       message: ev.message, actor: $actor})`,
    { ...scope, runId, events, at: at.toISOString(), actor },
  );
}
