import {
  AppError,
  digestOf,
  type EngineTask,
  type EngineTaskStatus,
  type Manifest,
  type ManifestStep,
  parseDuration,
  planAdvance,
  referencedSteps,
  retryDelayMs,
  retryPolicy,
  type Scope,
  type TaskChange,
} from '@maestro/domain';
import neo4j, { type ManagedTransaction } from 'neo4j-driver';
import { appendEvents, type NewEvent } from './events.ts';
import type { Graph } from './graph.ts';

/**
 * The engine's graph transactions. The graph is the truth: every state change of a run or a
 * task (started, claimed, succeeded, retried, failed, waiting, finished) is one transaction
 * that also appends its timeline events, and returns what the queue should look at next
 * (`Dispatch`). The run node's write lock serialises changes to one run.
 */

export interface TaskRef extends Scope {
  runId: string;
  taskId: string;
  attempt: number;
}

/** A task the queue should (re)deliver, `delayMs` from now. */
export interface Dispatch {
  taskId: string;
  attempt: number;
  delayMs: number;
}

export interface AdvanceResult {
  status: string;
  deadlineAt: string | null;
  dispatch: Dispatch[];
}

const TERMINAL_RUN = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED'];
const dt = (at: Date) => neo4j.types.DateTime.fromStandardDate(at);

// ---------------------------------------------------------------------------------------------
// Manifests are immutable per version, so they are parsed once per process.

interface CachedVersion {
  manifest: Manifest;
  digest: string;
  refs: Set<string>;
  steps: Map<string, ManifestStep>;
  timeoutMs: number | null;
}
const versions = new Map<string, CachedVersion>();
const MAX_CACHED_VERSIONS = 1000;

async function versionOf(tx: ManagedTransaction, scope: Scope, versionId: string): Promise<CachedVersion> {
  const hit = versions.get(`${scope.tenantId}/${versionId}`);
  if (hit) return hit;
  const result = await tx.run(
    `MATCH (v:WorkflowVersion {id: $versionId, tenantId: $tenantId, environment: $environment, region: $region})
     RETURN v.manifest AS manifest, v.digest AS digest`,
    { ...scope, versionId },
  );
  const row = result.records[0];
  if (!row) throw new AppError('NOT_FOUND', `workflow version ${versionId} not found`);
  const manifest = JSON.parse(row.get('manifest') as string) as Manifest;
  const cached: CachedVersion = {
    manifest,
    digest: row.get('digest') as string,
    refs: referencedSteps(manifest),
    steps: new Map(manifest.steps.map((s) => [s.id, s])),
    timeoutMs: manifest.timeout ? parseDuration(manifest.timeout) : null,
  };
  if (versions.size >= MAX_CACHED_VERSIONS) versions.clear();
  versions.set(`${scope.tenantId}/${versionId}`, cached);
  return cached;
}

// ---------------------------------------------------------------------------------------------

interface LockedRun {
  id: string;
  status: string;
  versionId: string;
  params: Record<string, unknown>;
  deadlineAt: string | null;
  initiatedBy: string;
  initiatorRoles: string[];
}

/** Takes the run's write lock and reads it; null when the run is not in the scope. */
async function lockRun(tx: ManagedTransaction, scope: Scope, runId: string): Promise<LockedRun | null> {
  const result = await tx.run(
    `MATCH (r:Run {id: $runId, tenantId: $tenantId, environment: $environment, region: $region})
     SET r._lock = true REMOVE r._lock
     RETURN r { .id, .status, .params, .initiatedBy, .initiatorRoles, versionId: r.workflowVersionId,
                deadlineAt: toString(r.deadlineAt) } AS run`,
    { ...scope, runId },
  );
  const row = result.records[0]?.get('run') as Record<string, unknown> | undefined;
  if (!row) return null;
  return {
    ...(row as unknown as LockedRun),
    params: JSON.parse((row.params as string | null) ?? '{}'),
    initiatorRoles: (row.initiatorRoles as string[] | null) ?? [],
  };
}

/** Sets task properties (a null value removes one); `at` stamps updatedAt. */
async function updateTasks(
  tx: ManagedTransaction,
  scope: Scope,
  updates: { id: string; props: Record<string, unknown> }[],
  at: Date,
): Promise<void> {
  if (updates.length === 0) return;
  await tx.run(
    `UNWIND $updates AS u
     MATCH (t:Task {id: u.id, tenantId: $tenantId, environment: $environment, region: $region})
     SET t += u.props, t.updatedAt = $at`,
    { ...scope, updates, at: dt(at) },
  );
}

