import { expireRun, findStrandedWork, releaseClaimsOf } from '@maestro/graph';
import { jobs, taskJobId } from '@maestro/queue';
import { type EngineDeps, signalCancel } from './engine.ts';

// The reconciler: rebuilds queue state from the graph (ADR 0005).

const LIVE_STATES = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

/**
 * Rebuilds queue state from the graph: starts PENDING runs, looks again at RUNNING runs with
 * nothing in flight, expires runs past their deadline, and re-sends task jobs Redis lost or
 * that belong to a dead worker (lapsed lease). Safe to run any time, on any number of workers.
 */
export async function reconcile(
  deps: EngineDeps,
  graceMs = deps.options.reconcileGraceMs,
  /** The first pass of a (re)started worker. */
  startup = false,
): Promise<{
  runs: number;
  expired: number;
  tasks: number;
}> {
  const at = deps.clock();
  const work = await findStrandedWork(deps.graph, {
    at,
    graceMs,
    limit: 1000,
    tenants: deps.options.tenants,
  });
  for (const r of work.runs) {
    const { runId, ...scope } = r;
    await deps.producer.enqueue('runAdvance', { ...scope, runId });
  }
  let expired = 0;
  for (const r of work.expired) {
    const { runId, ...scope } = r;
    if (await expireRun(deps.graph, scope, runId, at)) {
      expired++;
      await signalCancel(deps, runId);
    }
  }
  const queue = deps.producer.queue(jobs.taskExecute.queue);
  let resent = 0;
  for (const t of work.tasks) {
    const jobId = taskJobId(t.taskId, t.attempt);
    const job = await queue.getJob(jobId);
    const state = job ? await job.getState() : 'missing';
    if (LIVE_STATES.has(state)) continue;
    // Active and QUEUED: a worker is claiming it now — unless that worker was this worker id's
    // previous incarnation (start-up), whose lock would only expire after lockDuration.
    const orphaned = startup && job?.processedBy === deps.options.workerId;
    if (state === 'active' && t.status === 'QUEUED' && !orphaned) continue;
    let id = jobId;
    if (job && state !== 'active') {
      await job.remove().catch(() => {
        id = `${jobId}.r${Date.now()}`;
      });
    } else if (job) {
      // Active under a dead worker's lock: BullMQ would only notice once the lock expires.
      id = `${jobId}.r${Date.now()}`;
    }
    const { notBefore, status: _status, ...ref } = t;
    const delay = notBefore ? Math.max(0, Date.parse(notBefore) - at.getTime()) : 0;
    await deps.producer.enqueue('taskExecute', ref, { jobId: id, delay });
    resent++;
  }
  if (work.runs.length + expired + resent > 0) {
    deps.logger.info({ runs: work.runs.length, expired, tasks: resent }, 'reconciled');
  }
  return { runs: work.runs.length, expired, tasks: resent };
}

/**
 * At start-up: this worker id's previous incarnation is dead, so its claims lapse now and the
 * tenant slots it held are freed (instead of when they expire).
 */
export async function takeOverOwnClaims(deps: EngineDeps): Promise<number> {
  const released = await releaseClaimsOf(deps.graph, deps.options.workerId, deps.clock());
  for (const t of released)
    await deps.slots.release(t.tenantId, taskJobId(t.taskId, t.attempt)).catch(() => {});
  return released.length;
}
