import { parseDuration, type Scope } from '@maestro/domain';
import {
  advanceRun,
  type ClaimedTask,
  type CompletedStep,
  claimTask,
  completeTasks,
  type Dispatch,
  type EagerOptions,
  expireRun,
  failTask,
  type Graph,
  parkTask,
  releaseClaim,
  renewLease,
} from '@maestro/graph';
import { type JobPayload, type Producer, taskJobId } from '@maestro/queue';
import {
  classifyError,
  executeStep,
  isStepError,
  isStepWait,
  type StepGuard,
  type StepRegistry,
} from '@maestro/steps';
import { DelayedError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { RunningSteps } from './cancellation.ts';
import type { TenantSlots } from './fairness.ts';

export interface EngineOptions {
  workerId: string;
  /** A claim lapses this long after its last renewal (renewed every third of it). */
  leaseMs: number;
  /** Step timeout when the manifest sets none. */
  defaultStepTimeoutMs: number;
  /** The reconciler leaves work younger than this to its own jobs. */
  reconcileGraceMs: number;
  /** Reconcile only these tenants (a dedicated pool); null = all. */
  tenants: string[] | null;
}

export interface EngineDeps {
  graph: Graph;
  producer: Producer;
  registry: StepRegistry;
  slots: TenantSlots;
  running: RunningSteps;
  /** The per-step policy checks for one task (egress, models). */
  guardFor(task: ClaimedTask): StepGuard;
  logger: Logger;
  clock: () => Date;
  options: EngineOptions;
  /** In-process (eager) dispatch of tasks this worker makes ready; see `eagerDispatch`. */
  eager: EagerDispatch;
}

/**
 * Eager dispatch bookkeeping: tasks this process runs outside BullMQ (capped at `limit`), their
 * promises (a drain waits for them), and per-transaction reservations of local capacity and
 * tenant slots — a transaction that retries or rolls back gives back what it did not use.
 */
export interface EagerDispatch {
  /** Options for one graph call, and `settle` to run once it returned (or threw). */
  session(): { options: EagerOptions | undefined; settle(claimed: ClaimedTask[]): Promise<void> };
  inflight: Set<Promise<unknown>>;
  /** Stop claiming eagerly (drain). */
  stop(): void;
  /** A task ran to its end: its local and tenant slots are free. */
  done(task: ClaimedTask): Promise<void>;
}

export function eagerDispatch(
  slots: TenantSlots,
  options: { workerId: string; leaseMs: number; limit: number },
): EagerDispatch {
  const local = new Set<string>();
  let stopped = options.limit <= 0;
  return {
    inflight: new Set(),
    session() {
      if (stopped) return { options: undefined, settle: async () => {} };
      const reserved = new Map<string, string>(); // holder -> tenant
      return {
        options: {
          workerId: options.workerId,
          leaseMs: options.leaseMs,
          async reserve(scope, candidates) {
            const granted = new Set<string>();
            for (const c of candidates) {
              const holder = taskJobId(c.taskId, c.attempt);
              if (stopped || (!local.has(holder) && local.size >= options.limit)) break;
              if (!(await slots.acquire(scope.tenantId, holder))) break;
              local.add(holder);
              reserved.set(holder, scope.tenantId);
              granted.add(c.taskId);
            }
            return granted;
          },
        },
        async settle(claimed) {
          const used = new Set(claimed.map((t) => taskJobId(t.ref.taskId, t.ref.attempt)));
          for (const [holder, tenant] of reserved) {
            if (used.has(holder)) continue;
            local.delete(holder);
            await slots.release(tenant, holder).catch(() => {});
          }
        },
      };
    },
    stop() {
      stopped = true;
    },
    async done(task) {
      const holder = taskJobId(task.ref.taskId, task.ref.attempt);
      local.delete(holder);
      await slots.release(task.ref.tenantId, holder).catch(() => {});
    },
  };
}

/** Runs eagerly claimed tasks in this process, detached from the job that made them ready. */
function startEager(deps: EngineDeps, claimed: ClaimedTask[]): void {
  for (const task of claimed) {
    const holder = taskJobId(task.ref.taskId, task.ref.attempt);
    const running: Promise<unknown> = runClaimed(deps, task, holder)
      .catch((error: Error) =>
        deps.logger.warn(
          { taskId: task.ref.taskId, err: error.message },
          'eager task failed to record; lease will lapse',
        ),
      )
      .finally(() => {
        deps.eager.inflight.delete(running);
        return deps.eager.done(task);
      });
    deps.eager.inflight.add(running);
  }
}

/** A graph call with an eager session: reservations it did not use are given back either way. */
async function withEager<T extends { claimed: ClaimedTask[] }>(
  deps: EngineDeps,
  call: (eager: EagerOptions | undefined) => Promise<T>,
): Promise<T> {
  const session = deps.eager.session();
  let result: T | undefined;
  try {
    result = await call(session.options);
    return result;
  } finally {
    await session.settle(result?.claimed ?? []);
  }
}

/** Aborts a step because this worker is shutting down: the claim is handed back, not failed. */
export class DrainAbort extends Error {
  constructor() {
    super('worker is draining');
    this.name = 'DrainAbort';
  }
}

/**
 * Sends the queue what the graph said is next. A failed send is logged, not thrown: the graph
 * already holds the work and the reconciler re-sends what Redis lacks.
 */
export async function dispatchTasks(
  deps: EngineDeps,
  scope: Scope,
  runId: string,
  list: Dispatch[],
): Promise<void> {
  if (list.length === 0) return;
  try {
    await deps.producer.enqueueMany(
      'taskExecute',
      list.map((d) => ({
        payload: { ...scope, runId, taskId: d.taskId, attempt: d.attempt },
        options: { jobId: taskJobId(d.taskId, d.attempt), delay: d.delayMs },
      })),
    );
  } catch (error) {
    deps.logger.warn(
      { runId, tasks: list.length, err: (error as Error).message },
      'dispatch failed; reconciler will resend',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Orchestrator: run.advance and run.deadline.

export async function handleRunAdvance(
  deps: EngineDeps,
  payload: JobPayload<'runAdvance'>,
): Promise<unknown> {
  const { runId, ...scope } = payload;
  const result = await withEager(deps, (eager) => advanceRun(deps.graph, scope, runId, deps.clock(), eager));
  await dispatchTasks(deps, scope, runId, result.dispatch);
  startEager(deps, result.claimed);
  if (result.deadlineAt && result.status === 'RUNNING') {
    const delay = Math.max(0, Date.parse(result.deadlineAt) - Date.now());
    await deps.producer
      .enqueue('runDeadline', payload, { jobId: `deadline.${runId}`, delay })
      .catch((error: Error) =>
        deps.logger.warn({ runId, err: error.message }, 'deadline not scheduled; reconciler will'),
      );
  }
  return { status: result.status, queued: result.dispatch.length, eager: result.claimed.length };
}

export async function handleRunDeadline(
  deps: EngineDeps,
  payload: JobPayload<'runDeadline'>,
): Promise<unknown> {
  const { runId, ...scope } = payload;
  const expired = await expireRun(deps.graph, scope, runId, deps.clock());
  if (expired) await signalCancel(deps, runId);
  return { expired };
}

export async function signalCancel(deps: EngineDeps, runId: string): Promise<void> {
  deps.running.abortRun(runId, new Error('run ended'));
  await deps.producer.signalCancel(runId).catch(() => {});
}

// ---------------------------------------------------------------------------------------------
// Completion batching: results of one run's steps are recorded together.

interface RunQueue {
  pending: {
    step: CompletedStep;
    resolve(v: { recorded: boolean; runStatus: string | null }): void;
    reject(e: unknown): void;
  }[];
  busy: boolean;
}
const completionQueues = new WeakMap<EngineDeps, Map<string, RunQueue>>();

/**
 * Records a step result. The first result of a run is written at once; results of the same run
 * that arrive while that write is in flight are written together by the next transaction (one
 * lock, one plan), so a wide fan-out does not queue its completions one by one on the run lock.
 */
function completeBatched(
  deps: EngineDeps,
  step: CompletedStep,
): Promise<{ recorded: boolean; runStatus: string | null }> {
  let queues = completionQueues.get(deps);
  if (!queues) {
    queues = new Map();
    completionQueues.set(deps, queues);
  }
  const runId = step.task.ref.runId;
  const queue = queues.get(runId) ?? { pending: [], busy: false };
  queues.set(runId, queue);
  return new Promise((resolve, reject) => {
    queue.pending.push({ step, resolve, reject });
    if (!queue.busy) void flushCompletions(deps, queues, runId, queue);
  });
}

async function flushCompletions(
  deps: EngineDeps,
  queues: Map<string, RunQueue>,
  runId: string,
  queue: RunQueue,
): Promise<void> {
  queue.busy = true;
  try {
    while (queue.pending.length > 0) {
      const batch = queue.pending.splice(0, 500);
      const { ref } = (batch[0] as RunQueue['pending'][number]).step.task;
      const scope = { tenantId: ref.tenantId, environment: ref.environment, region: ref.region, runId };
      try {
        const out = await withEager(deps, (eager) =>
          completeTasks(
            deps.graph,
            scope,
            batch.map((b) => b.step),
            deps.clock(),
            eager,
          ),
        );
        await dispatchTasks(deps, ref, runId, out.dispatch);
        startEager(deps, out.claimed);
        for (const [i, b] of batch.entries()) {
          b.resolve({ recorded: out.recorded[i] === true, runStatus: out.runStatus });
        }
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
  } finally {
    queue.busy = false;
    if (queue.pending.length === 0) queues.delete(runId);
  }
}

// ---------------------------------------------------------------------------------------------
// Executor: task.execute.

/** Moves the job back to delayed until `at` (never counts as an attempt). */
async function later(job: Job, token: string | undefined, at: number): Promise<never> {
  await job.moveToDelayed(Math.max(at, Date.now() + 10), token);
  throw new DelayedError();
}

export async function handleTaskExecute(
  deps: EngineDeps,
  payload: JobPayload<'taskExecute'>,
  job: Job,
  token: string | undefined,
): Promise<unknown> {
  const holder = taskJobId(payload.taskId, payload.attempt);
  if (!(await deps.slots.acquire(payload.tenantId, holder))) {
    // The tenant is at its cap: wait a moment (spread out) while other tenants' tasks run.
    return later(job, token, Date.now() + 50 + Math.floor(Math.random() * 250));
  }
  try {
    const claim = await claimTask(deps.graph, payload, {
      workerId: deps.options.workerId,
      leaseMs: deps.options.leaseMs,
      at: deps.clock(),
    });
    if (!claim.claimed) {
      if (claim.reason === 'later') return await later(job, token, claim.retryAt.getTime());
      return { skipped: claim.status };
    }
    return await runClaimed(deps, claim.task, holder);
  } finally {
    await deps.slots.release(payload.tenantId, holder).catch(() => {});
  }
}

/** Aborts a step because its run's deadline passed: the run fails as timed out, not the step. */
class RunDeadlineAbort extends Error {
  constructor() {
    super('run deadline passed');
    this.name = 'RunDeadlineAbort';
  }
}

/** The step's own timeout, or the time left before the run's deadline when that comes first. */
function stepTimeout(deps: EngineDeps, task: ClaimedTask): { ms: number; runDeadline: boolean } {
  const own = task.step.timeout ? parseDuration(task.step.timeout) : deps.options.defaultStepTimeoutMs;
  const runLeft = task.runDeadlineAt
    ? Date.parse(task.runDeadlineAt) - Date.now() + 5
    : Number.POSITIVE_INFINITY;
  return runLeft < own
    ? { ms: Math.max(1, runLeft), runDeadline: true }
    : { ms: Math.max(1, own), runDeadline: false };
}

async function runClaimed(deps: EngineDeps, task: ClaimedTask, holder: string): Promise<unknown> {
  const { graph, clock, logger } = deps;
  const { ref } = task;
  const controller = new AbortController();
  const unregister = deps.running.register(ref.runId, controller);
  const timeout = stepTimeout(deps, task);
  const timeoutMs = timeout.ms;
  const timer = setTimeout(
    () =>
      controller.abort(
        timeout.runDeadline
          ? new RunDeadlineAbort()
          : new DOMException(`step timed out after ${timeoutMs} ms`, 'TimeoutError'),
      ),
    timeoutMs,
  );
  const heartbeat = setInterval(
    () => {
      renewLease(graph, task, deps.options.leaseMs, clock()).then(
        (held) => {
          if (!held) controller.abort(new Error('claim lost (cancelled or taken over)'));
        },
        (error: Error) => logger.warn({ taskId: ref.taskId, err: error.message }, 'lease renewal failed'),
      );
      deps.slots.renew(ref.tenantId, holder).catch(() => {});
    },
    Math.max(50, Math.floor(deps.options.leaseMs / 3)),
  );
  try {
    let result: Awaited<ReturnType<typeof executeStep>>;
    try {
      result = await executeStep(deps.registry.require(task.uses), task.input, {
        signal: controller.signal,
        idempotencyKey: task.idempotencyKey,
        attempt: ref.attempt,
        runId: ref.runId,
        taskId: ref.taskId,
        tenantId: ref.tenantId,
        environment: ref.environment,
        region: ref.region,
        deadline: Date.now() + timeoutMs,
        guard: deps.guardFor(task),
      });
    } catch (error) {
      if (controller.signal.reason instanceof DrainAbort) {
        await releaseClaim(graph, task, clock());
        return { released: true };
      }
      if (controller.signal.reason instanceof RunDeadlineAbort) {
        const expired = await expireRun(graph, ref, ref.runId, clock());
        if (expired) await signalCancel(deps, ref.runId);
        return { expired };
      }
      const stepError = isStepError(error) ? error : classifyError(error);
      const outcome = await failTask(
        graph,
        task,
        {
          code: stepError.code,
          message: stepError.message,
          retryable: stepError.retryable,
          ...(stepError.retryAfterMs !== undefined ? { retryAfterMs: stepError.retryAfterMs } : {}),
        },
        { at: clock() },
      );
      await dispatchTasks(deps, ref, ref.runId, outcome.dispatch);
      return { failed: stepError.code, retryInMs: outcome.retryInMs, recorded: outcome.recorded };
    }
    // Recording errors (graph down) are not step failures: they propagate, BullMQ retries the
    // job, and the step runs again under a new claim — its result was never recorded.
    clearInterval(heartbeat);
    if (isStepWait(result)) {
      const parked = await parkTask(graph, task, result.wait, clock());
      return { waiting: parked.approvalId };
    }
    const outcome = await completeBatched(deps, {
      task,
      output: result.output,
      costUSD: result.costUSD ?? 0,
      actor: deps.options.workerId,
    });
    return { recorded: outcome.recorded, run: outcome.runStatus };
  } catch (error) {
    await releaseClaim(graph, task, clock()).catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
    clearInterval(heartbeat);
    unregister();
  }
}