function statusEvent(
  subjectId: string,
  from: string | null,
  to: string,
  message: string | null = null,
): NewEvent {
  return { type: subjectId.startsWith('run_') ? 'run.status' : 'task.status', subjectId, from, to, message };
}

/**
 * Advances a RUNNING run inside the caller's transaction (run already locked): starts ready
 * tasks, skips, fans out, cancels behind failures, and finishes the run when nothing is left.
 */
async function advanceLocked(
  tx: ManagedTransaction,
  scope: Scope,
  run: LockedRun,
  at: Date,
  actor: string | null,
): Promise<{ dispatch: Dispatch[]; status: string }> {
  const version = await versionOf(tx, scope, run.versionId);
  const found = await tx.run(
    `MATCH (t:Task {runId: $runId, tenantId: $tenantId, environment: $environment, region: $region})
     RETURN t.id AS id, t.stepId AS stepId, t.status AS status, t.itemIndex AS itemIndex,
            t.position AS position, t.attempt AS attempt,
            CASE WHEN t.stepId IN $refs AND t.status = 'SUCCEEDED' THEN t.output END AS output`,
    { ...scope, runId: run.id, refs: [...version.refs] },
  );
  const tasks: EngineTask[] = [];
  const attempts = new Map<string, number>();
  const outputs = new Map<string, { itemIndex: number | null; output: unknown }[]>();
  for (const rec of found.records) {
    const id = rec.get('id') as string;
    const stepId = rec.get('stepId') as string;
    const itemIndex = rec.get('itemIndex') as number | null;
    tasks.push({
      id,
      stepId,
      status: rec.get('status') as EngineTaskStatus,
      itemIndex,
      position: Number(rec.get('position') ?? 0),
    });
    attempts.set(id, Number(rec.get('attempt') ?? 1));
    const output = rec.get('output') as string | null;
    if (output !== null) {
      const list = outputs.get(stepId) ?? [];
      list.push({ itemIndex, output: JSON.parse(output) });
      outputs.set(stepId, list);
    }
  }
  const steps: Record<string, { output: unknown }> = {};
  for (const [stepId, list] of outputs) {
    const foreach = version.steps.get(stepId)?.foreach !== undefined;
    steps[stepId] = {
      output: foreach
        ? list.sort((a, b) => (a.itemIndex ?? 0) - (b.itemIndex ?? 0)).map((o) => o.output)
        : list[0]?.output,
    };
  }
  const plan = planAdvance({
    manifest: version.manifest,
    digest: version.digest,
    tasks,
    context: {
      params: run.params,
      run: { id: run.id, tenant: scope.tenantId, environment: scope.environment, region: scope.region },
      steps,
    },
    newTaskId: () => `task_${crypto.randomUUID()}`,
  });
  const { updates, events, dispatch, created } = applyPlan(plan.changes, attempts, at);
  if (created.length > 0) {
    await tx.run(
      `UNWIND $created AS c
       MATCH (r:Run {id: $runId, tenantId: $tenantId, environment: $environment, region: $region})
             -[:HAS_TASK]->(t:Task {id: c.from})
       CREATE (r)-[:HAS_TASK]->(n:Task)
       SET n = t {.*, id: c.id, itemIndex: c.itemIndex, createdAt: $at}
       WITH t, n
       CALL (t, n) {
         MATCH (t)-[:DEPENDS_ON]->(u:Task) CREATE (n)-[:DEPENDS_ON]->(u)
       }
       CALL (t, n) {
         MATCH (d:Task)-[:DEPENDS_ON]->(t) CREATE (d)-[:DEPENDS_ON]->(n)
       }`,
      { ...scope, runId: run.id, created, at: dt(at) },
    );
  }
  await updateTasks(tx, scope, updates, at);
  let status = run.status;
  if (plan.outcome) {
    status = plan.outcome.status;
    await tx.run(
      `MATCH (r:Run {id: $runId, tenantId: $tenantId, environment: $environment, region: $region})
       SET r.status = $status, r.finishedAt = $at, r.statusMessage = $message`,
      { ...scope, runId: run.id, status, at: dt(at), message: plan.outcome.message },
    );
    events.push(statusEvent(run.id, run.status, status, plan.outcome.message));
  }
  await appendEvents(tx, scope, run.id, events, at, actor);
  return { dispatch, status };
}

