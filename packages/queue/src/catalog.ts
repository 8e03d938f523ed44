import { z } from 'zod';

/**
 * The job catalog shared by api and worker: id, version, payload schema, retry and timeout.
 * Handlers live in the worker beside each other; producers only see this file.
 */
export interface JobDefinition<S extends z.ZodType> {
  id: string;
  version: number;
  queue: string;
  payload: S;
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
}

function defineJob<S extends z.ZodType>(def: JobDefinition<S>): JobDefinition<S> {
  return def;
}

const id = z.string().min(1).max(200);
const scoped = { tenantId: id, environment: z.string().min(1).max(64), region: z.string().min(1).max(64) };

/**
 * Engine jobs retry on their own for a while (the graph briefly unreachable); the reconciler
 * re-sends anything that still fails.
 */
const ENGINE_RETRY = { attempts: 12, backoffMs: 250 } as const;

/** A job about one run, on the orchestrator's queue. */
function runJob(jobId: string) {
  return defineJob({
    id: jobId,
    version: 1,
    queue: 'maestro-runs',
    payload: z.object({ ...scoped, runId: id }),
    timeoutMs: 30_000,
    ...ENGINE_RETRY,
  });
}

export const jobs = {
  /** Liveness round trip: proves a worker consumes from Redis. */
  systemPing: defineJob({
    id: 'system.ping',
    version: 1,
    queue: 'maestro-system',
    payload: z.object({ nonce: z.string().min(1).max(200), requestedAt: z.iso.datetime() }),
    attempts: 1,
    backoffMs: 0,
    timeoutMs: 5_000,
  }),
  /**
   * Look at a run: start it when PENDING, queue its ready tasks, finish it when done. Idempotent;
   * sent by startRun, after approvals and reruns, and by the reconciler. Attempts cover the
   * graph being briefly unavailable.
   */
  runAdvance: runJob('run.advance'),
  /** Fires at a run's deadline (manifest `timeout`): a run still RUNNING then FAILS. */
  runDeadline: runJob('run.deadline'),
  /**
   * Execute one attempt of a task. The job only says what to look at: the executor claims the
   * task in the graph first, so a redelivered or duplicate job never runs a recorded step.
   * Job id `<taskId>.<attempt>` de-duplicates sends of the same attempt.
   */
  taskExecute: defineJob({
    id: 'task.execute',
    version: 1,
    queue: 'maestro-tasks',
    payload: z.object({ ...scoped, runId: id, taskId: id, attempt: z.number().int().min(1).max(1_000_000) }),
    ...ENGINE_RETRY,
    timeoutMs: 24 * 3600_000,
  }),
  /**
   * A Schedule firing (BullMQ job scheduler mirrored from the graph): starts a run of the
   * scheduled workflow on behalf of the schedule's creator, policy-gated like any start.
   */
  scheduleFire: defineJob({
    id: 'schedule.fire',
    version: 1,
    queue: 'maestro-schedules',
    payload: z.object({ ...scoped, scheduleId: id }),
    ...ENGINE_RETRY,
    timeoutMs: 60_000,
  }),
} as const;

/** The job id of one attempt of a task (BullMQ ids may not contain ':'). */
export function taskJobId(taskId: string, attempt: number): string {
  return `${taskId}.${attempt}`;
}

export type JobName = keyof typeof jobs;
export type JobPayload<N extends JobName> = z.infer<(typeof jobs)[N]['payload']>;
