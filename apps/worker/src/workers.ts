import type { PrismaClient } from '@maestro/db';
import type { Graph } from '@maestro/graph';
import type { PolicyEngine } from '@maestro/policy';
import {
  createProducer,
  createRedis,
  type JobName,
  type JobPayload,
  jobs,
  type Producer,
} from '@maestro/queue';
import { type BuiltinStepOptions, builtinSteps, createStepRegistry, type StepType } from '@maestro/steps';
import { type Job, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { runningSteps } from './engine/cancellation.ts';
import {
  DrainAbort,
  type EngineDeps,
  eagerDispatch,
  handleRunAdvance,
  handleRunDeadline,
  handleTaskExecute,
} from './engine/engine.ts';
import { tenantSlots } from './engine/fairness.ts';
import { reconcile, takeOverOwnClaims } from './engine/reconciler.ts';
import { handleScheduleFire, syncSchedules } from './engine/scheduler.ts';
import { systemPing } from './handlers/system-ping.ts';
import { createPolicyStepGuard } from './step-guard.ts';

export interface EngineResources {
  graph: Graph;
  policy: PolicyEngine;
  /** Tenants and members (Postgres): the scheduler runs only with it. */
  db?: PrismaClient;
  /** Configuration of the built-in step types (LLM endpoint, exec PATH, HTTP limits). */
  steps?: BuiltinStepOptions;
  /** Extra step types (tests, plugins); a type with a built-in's name replaces it. */
  extraSteps?: StepType[];
  /** Tasks this process runs at once. Default 16. */
  taskConcurrency?: number;
  /** Running tasks per tenant across all workers (fair dispatch). Default 8. */
  tenantTaskLimit?: number;
  /**
   * Tasks this process may run eagerly — claimed in the transaction that made them ready, run
   * without a queue round trip — besides those it takes from BullMQ. 0 turns eager dispatch
   * off. Default: taskConcurrency.
   */
  eagerLimit?: number;
  /** Claim lease; a dead worker's tasks resume after it lapses. Default 6 s. */
  leaseMs?: number;
  defaultStepTimeoutMs?: number;
  /**
   * Tenants whose stranded work this worker's reconciler re-sends (a dedicated pool); all
   * tenants when unset.
   */
  tenants?: string[];
  /** Reconciler period; 0 runs it only at start-up. Default 5 s. */
  reconcileEveryMs?: number;
  reconcileGraceMs?: number;
  /** How long a drain waits for running steps before handing their claims back. Default 30 s. */
  drainTimeoutMs?: number;
  clock?: () => Date;
}

export interface WorkerResources {
  redisUrl: string;
  /** BullMQ key prefix (see RedisOptions.prefix); the API must use the same. */
  queuePrefix?: string;
  workerId: string;
  concurrency: number;
  logger: Logger;
  /** Without it only the system queue is served (the walking skeleton). */
  engine?: EngineResources;
}

export interface RunningWorkers {
  workers: Worker[];
  /** The engine's wiring (absent without `engine`), for tests and benchmarks. */
  engine: EngineDeps | null;
  /** Resolves once start-up reconciliation has run. */
  ready: Promise<void>;
  /** Graceful drain: stop taking jobs, let running ones finish (or hand them back), close connections. */
  close(): Promise<void>;
}

type Envelope = { v: number; payload: unknown };

function parsed<N extends JobName>(name: N, job: Job<Envelope>): JobPayload<N> {
  return jobs[name].payload.parse(job.data.payload) as JobPayload<N>;
}

export function startWorkers(resources: WorkerResources): RunningWorkers {
  const { logger, workerId } = resources;
  const prefix = resources.queuePrefix ? { prefix: resources.queuePrefix } : {};
  const workers: Worker[] = [];
  const watch = (worker: Worker) => {
    worker.on('failed', (job, error) =>
      logger.warn({ queue: worker.name, jobId: job?.id, err: error.message }, 'job failed'),
    );
    worker.on('error', (error) => logger.error({ queue: worker.name, err: error.message }, 'worker error'));
    workers.push(worker);
    return worker;
  };
  watch(
    new Worker(
      jobs.systemPing.queue,
      async (job: Job<Envelope>) => systemPing(parsed('systemPing', job), workerId),
      {
        connection: createRedis({ url: resources.redisUrl }),
        ...prefix,
        concurrency: resources.concurrency,
      },
    ),
  );
  if (!resources.engine) {
    return {
      workers,
      engine: null,
      ready: Promise.resolve(),
      close: async () => {
        await Promise.all(workers.map((w) => w.close()));
      },
    };
  }
  const engine = resources.engine;
  const producer: Producer = createProducer({ url: resources.redisUrl, ...prefix });
  const slotsRedis = createRedis({ url: resources.redisUrl });
  const subscriber = createRedis({ url: resources.redisUrl });
  const running = runningSteps(subscriber);
  const leaseMs = engine.leaseMs ?? 6_000;
  const clock = engine.clock ?? (() => new Date());
  const builtins = builtinSteps(engine.steps);
  const extra = new Map((engine.extraSteps ?? []).map((s) => [s.uses, s]));
  const registry = createStepRegistry([...builtins.filter((s) => !extra.has(s.uses)), ...extra.values()]);
  const slots = tenantSlots(slotsRedis, { limit: engine.tenantTaskLimit ?? 8, ttlMs: leaseMs * 2 });
  const taskConcurrency = engine.taskConcurrency ?? 16;
  const deps: EngineDeps = {
    graph: engine.graph,
    producer,
    registry,
    slots,
    eager: eagerDispatch(slots, {
      workerId,
      leaseMs,
      limit: engine.eagerLimit ?? taskConcurrency,
    }),
    running,
    guardFor: (task) =>
      createPolicyStepGuard(
        { policy: engine.policy, graph: engine.graph, clock },
        {
          scope: task.ref,
          runId: task.ref.runId,
          taskId: task.ref.taskId,
          uses: task.uses,
          actor: { subject: task.initiatedBy, roles: task.initiatorRoles },
        },
      ),
    logger,
    clock,
    options: {
      workerId,
      leaseMs,
      defaultStepTimeoutMs: engine.defaultStepTimeoutMs ?? 30 * 60_000,
      reconcileGraceMs: engine.reconcileGraceMs ?? 3_000,
      tenants: engine.tenants ?? null,
    },
  };
  watch(
    new Worker(
      jobs.runAdvance.queue,
      async (job: Job<Envelope>) =>
        job.name === jobs.runDeadline.id
          ? handleRunDeadline(deps, parsed('runDeadline', job))
          : handleRunAdvance(deps, parsed('runAdvance', job)),
      { connection: createRedis({ url: resources.redisUrl }), ...prefix, concurrency: resources.concurrency },
    ),
  );
  watch(
    new Worker(
      jobs.taskExecute.queue,
      async (job: Job<Envelope>, token?: string) =>
        handleTaskExecute(deps, parsed('taskExecute', job), job, token),
      {
        connection: createRedis({ url: resources.redisUrl }),
        ...prefix,
        concurrency: taskConcurrency,
        // Jobs record which worker took them (processedBy): a restart spots its old jobs.
        name: workerId,
        // Stalled jobs (a killed worker's) come back within seconds; the graph claim, not the
        // BullMQ attempt count, guards against running a step twice, so stalls are not capped low.
        lockDuration: 10_000,
        stalledInterval: 5_000,
        maxStalledCount: 1_000,
      },
    ),
  );
  const db = engine.db;
  if (db) {
    const schedulerDeps = { ...deps, db, policy: engine.policy };
    watch(
      new Worker(
        jobs.scheduleFire.queue,
        async (job: Job<Envelope>) => handleScheduleFire(schedulerDeps, parsed('scheduleFire', job), job),
        {
          connection: createRedis({ url: resources.redisUrl }),
          ...prefix,
          concurrency: resources.concurrency,
        },
      ),
    );
  }
  let timer: NodeJS.Timeout | undefined;
  let reconciling = false;
  const sweep = async (graceMs?: number, startup = false) => {
    if (reconciling) return;
    reconciling = true;
    try {
      await reconcile(deps, graceMs, startup);
      if (db) await syncSchedules(deps);
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'reconcile failed; will retry');
    } finally {
      reconciling = false;
    }
  };
  const ready = (async () => {
    try {
      const released = await takeOverOwnClaims(deps);
      if (released > 0) logger.info({ released }, 'took over claims of this worker id');
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'could not release previous claims');
    }
    // Lapsed claims are resent at once; other stranded work after a short grace.
    await sweep(Math.min(engine.reconcileGraceMs ?? 3_000, 1_000), true);
  })();
  const every = engine.reconcileEveryMs ?? 5_000;
  if (every > 0) timer = setInterval(() => void sweep(), every);
  return {
    workers,
    engine: deps,
    ready,
    async close() {
      if (timer) clearInterval(timer);
      deps.eager.stop();
      const drainTimer = setTimeout(
        () => running.abortAll(new DrainAbort()),
        engine.drainTimeoutMs ?? 30_000,
      );
      try {
        await Promise.all(workers.map((w) => w.close()));
        // Eagerly dispatched steps run outside BullMQ: wait for them too (or hand them back).
        while (deps.eager.inflight.size > 0) await Promise.allSettled([...deps.eager.inflight]);
      } finally {
        clearTimeout(drainTimer);
      }
      await ready.catch(() => {});
      await Promise.all([
        producer.close(),
        running.close(),
        slotsRedis.quit().catch(() => slotsRedis.disconnect()),
      ]);
    },
  };
}