function applyPlan(
  changes: TaskChange[],
  attempts: Map<string, number>,
  at: Date,
): {
  updates: { id: string; props: Record<string, unknown> }[];
  events: NewEvent[];
  dispatch: Dispatch[];
  created: { from: string; id: string; itemIndex: unknown }[];
} {
  const updates: { id: string; props: Record<string, unknown> }[] = [];
  const events: NewEvent[] = [];
  const dispatch: Dispatch[] = [];
  const created: { from: string; id: string; itemIndex: unknown }[] = [];
  const finished = { finishedAt: dt(at), claim: null, claimedBy: null, leaseUntil: null, notBefore: null };
  for (const change of changes) {
    switch (change.kind) {
      case 'queue': {
        const attempt = attempts.get(change.taskId) ?? 1;
        updates.push({
          id: change.taskId,
          props: {
            status: 'QUEUED',
            input: JSON.stringify(change.input ?? null),
            idempotencyKey: change.idempotencyKey,
            itemIndex: change.itemIndex === null ? null : neo4j.int(change.itemIndex),
            tries: neo4j.int(1),
            notBefore: null,
            error: null,
            errorCode: null,
            deadLetter: null,
          },
        });
        events.push(statusEvent(change.taskId, 'PENDING', 'QUEUED'));
        dispatch.push({ taskId: change.taskId, attempt, delayMs: 0 });
        break;
      }
      case 'expand':
        for (const item of change.items) {
          created.push({ from: change.taskId, id: item.id, itemIndex: neo4j.int(item.itemIndex) });
          updates.push({
            id: item.id,
            props: {
              status: 'QUEUED',
              attempt: neo4j.int(1),
              tries: neo4j.int(1),
              input: JSON.stringify(item.input ?? null),
              idempotencyKey: item.idempotencyKey,
              output: null,
              error: null,
            },
          });
          events.push(statusEvent(item.id, null, 'QUEUED', `item ${item.itemIndex}`));
          dispatch.push({ taskId: item.id, attempt: 1, delayMs: 0 });
        }
        break;
      case 'skip':
        updates.push({ id: change.taskId, props: { status: 'SKIPPED', ...finished, error: null } });
        events.push(statusEvent(change.taskId, 'PENDING', 'SKIPPED', change.reason));
        break;
      case 'cancel':
        updates.push({
          id: change.taskId,
          props: { status: 'CANCELLED', ...finished, error: change.reason },
        });
        events.push(statusEvent(change.taskId, 'PENDING', 'CANCELLED', change.reason));
        break;
      case 'fail':
        updates.push({
          id: change.taskId,
          props: { status: 'FAILED', ...finished, error: change.error, errorCode: 'VALIDATION' },
        });
        events.push(statusEvent(change.taskId, 'PENDING', 'FAILED', change.error));
        break;
    }
  }
  // Siblings must exist before their props are set: creation runs first, so order is kept.
  return { updates, events, dispatch, created };
}

/**
 * Starts a PENDING run (RUNNING, startedAt, deadlineAt from the manifest's timeout) and
 * advances it; advancing an already RUNNING run is harmless, so this is also the reconciler's
 * and the rerun path's "look at this run again". Other statuses change nothing.
 */
export async function advanceRun(
  graph: Graph,
  scope: Scope,
  runId: string,
  at: Date,
): Promise<AdvanceResult> {
  return graph.write(async (tx) => {
    const run = await lockRun(tx, scope, runId);
    if (!run) throw new AppError('NOT_FOUND', 'run not found', { field: ['runId'] });
    if (run.status === 'PENDING') {
      const version = await versionOf(tx, scope, run.versionId);
      const deadline = version.timeoutMs === null ? null : new Date(at.getTime() + version.timeoutMs);
      await tx.run(
        `MATCH (r:Run {id: $runId, tenantId: $tenantId, environment: $environment, region: $region})
         SET r.status = 'RUNNING', r.startedAt = coalesce(r.startedAt, $at), r.deadlineAt = $deadline`,
        { ...scope, runId, at: dt(at), deadline: deadline ? dt(deadline) : null },
      );
      await appendEvents(tx, scope, runId, [statusEvent(runId, 'PENDING', 'RUNNING')], at, null);
      run.status = 'RUNNING';
      run.deadlineAt = deadline?.toISOString() ?? null;
    }
    if (run.status !== 'RUNNING') return { status: run.status, deadlineAt: run.deadlineAt, dispatch: [] };
    const { dispatch, status } = await advanceLocked(tx, scope, run, at, null);
    return { status, deadlineAt: run.deadlineAt, dispatch };
  });
}

