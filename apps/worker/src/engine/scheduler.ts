import {
  checkedParams,
  createStartedRun,
  decideStart,
  type GateContext,
  resolveVersion,
} from '@maestro/control';
import { getMember, getTenant, type PrismaClient } from '@maestro/db';
import { AppErrors, estimateRun, isAppError, type Manifest, nextRunAt } from '@maestro/domain';
import { getSchedule, listEnabledSchedules, markScheduleFired } from '@maestro/graph';
import type { PolicyEngine } from '@maestro/policy';
import { type JobPayload, jobs } from '@maestro/queue';
import type { Job } from 'bullmq';
import type { EngineDeps } from './engine.ts';

export interface SchedulerDeps extends EngineDeps {
  db: PrismaClient;
  policy: PolicyEngine;
}

/**
 * Mirrors the graph's enabled Schedules into BullMQ job schedulers (cron + IANA time zone), so
 * Redis fires them; adds new or changed ones and removes those disabled or deleted. The graph
 * stays the truth: after a Redis flush the next pass rebuilds them all.
 */
export async function syncSchedules(deps: EngineDeps): Promise<{ upserted: number; removed: number }> {
  const schedules = await listEnabledSchedules(deps.graph, { tenants: deps.options.tenants });
  const queue = deps.producer.queue(jobs.scheduleFire.queue);
  const existing = new Map((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s]));
  let upserted = 0;
  for (const s of schedules) {
    const current = existing.get(s.id);
    existing.delete(s.id);
    if (current?.pattern === s.cron && current.tz === s.timezone) continue;
    const payload: JobPayload<'scheduleFire'> = {
      tenantId: s.tenantId,
      environment: s.environment,
      region: s.region,
      scheduleId: s.id,
    };
    await queue.upsertJobScheduler(
      s.id,
      { pattern: s.cron, tz: s.timezone },
      {
        name: jobs.scheduleFire.id,
        data: { v: jobs.scheduleFire.version, payload },
        opts: {
          attempts: jobs.scheduleFire.attempts,
          backoff: { type: 'exponential', delay: jobs.scheduleFire.backoffMs },
          removeOnComplete: { age: 24 * 3600, count: 1000 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      },
    );
    upserted++;
  }
  let removed = 0;
  for (const [key, scheduler] of existing) {
    const tenantId = (scheduler.template?.data as { payload?: { tenantId?: string } } | undefined)?.payload
      ?.tenantId;
    if (deps.options.tenants && (!tenantId || !deps.options.tenants.includes(tenantId))) continue;
    await queue.removeJobScheduler(key);
    removed++;
  }
  if (upserted + removed > 0) deps.logger.info({ upserted, removed }, 'schedules synced');
  return { upserted, removed };
}

/** When this firing was due: job schedulers name their jobs `repeat:<id>:<millis>`. */
function firedAt(job: Job): Date {
  const millis = /:(\d{10,})$/.exec(String(job.id))?.[1];
  return new Date(millis ? Number(millis) : job.timestamp);
}

/**
 * A schedule fired: start a run of its workflow (latest version, the schedule's params) on
 * behalf of the schedule's creator with the creator's *current* membership roles, gated by
 * `start_workflow` like an API start and recorded as evidence. The idempotency key
 * `schedule.<id>.<millis>` makes a redelivered firing return the same run.
 */
export async function handleScheduleFire(
  deps: SchedulerDeps,
  payload: JobPayload<'scheduleFire'>,
  job: Job,
): Promise<unknown> {
  const { scheduleId, ...scope } = payload;
  const at = firedAt(job);
  const schedule = await getSchedule(deps.graph, scope, scheduleId);
  if (!schedule?.enabled) return { skipped: schedule ? 'disabled' : 'deleted' };
  const next = nextRunAt({ cron: schedule.cron, timezone: schedule.timezone }, at);
  const tenant = await getTenant(deps.db, scope.tenantId);
  const member = schedule.createdBy ? await getMember(deps.db, scope.tenantId, schedule.createdBy) : null;
  if (!tenant) return { skipped: 'tenant gone' };
  const ctx: GateContext = {
    // A creator who left the tenant acts with no roles: policy denies, and the denial is kept.
    actor: { subject: schedule.createdBy ?? 'schedule', roles: member ? [member.role] : [] },
    tenant,
    scope,
    resources: { graph: deps.graph, policy: deps.policy, clock: deps.clock },
  };
  try {
    const version = await resolveVersion(ctx, schedule.workflowName, null);
    const manifest = version.manifest as Manifest;
    const params = checkedParams(manifest, schedule.params);
    const decision = await decideStart(ctx, manifest, params, estimateRun(manifest, params).totalUSD, false);
    if (!decision.allow) {
      await markScheduleFired(deps.graph, scope, scheduleId, at, next);
      deps.logger.warn({ scheduleId, reasons: decision.reasons }, 'scheduled start denied by policy');
      return { denied: decision.reasons, decision: decision.id };
    }
    const idempotencyKey = `schedule.${scheduleId}.${at.getTime()}`;
    const { run, created } = await createStartedRun(
      ctx,
      { version, manifest, params, idempotencyKey },
      decision,
    );
    await markScheduleFired(deps.graph, scope, scheduleId, at, next);
    if (created && run.status === 'PENDING')
      await deps.producer.enqueue('runAdvance', { ...scope, runId: run.id });
    return { runId: run.id, created, status: run.status };
  } catch (error) {
    // Bad params or a deleted workflow will not heal by retrying: record the firing and move on.
    const code = error instanceof AppErrors ? 'VALIDATION' : isAppError(error) ? error.code : null;
    if (code !== null && code !== 'SERVICE_UNAVAILABLE') {
      await markScheduleFired(deps.graph, scope, scheduleId, at, next);
      deps.logger.warn({ scheduleId, code, err: (error as Error).message }, 'scheduled start failed');
      return { failed: code };
    }
    throw error;
  }
}