// ---------------------------------------------------------------------------------------------

/** What an executor needs to run a claimed task. */
export interface ClaimedTask {
  ref: TaskRef;
  claim: string;
  stepId: string;
  uses: string;
  input: unknown;
  idempotencyKey: string;
  itemIndex: number | null;
  tries: number;
  step: ManifestStep;
  runDeadlineAt: string | null;
  initiatedBy: string;
  initiatorRoles: string[];
  /** True when a lapsed claim was taken over (the previous holder died or stalled). */
  reclaimed: boolean;
}

export type ClaimResult =
  | { claimed: true; task: ClaimedTask }
  /** Nothing to do: finished, cancelled, a newer attempt exists, or the run is not running. */
  | { claimed: false; reason: 'done'; status: string }
  /** Someone holds a live claim, or a retry's backoff has not passed: look again at `retryAt`. */
  | { claimed: false; reason: 'later'; retryAt: Date };

/**
 * Claims a QUEUED task for one attempt (or takes over a RUNNING one whose lease lapsed):
 * RUNNING with a fresh claim token and lease, in one transaction with its timeline event.
 */
export async function claimTask(
  graph: Graph,
  ref: TaskRef,
  options: { workerId: string; leaseMs: number; at: Date },
): Promise<ClaimResult> {
  const { at } = options;
  return graph.write(async (tx) => {
    const run = await lockRun(tx, ref, ref.runId);
    if (!run) return { claimed: false, reason: 'done', status: 'MISSING' };
    const found = await tx.run(
      `MATCH (t:Task {id: $taskId, runId: $runId, tenantId: $tenantId, environment: $environment, region: $region})
       RETURN t { .status, .attempt, .tries, .stepId, .uses, .input, .idempotencyKey, .itemIndex,
                  leaseUntil: toString(t.leaseUntil), notBefore: toString(t.notBefore) } AS t`,
      { ...ref },
    );
    const t = found.records[0]?.get('t') as Record<string, unknown> | undefined;
    if (!t) return { claimed: false, reason: 'done', status: 'MISSING' };
    const status = t.status as string;
    if (run.status !== 'RUNNING' || Number(t.attempt) !== ref.attempt) {
      return {
        claimed: false,
        reason: 'done',
        status: run.status !== 'RUNNING' ? `run ${run.status}` : status,
      };
    }
    const lapsed =
      status === 'RUNNING' && t.leaseUntil !== null && Date.parse(t.leaseUntil as string) <= at.getTime();
    if (status === 'RUNNING' && !lapsed) {
      return { claimed: false, reason: 'later', retryAt: new Date(Date.parse(t.leaseUntil as string)) };
    }
    if (status !== 'QUEUED' && !lapsed) return { claimed: false, reason: 'done', status };
    if (status === 'QUEUED' && t.notBefore !== null && Date.parse(t.notBefore as string) > at.getTime()) {
      return { claimed: false, reason: 'later', retryAt: new Date(Date.parse(t.notBefore as string)) };
    }
    const version = await versionOf(tx, ref, run.versionId);
    const step = version.steps.get(t.stepId as string);
    if (!step) throw new AppError('INTERNAL', `step ${String(t.stepId)} missing from its manifest`);
    const claim = crypto.randomUUID();
    await updateTasks(
      tx,
      ref,
      [
        {
          id: ref.taskId,
          props: {
            status: 'RUNNING',
            claim,
            claimedBy: options.workerId,
            leaseUntil: dt(new Date(at.getTime() + options.leaseMs)),
            startedAt: dt(at),
            notBefore: null,
          },
        },
      ],
      at,
    );
    const message = lapsed ? `attempt ${ref.attempt}: lease lapsed, taken over` : `attempt ${ref.attempt}`;
    await appendEvents(tx, ref, ref.runId, [statusEvent(ref.taskId, status, 'RUNNING', message)], at, null);
    return {
      claimed: true,
      task: {
        ref,
        claim,
        stepId: t.stepId as string,
        uses: t.uses as string,
        input: JSON.parse((t.input as string | null) ?? 'null'),
        idempotencyKey: t.idempotencyKey as string,
        itemIndex: (t.itemIndex as number | null) ?? null,
        tries: Number(t.tries ?? 1),
        step,
        runDeadlineAt: run.deadlineAt,
        initiatedBy: run.initiatedBy,
        initiatorRoles: run.initiatorRoles,
        reclaimed: lapsed,
      },
    };
  });
}

/** Extends a live claim; false when the claim is gone (cancelled, taken over, finished). */
export async function renewLease(
  graph: Graph,
  task: Pick<ClaimedTask, 'ref' | 'claim'>,
  leaseMs: number,
  at: Date,
): Promise<boolean> {
  return graph.write(async (tx) => {
    const result = await tx.run(
      `MATCH (t:Task {id: $taskId, tenantId: $tenantId, environment: $environment, region: $region})
       WHERE t.claim = $claim AND t.status = 'RUNNING'
       SET t.leaseUntil = $until
       RETURN count(t) AS n`,
      { ...task.ref, claim: task.claim, until: dt(new Date(at.getTime() + leaseMs)) },
    );
    return Number(result.records[0]?.get('n') ?? 0) > 0;
  });
}

/**
 * Gives a claim back without a result (the worker is draining): the lease lapses now, so any
 * worker may take the task over at once. Nothing is recorded as an attempt.
 */
export async function releaseClaim(
  graph: Graph,
  task: Pick<ClaimedTask, 'ref' | 'claim'>,
  at: Date,
): Promise<boolean> {
  return graph.write(async (tx) => {
    const result = await tx.run(
      `MATCH (t:Task {id: $taskId, tenantId: $tenantId, environment: $environment, region: $region})
       WHERE t.claim = $claim AND t.status = 'RUNNING'
       SET t.leaseUntil = $at
       RETURN count(t) AS n`,
      { ...task.ref, claim: task.claim, at: dt(at) },
    );
    return Number(result.records[0]?.get('n') ?? 0) > 0;
  });
}

/**
 * Ends the claim: succeeds when the task is still RUNNING under this claim, else records
 * nothing (someone took over, or the run was cancelled) — so a result is recorded once.
 */
async function finishClaimed<T>(
  graph: Graph,
  task: Pick<ClaimedTask, 'ref' | 'claim'>,
  work: (tx: ManagedTransaction, run: LockedRun, attempt: number) => Promise<T>,
): Promise<{ recorded: false } | { recorded: true; value: T }> {
  return graph.write(async (tx) => {
    const run = await lockRun(tx, task.ref, task.ref.runId);
    if (!run) return { recorded: false };
    const found = await tx.run(
      `MATCH (t:Task {id: $taskId, tenantId: $tenantId, environment: $environment, region: $region})
       WHERE t.claim = $claim AND t.status = 'RUNNING'
       RETURN t.attempt AS attempt`,
      { ...task.ref, claim: task.claim },
    );
    const attempt = found.records[0]?.get('attempt') as number | undefined;
    if (attempt === undefined) return { recorded: false };
    return { recorded: true, value: await work(tx, run, Number(attempt)) };
  });
}

export interface TaskOutcome {
  recorded: boolean;
  dispatch: Dispatch[];
  runStatus: string | null;
}

/**
 * Records a step's result (with its cost, a Receipt with the output's digest, and the timeline
 * event) and advances the run, in one transaction.
 */
export async function completeTask(
  graph: Graph,
  task: Pick<ClaimedTask, 'ref' | 'claim' | 'idempotencyKey'>,
  result: { output: unknown; costUSD: number; at: Date; actor: string },
): Promise<TaskOutcome> {
  const { at } = result;
  const out = await finishClaimed(graph, task, async (tx, run) => {
    const output = JSON.stringify(result.output ?? null);
    await tx.run(
      `MATCH (r:Run {id: $runId, tenantId: $tenantId, environment: $environment, region: $region})
             -[:HAS_TASK]->(t:Task {id: $taskId})
       SET t.status = 'SUCCEEDED', t.output = $output, t.costUSD = coalesce(t.costUSD, 0.0) + $cost,
           t.finishedAt = $at, t.updatedAt = $at, t.claim = null, t.leaseUntil = null, t.error = null,
           t.errorCode = null, r.costUSD = coalesce(r.costUSD, 0.0) + $cost
       CREATE (t)-[:EVIDENCED_BY]->(:Receipt {id: 'rcp_' + randomUUID(), tenantId: $tenantId,
         environment: $environment, region: $region, kind: 'task.result', subjectId: $taskId,
         digest: $digest, payload: $payload, actor: $actor, createdAt: $at})`,
      {
        ...task.ref,
        output,
        cost: result.costUSD,
        at: dt(at),
        digest: digestOf({ idempotencyKey: task.idempotencyKey, output: result.output ?? null }),
        payload: JSON.stringify({ idempotencyKey: task.idempotencyKey, costUSD: result.costUSD }),
        actor: result.actor,
      },
    );
    await appendEvents(
      tx,
      task.ref,
      run.id,
      [statusEvent(task.ref.taskId, 'RUNNING', 'SUCCEEDED')],
      at,
      null,
    );
    if (run.status !== 'RUNNING') return { dispatch: [], status: run.status };
    return advanceLocked(tx, task.ref, run, at, null);
  });
  return out.recorded
    ? { recorded: true, dispatch: out.value.dispatch, runStatus: out.value.status }
    : { recorded: false, dispatch: [], runStatus: null };
}

export interface StepFailure {
  code: string;
  message: string;
  retryable: boolean;
  retryAfterMs?: number;
}

/**
 * Records a failed attempt. A retryable error with attempts left puts the task back to QUEUED
 * with the next attempt number and a backoff (`notBefore`); otherwise it FAILS (marked
 * dead-letter when it ran out of retries on retryable errors) and the run advances.
 */
export async function failTask(
  graph: Graph,
  task: Pick<ClaimedTask, 'ref' | 'claim' | 'step' | 'tries'>,
  failure: StepFailure,
  options: { at: Date; random?: () => number },
): Promise<TaskOutcome & { retryInMs: number | null }> {
  const { at } = options;
  const error = `${failure.code}: ${failure.message}`.slice(0, 4000);
  const out = await finishClaimed(graph, task, async (tx, run, attempt) => {
    const policy = retryPolicy(task.step.retry);
    const retry = failure.retryable && failure.code !== 'CANCELLED' && task.tries < policy.max_attempts;
    if (retry) {
      const delayMs = retryDelayMs(policy, task.tries + 1, {
        ...(options.random ? { random: options.random } : {}),
        ...(failure.retryAfterMs !== undefined ? { retryAfterMs: failure.retryAfterMs } : {}),
      });
      await updateTasks(
        tx,
        task.ref,
        [
          {
            id: task.ref.taskId,
            props: {
              status: 'QUEUED',
              attempt: neo4j.int(attempt + 1),
              tries: neo4j.int(task.tries + 1),
              notBefore: dt(new Date(at.getTime() + delayMs)),
              claim: null,
              claimedBy: null,
              leaseUntil: null,
              error,
              errorCode: failure.code,
            },
          },
        ],
        at,
      );
      const message = `attempt ${attempt} failed (${error}); attempt ${attempt + 1} in ${delayMs} ms`;
      await appendEvents(
        tx,
        task.ref,
        run.id,
        [{ type: 'task.retry', subjectId: task.ref.taskId, from: 'RUNNING', to: 'QUEUED', message }],
        at,
        null,
      );
      return {
        dispatch: [{ taskId: task.ref.taskId, attempt: attempt + 1, delayMs }],
        status: run.status,
        delayMs,
      };
    }
    const deadLetter = failure.retryable && failure.code !== 'CANCELLED';
    await updateTasks(
      tx,
      task.ref,
      [
        {
          id: task.ref.taskId,
          props: {
            status: 'FAILED',
            finishedAt: dt(at),
            claim: null,
            leaseUntil: null,
            error,
            errorCode: failure.code,
            deadLetter: deadLetter ? true : null,
          },
        },
      ],
      at,
    );
    const why = deadLetter ? `${error} (retries exhausted: dead letter)` : error;
    await appendEvents(
      tx,
      task.ref,
      run.id,
      [statusEvent(task.ref.taskId, 'RUNNING', 'FAILED', why)],
      at,
      null,
    );
    if (run.status !== 'RUNNING') return { dispatch: [], status: run.status, delayMs: null };
    return { ...(await advanceLocked(tx, task.ref, run, at, null)), delayMs: null };
  });
  return out.recorded
    ? {
        recorded: true,
        dispatch: out.value.dispatch,
        runStatus: out.value.status,
        retryInMs: out.value.delayMs,
      }
    : { recorded: false, dispatch: [], runStatus: null, retryInMs: null };
}

/**
 * Parks a task whose step asked to wait for approval: WAITING, with an Approval (required
 * count, eligible roles, requester = the run's initiator, expiry) that GATES the task.
 */
export async function parkTask(
  graph: Graph,
  task: Pick<ClaimedTask, 'ref' | 'claim' | 'initiatedBy' | 'initiatorRoles'>,
  wait: { requiredApprovals: number; eligibleRoles: string[]; expiresInMs: number | null },
  at: Date,
): Promise<{ recorded: boolean; approvalId: string | null }> {
  const approvalId = `apr_${crypto.randomUUID()}`;
  const out = await finishClaimed(graph, task, async (tx, run) => {
    await tx.run(
      `MATCH (t:Task {id: $taskId, tenantId: $tenantId, environment: $environment, region: $region})
       SET t.status = 'WAITING', t.claim = null, t.leaseUntil = null, t.updatedAt = $at
       CREATE (a:Approval {id: $approvalId, tenantId: $tenantId, environment: $environment, region: $region,
                           runId: $runId, taskId: $taskId, status: 'PENDING', requiredApprovals: $required,
                           eligibleRoles: $roles, requestedBy: $requestedBy, requesterRoles: $requesterRoles,
                           createdAt: $at, expiresAt: $expiresAt})
       CREATE (a)-[:GATES]->(t)`,
      {
        ...task.ref,
        approvalId,
        at: dt(at),
        required: neo4j.int(wait.requiredApprovals),
        roles: wait.eligibleRoles,
        requestedBy: task.initiatedBy,
        requesterRoles: task.initiatorRoles,
        expiresAt: wait.expiresInMs === null ? null : dt(new Date(at.getTime() + wait.expiresInMs)),
      },
    );
    await appendEvents(
      tx,
      task.ref,
      run.id,
      [statusEvent(task.ref.taskId, 'RUNNING', 'WAITING', `approval ${approvalId}`)],
      at,
      null,
    );
  });
  return { recorded: out.recorded, approvalId: out.recorded ? approvalId : null };
}

/**
 * Ends a RUNNING run whose deadline has passed: open tasks CANCELLED, the run FAILED with the
 * reason, one transaction. Returns false when there was nothing to do.
 */
export async function expireRun(graph: Graph, scope: Scope, runId: string, at: Date): Promise<boolean> {
  return graph.write(async (tx) => {
    const run = await lockRun(tx, scope, runId);
    if (!run || run.status !== 'RUNNING' || run.deadlineAt === null) return false;
    if (Date.parse(run.deadlineAt) > at.getTime()) return false;
    const open = await tx.run(
      `MATCH (t:Task {runId: $runId, tenantId: $tenantId, environment: $environment, region: $region})
       WHERE NOT t.status IN ['SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED']
       WITH t, t.status AS before
       SET t.status = 'CANCELLED', t.finishedAt = $at, t.updatedAt = $at, t.claim = null, t.leaseUntil = null,
           t.error = 'run timed out'
       RETURN t.id AS id, before`,
      { ...scope, runId, at: dt(at) },
    );
    const message = 'run timed out';
    await tx.run(
      `MATCH (r:Run {id: $runId, tenantId: $tenantId, environment: $environment, region: $region})
       SET r.status = 'FAILED', r.finishedAt = $at, r.statusMessage = $message`,
      { ...scope, runId, at: dt(at), message },
    );
    const events = open.records.map((rec) =>
      statusEvent(rec.get('id') as string, rec.get('before') as string, 'CANCELLED', message),
    );
    events.push(statusEvent(runId, 'RUNNING', 'FAILED', message));
    await appendEvents(tx, scope, runId, events, at, null);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------

const TENANTS = (v: string) => `($tenants IS NULL OR ${v}.tenantId IN $tenants)`;

export interface StrandedWork {
  /** PENDING runs to start, RUNNING runs with nothing in flight (e.g. after a rerun). */
  runs: (Scope & { runId: string })[];
  /** RUNNING runs past their deadline. */
  expired: (Scope & { runId: string })[];
  /** QUEUED tasks (with their backoff) and RUNNING tasks whose lease lapsed. */
  tasks: (TaskRef & { notBefore: string | null; status: string })[];
}

/**
 * What the reconciler re-enqueues, across tenants: work the graph says is due but that Redis
 * may have lost (flushed, restarted, a crash between commit and enqueue). Items untouched for
 * `graceMs` only, so fresh work is left to its own jobs.
 */
export async function findStrandedWork(
  graph: Graph,
  options: { at: Date; graceMs: number; limit: number; tenants?: string[] | null },
): Promise<StrandedWork> {
  const params = {
    tenants: options.tenants ?? null,
    at: dt(options.at),
    before: dt(new Date(options.at.getTime() - options.graceMs)),
    limit: neo4j.int(options.limit),
  };
  return graph.read(async (tx) => {
    const runs = await tx.run(
      `MATCH (r:Run) WHERE r.status IN ['PENDING', 'RUNNING'] AND ${TENANTS('r')} AND coalesce(r.updatedAt, r.createdAt) <= $before
         AND (r.status = 'PENDING' OR NOT exists {
               MATCH (t:Task {runId: r.id, tenantId: r.tenantId, environment: r.environment, region: r.region})
               WHERE t.status IN ['QUEUED', 'RUNNING', 'WAITING'] })
       RETURN r.tenantId AS tenantId, r.environment AS environment, r.region AS region, r.id AS runId
       LIMIT $limit`,
      params,
    );
    const expired = await tx.run(
      `MATCH (r:Run) WHERE r.status = 'RUNNING' AND r.deadlineAt <= $at AND ${TENANTS('r')}
       RETURN r.tenantId AS tenantId, r.environment AS environment, r.region AS region, r.id AS runId
       LIMIT $limit`,
      params,
    );
    const tasks = await tx.run(
      `MATCH (t:Task) WHERE t.status = 'QUEUED' AND t.updatedAt <= $before AND ${TENANTS('t')}
       RETURN t.tenantId AS tenantId, t.environment AS environment, t.region AS region, t.runId AS runId,
              t.id AS taskId, t.attempt AS attempt, toString(t.notBefore) AS notBefore, t.status AS status
       LIMIT $limit
       UNION ALL
       MATCH (t:Task) WHERE t.status = 'RUNNING' AND t.leaseUntil <= $at AND ${TENANTS('t')}
       RETURN t.tenantId AS tenantId, t.environment AS environment, t.region AS region, t.runId AS runId,
              t.id AS taskId, t.attempt AS attempt, null AS notBefore, t.status AS status
       LIMIT $limit`,
      params,
    );
    const toObj = <T>(r: { toObject(): unknown }) => r.toObject() as T;
    return {
      runs: runs.records.map((r) => toObj<Scope & { runId: string }>(r)),
      expired: expired.records.map((r) => toObj<Scope & { runId: string }>(r)),
      tasks: tasks.records.map((r) => {
        const row = toObj<TaskRef & { notBefore: string | null; status: string }>(r);
        return { ...row, attempt: Number(row.attempt) };
      }),
    };
  });
}

/**
 * A restarted worker knows its previous incarnation is dead: the claims it held lapse now
 * instead of at their lease's end, so their tasks resume at once. Worker ids must be unique
 * among live workers.
 */
export async function releaseClaimsOf(graph: Graph, workerId: string, at: Date): Promise<number> {
  return graph.write(async (tx) => {
    const result = await tx.run(
      `MATCH (t:Task) WHERE t.status = 'RUNNING' AND t.claimedBy = $workerId
       SET t.leaseUntil = $at
       RETURN count(t) AS n`,
      { workerId, at: dt(at) },
    );
    return Number(result.records[0]?.get('n') ?? 0);
  });
}

/** Whether a run is still open (not finished); a run outside the scope reads as finished. */
export async function runIsOpen(graph: Graph, scope: Scope, runId: string): Promise<boolean> {
  return graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH (r:Run {id: $runId, tenantId: $tenantId, environment: $environment, region: $region})
       RETURN r.status AS status`,
      { ...scope, runId },
    );
    const status = result.records[0]?.get('status') as string | undefined;
    return status !== undefined && !TERMINAL_RUN.includes(status);
  });
}
