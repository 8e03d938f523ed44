import {
  AppError,
  digestOf,
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
  TERMINAL_TASK_STATUSES,
} from '@maestro/domain';
import neo4j, { type ManagedTransaction } from 'neo4j-driver';
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
  /** Ready tasks for the queue. */
  dispatch: Dispatch[];
  /** Ready tasks claimed for the calling worker (eager dispatch). */
  claimed: ClaimedTask[];
}

const TERMINAL_RUN = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED'];
export const dt = (at: Date) => neo4j.types.DateTime.fromStandardDate(at);

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
  costUSD: number;
  /** The run's event counter: every state change appends an event, so it versions the run. */
  lastSeq: number;
}

interface TaskRow {
  id: string;
  stepId: string;
  status: EngineTaskStatus;
  itemIndex: number | null;
  position: number;
  attempt: number;
  tries: number;
  /** JSON text, loaded only for steps whose outputs expressions read. */
  output: string | null;
  claim: string | null;
}

/** Which version each run was started from, so repeat visits know the manifest up front. */
const runVersions = new Map<string, string>();
const MAX_CACHED_RUNS = 50_000;

function rememberRunVersion(runId: string, versionId: string): void {
  if (runVersions.size >= MAX_CACHED_RUNS) runVersions.clear();
  runVersions.set(runId, versionId);
}

function knownRefs(scope: Scope, runId: string): string[] | null {
  const versionId = runVersions.get(runId);
  const version = versionId ? versions.get(`${scope.tenantId}/${versionId}`) : undefined;
  return version ? [...version.refs] : null;
}

/**
 * The last committed state of runs this process wrote, versioned by the run's event counter.
 * A completion can then plan from memory and write in one statement guarded by that version
 * (optimistic concurrency); if anyone else changed the run meanwhile, the guard fails and the
 * transaction loads the run under its lock as usual.
 */
interface RunState {
  run: LockedRun;
  tasks: TaskRow[];
}
const runStates = new Map<string, RunState>();
const MAX_CACHED_STATES = 5_000;
const stateKey = (scope: Scope, runId: string) => `${scope.tenantId}/${runId}`;

function cloneState(state: RunState): { run: LockedRun; tasks: TaskRow[]; refsLoaded: boolean } {
  return { run: { ...state.run }, tasks: state.tasks.map((t) => ({ ...t })), refsLoaded: true };
}

/** The state after `w` was committed on top of `loaded` (whose rows already carry the caller's own changes). */
function stateAfter(loaded: { run: LockedRun; tasks: TaskRow[] }, w: PlanWrite, refs: Set<string>): RunState {
  const tasks = new Map(loaded.tasks.map((t) => [t.id, { ...t }]));
  for (const c of w.created) {
    const from = tasks.get(c.from);
    if (from)
      tasks.set(c.id, { ...from, id: c.id, itemIndex: Number(c.itemIndex), output: null, claim: null });
  }
  const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));
  for (const u of w.updates) {
    const t = tasks.get(u.id);
    if (!t) continue;
    const p = u.props;
    if (typeof p.status === 'string') t.status = p.status as EngineTaskStatus;
    if ('claim' in p) t.claim = (p.claim as string | null) ?? null;
    if ('output' in p) t.output = refs.has(t.stepId) ? ((p.output as string | null) ?? null) : null;
    t.attempt = num(p.attempt) ?? t.attempt;
    t.tries = num(p.tries) ?? t.tries;
    if ('itemIndex' in p) t.itemIndex = num(p.itemIndex) ?? null;
  }
  const run = { ...loaded.run, lastSeq: loaded.run.lastSeq + w.events.length };
  if (typeof w.runProps.status === 'string') run.status = w.runProps.status;
  if (typeof w.runProps.costUSD === 'number') run.costUSD = w.runProps.costUSD;
  return { run, tasks: [...tasks.values()] };
}

function rememberState(scope: Scope, state: RunState): void {
  const key = stateKey(scope, state.run.id);
  if (TERMINAL_RUN.includes(state.run.status)) {
    runStates.delete(key);
    return;
  }
  if (runStates.size >= MAX_CACHED_STATES) runStates.clear();
  runStates.set(key, state);
}

function toLockedRun(row: Record<string, unknown>): LockedRun {
  return {
    ...(row as unknown as LockedRun),
    params: JSON.parse((row.params as string | null) ?? '{}'),
    initiatorRoles: (row.initiatorRoles as string[] | null) ?? [],
    costUSD: Number(row.costUSD ?? 0),
    lastSeq: Number(row.lastSeq ?? 0),
  };
}

const RUN_VIEW = `r { .id, .status, .params, .initiatedBy, .initiatorRoles, .costUSD, .lastSeq,
  versionId: r.workflowVersionId, deadlineAt: toString(r.deadlineAt) }`;

/**
 * One round trip: takes the run's write lock (so everything read after it is current), reads
 * the run and all its tasks (outputs only of steps expressions read, when the manifest is
 * known), and checks a claim when given. Null when the run is not in the scope.
 */
async function loadLocked(
  tx: ManagedTransaction,
  scope: Scope,
  runId: string,
): Promise<{ run: LockedRun; tasks: TaskRow[]; refsLoaded: boolean } | null> {
  const refs = knownRefs(scope, runId);
  const result = await tx.run(
    `MATCH (r:Run {id: $runId, tenantId: $tenantId, environment: $environment, region: $region})
     SET r._lock = true REMOVE r._lock
     WITH r
     RETURN ${RUN_VIEW} AS run,
       [(r)-[:HAS_TASK]->(x:Task) | x { .id, .stepId, .status, .itemIndex, .position, .attempt, .tries, .claim,
          output: CASE WHEN $refs IS NOT NULL AND x.stepId IN $refs AND x.status = 'SUCCEEDED' THEN x.output END }]
         AS tasks`,
    { ...scope, runId, refs },
  );
  const record = result.records[0];
  if (!record) return null;
  const run = toLockedRun(record.get('run') as Record<string, unknown>);
  rememberRunVersion(run.id, run.versionId);
  const tasks = (record.get('tasks') as Record<string, unknown>[]).map(
    (t): TaskRow => ({
      id: t.id as string,
      stepId: t.stepId as string,
      status: t.status as EngineTaskStatus,
      itemIndex: (t.itemIndex as number | null) ?? null,
      position: Number(t.position ?? 0),
      attempt: Number(t.attempt ?? 1),
      tries: Number(t.tries ?? 1),
      output: (t.output as string | null) ?? null,
      claim: (t.claim as string | null) ?? null,
    }),
  );
  return { run, tasks, refsLoaded: refs !== null };
}

function statusEvent(
  subjectId: string,
  from: string | null,
  to: string,
  message: string | null = null,
): NewEvent {
  return { type: subjectId.startsWith('run_') ? 'run.status' : 'task.status', subjectId, from, to, message };
}

/** One state change for a run's timeline. */
export interface NewEvent {
  type: string;
  subjectId: string;
  from: string | null;
  to: string | null;
  message: string | null;
}

interface PlanWrite {
  updates: { id: string; props: Record<string, unknown> }[];
  created: { from: string; id: string; itemIndex: unknown }[];
  /** Properties to set on the run (null removes). */
  runProps: Record<string, unknown>;
  receipts: { taskId: string; digest: string; payload: string; actor: string }[];
  events: NewEvent[];
}

const emptyWrite = (): PlanWrite => ({ updates: [], created: [], runProps: {}, receipts: [], events: [] });

/**
 * Writes a planned change set in one statement (fan-out creation, when any, in one more):
 * task properties, run properties, receipts and the timeline events in order.
 */
async function writePlan(
  tx: ManagedTransaction,
  scope: Scope,
  runId: string,
  w: PlanWrite,
  at: Date,
  /** Write only if the run is still at this version (optimistic path); false when it moved. */
  expectedSeq: number | null = null,
): Promise<boolean> {
  const params = {
    ...scope,
    runId,
    at: dt(at),
    expectedSeq: expectedSeq === null ? null : neo4j.int(expectedSeq),
  };
  if (w.created.length > 0) {
    await tx.run(
      `UNWIND $created AS c
       MATCH (r:Run {id: $runId, tenantId: $tenantId, environment: $environment, region: $region})
       MATCH (t:Task {id: c.from, tenantId: $tenantId, environment: $environment, region: $region})
       CREATE (r)-[:HAS_TASK]->(n:Task)
       SET n = t {.*, id: c.id, itemIndex: c.itemIndex, createdAt: $at}
       WITH t, n
       CALL (t, n) {
         MATCH (t)-[:DEPENDS_ON]->(u:Task) CREATE (n)-[:DEPENDS_ON]->(u)
       }
       CALL (t, n) {
         MATCH (d:Task)-[:DEPENDS_ON]->(t) CREATE (d)-[:DEPENDS_ON]->(n)
       }`,
      { ...params, created: w.created },
    );
  }
  const written = await tx.run(
    `MATCH (r:Run {id: $runId, tenantId: $tenantId, environment: $environment, region: $region})
     SET r._lock = true REMOVE r._lock
     WITH r WHERE $expectedSeq IS NULL OR coalesce(r.lastSeq, 0) = $expectedSeq
     CALL (r) {
       UNWIND $updates AS u
       MATCH (t:Task {id: u.id, tenantId: $tenantId, environment: $environment, region: $region})
       SET t += u.props, t.updatedAt = $at
     }
     CALL (r) {
       UNWIND $receipts AS rc
       MATCH (t:Task {id: rc.taskId, tenantId: $tenantId, environment: $environment, region: $region})
       CREATE (t)-[:EVIDENCED_BY]->(:Receipt {id: 'rcp_' + randomUUID(), tenantId: $tenantId,
         environment: $environment, region: $region, kind: 'task.result', subjectId: rc.taskId,
         digest: rc.digest, payload: rc.payload, actor: rc.actor, createdAt: $at})
     }
     SET r += $runProps
     WITH r, coalesce(r.lastSeq, 0) AS base
     SET r.lastSeq = base + size($events), r.updatedAt = $at
     WITH r, base
     CALL (r, base) {
       UNWIND range(0, size($events) - 1) AS i
       WITH r, base, i, $events[i] AS ev
       CREATE (r)-[:HAS_EVENT]->(:TimelineEvent {id: 'evt_' + randomUUID(), tenantId: r.tenantId,
         environment: r.environment, region: r.region, runId: r.id, seq: base + 1 + i, at: $at, createdAt: $at,
         type: ev.type, subjectId: ev.subjectId, from: ev.from, to: ev.to, message: ev.message, actor: null})
     }
     RETURN r.lastSeq AS lastSeq`,
    { ...params, updates: w.updates, receipts: w.receipts, runProps: w.runProps, events: w.events },
  );
  return written.records.length > 0;
}

/**
 * Plans what a RUNNING run does next from its loaded tasks (after the caller's own change was
 * applied to them in memory) and adds that to `w`: starts ready tasks, skips, fans out,
 * cancels behind failures, and finishes the run when nothing is left.
 */
async function planInto(
  tx: ManagedTransaction,
  scope: Scope,
  loaded: { run: LockedRun; tasks: TaskRow[]; refsLoaded: boolean },
  w: PlanWrite,
  at: Date,
): Promise<{ dispatch: Dispatch[]; status: string }> {
  const { run, tasks } = loaded;
  const version = await versionOf(tx, scope, run.versionId);
  if (!loaded.refsLoaded && version.refs.size > 0) {
    // First visit of this run on this worker: fetch the outputs the expressions read.
    const res = await tx.run(
      `MATCH (t:Task {runId: $runId, tenantId: $tenantId, environment: $environment, region: $region})
       WHERE t.stepId IN $refs AND t.status = 'SUCCEEDED'
       RETURN t.id AS id, t.output AS output`,
      { ...scope, runId: run.id, refs: [...version.refs] },
    );
    const byId = new Map(res.records.map((r) => [r.get('id') as string, r.get('output') as string | null]));
    for (const t of tasks) if (byId.has(t.id) && t.output === null) t.output = byId.get(t.id) ?? null;
  }
  const outputs = new Map<string, { itemIndex: number | null; output: unknown }[]>();
  for (const t of tasks) {
    if (t.output === null || t.status !== 'SUCCEEDED' || !version.refs.has(t.stepId)) continue;
    const list = outputs.get(t.stepId) ?? [];
    list.push({ itemIndex: t.itemIndex, output: JSON.parse(t.output) });
    outputs.set(t.stepId, list);
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
    tasks: tasks.map(({ id, stepId, status, itemIndex, position }) => ({
      id,
      stepId,
      status,
      itemIndex,
      position,
    })),
    context: {
      params: run.params,
      run: { id: run.id, tenant: scope.tenantId, environment: scope.environment, region: scope.region },
      steps,
    },
    newTaskId: () => `task_${crypto.randomUUID()}`,
  });
  const attempts = new Map(tasks.map((t) => [t.id, t.attempt]));
  const dispatch = applyPlan(plan.changes, attempts, at, w);
  let status = run.status;
  if (plan.outcome) {
    status = plan.outcome.status;
    Object.assign(w.runProps, { status, finishedAt: dt(at), statusMessage: plan.outcome.message });
    w.events.push(statusEvent(run.id, run.status, status, plan.outcome.message));
  }
  return { dispatch, status };
}

function applyPlan(changes: TaskChange[], attempts: Map<string, number>, at: Date, w: PlanWrite): Dispatch[] {
  const dispatch: Dispatch[] = [];
  const finished = { finishedAt: dt(at), claim: null, claimedBy: null, leaseUntil: null, notBefore: null };
  for (const change of changes) {
    switch (change.kind) {
      case 'queue': {
        const attempt = attempts.get(change.taskId) ?? 1;
        w.updates.push({
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
        w.events.push(statusEvent(change.taskId, 'PENDING', 'QUEUED'));
        dispatch.push({ taskId: change.taskId, attempt, delayMs: 0 });
        break;
      }
      case 'expand':
        for (const item of change.items) {
          w.created.push({ from: change.taskId, id: item.id, itemIndex: neo4j.int(item.itemIndex) });
          w.updates.push({
            id: item.id,
            props: {
              status: 'QUEUED',
              itemIndex: neo4j.int(item.itemIndex),
              attempt: neo4j.int(1),
              tries: neo4j.int(1),
              input: JSON.stringify(item.input ?? null),
              idempotencyKey: item.idempotencyKey,
              output: null,
              error: null,
            },
          });
          w.events.push(statusEvent(item.id, null, 'QUEUED', `item ${item.itemIndex}`));
          dispatch.push({ taskId: item.id, attempt: 1, delayMs: 0 });
        }
        break;
      case 'skip':
        w.updates.push({ id: change.taskId, props: { status: 'SKIPPED', ...finished, error: null } });
        w.events.push(statusEvent(change.taskId, 'PENDING', 'SKIPPED', change.reason));
        break;
      case 'cancel':
        w.updates.push({
          id: change.taskId,
          props: { status: 'CANCELLED', ...finished, error: change.reason },
        });
        w.events.push(statusEvent(change.taskId, 'PENDING', 'CANCELLED', change.reason));
        break;
      case 'fail':
        w.updates.push({
          id: change.taskId,
          props: { status: 'FAILED', ...finished, error: change.error, errorCode: 'VALIDATION' },
        });
        w.events.push(statusEvent(change.taskId, 'PENDING', 'FAILED', change.error));
        break;
    }
  }
  return dispatch;
}

/**
 * Eager dispatch: the worker that makes tasks ready may claim some of them in the same
 * transaction and run them itself, skipping a queue round trip and a claim transaction (as
 * Temporal's eager activities do). `reserve` says which candidates it has room for (local
 * capacity and the tenant's fair-dispatch slots); the rest go through the queue as usual.
 * A crash loses nothing: eagerly claimed tasks are RUNNING under a lease like any other.
 */
export interface EagerOptions {
  workerId: string;
  leaseMs: number;
  reserve(scope: Scope, candidates: { taskId: string; attempt: number }[]): Promise<Set<string>>;
}

/** Converts reserved ready tasks in `w` from QUEUED to RUNNING under fresh claims. */
async function eagerize(
  tx: ManagedTransaction,
  scope: Scope,
  loaded: { run: LockedRun; tasks: TaskRow[] },
  w: PlanWrite,
  dispatch: Dispatch[],
  at: Date,
  eager: EagerOptions | undefined,
): Promise<{ dispatch: Dispatch[]; claimed: ClaimedTask[] }> {
  const candidates = dispatch.filter((d) => d.delayMs === 0);
  if (!eager || candidates.length === 0) return { dispatch, claimed: [] };
  const reserved = await eager.reserve(
    scope,
    candidates.map(({ taskId, attempt }) => ({ taskId, attempt })),
  );
  if (reserved.size === 0) return { dispatch, claimed: [] };
  const { run } = loaded;
  const version = await versionOf(tx, scope, run.versionId);
  const stepOf = new Map(loaded.tasks.map((t) => [t.id, t.stepId]));
  for (const c of w.created) stepOf.set(c.id, stepOf.get(c.from) ?? '');
  const claimed: ClaimedTask[] = [];
  const rest: Dispatch[] = [];
  for (const d of dispatch) {
    const update = reserved.has(d.taskId) ? w.updates.findLast((u) => u.id === d.taskId) : undefined;
    const step = version.steps.get(stepOf.get(d.taskId) ?? '');
    if (!update || !step || update.props.status !== 'QUEUED') {
      rest.push(d);
      continue;
    }
    const claim = crypto.randomUUID();
    Object.assign(update.props, {
      status: 'RUNNING',
      claim,
      claimedBy: eager.workerId,
      leaseUntil: dt(new Date(at.getTime() + eager.leaseMs)),
      startedAt: dt(at),
    });
    w.events.push(statusEvent(d.taskId, 'QUEUED', 'RUNNING', `attempt ${d.attempt}`));
    const itemIndex = update.props.itemIndex;
    claimed.push({
      ref: { ...scope, runId: run.id, taskId: d.taskId, attempt: d.attempt },
      claim,
      stepId: step.id,
      uses: step.uses,
      input: JSON.parse(update.props.input as string),
      idempotencyKey: update.props.idempotencyKey as string,
      itemIndex: itemIndex === null || itemIndex === undefined ? null : Number(itemIndex),
      tries: 1,
      step,
      runDeadlineAt: run.deadlineAt,
      initiatedBy: run.initiatedBy,
      initiatorRoles: run.initiatorRoles,
      reclaimed: false,
    });
  }
  return { dispatch: rest, claimed };
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
  eager?: EagerOptions,
): Promise<AdvanceResult> {
  let committed: RunState | null = null;
  const result = await graph.write(async (tx): Promise<AdvanceResult> => {
    committed = null;
    const loaded = await loadLocked(tx, scope, runId);
    if (!loaded) throw new AppError('NOT_FOUND', 'run not found', { field: ['runId'] });
    const { run } = loaded;
    const w = emptyWrite();
    if (run.status === 'PENDING') {
      const version = await versionOf(tx, scope, run.versionId);
      const deadline = version.timeoutMs === null ? null : new Date(at.getTime() + version.timeoutMs);
      Object.assign(w.runProps, {
        status: 'RUNNING',
        startedAt: dt(at),
        deadlineAt: deadline ? dt(deadline) : null,
      });
      w.events.push(statusEvent(runId, 'PENDING', 'RUNNING'));
      run.status = 'RUNNING';
      run.deadlineAt = deadline?.toISOString() ?? null;
    }
    if (run.status !== 'RUNNING') {
      return { status: run.status, deadlineAt: run.deadlineAt, dispatch: [], claimed: [] };
    }
    const planned = await planInto(tx, scope, loaded, w, at);
    const { dispatch, claimed } = await eagerize(tx, scope, loaded, w, planned.dispatch, at, eager);
    await writePlan(tx, scope, runId, w, at);
    committed = stateAfter(loaded, w, (await versionOf(tx, scope, run.versionId)).refs);
    return { status: planned.status, deadlineAt: run.deadlineAt, dispatch, claimed };
  });
  if (committed) rememberState(scope, committed);
  return result;
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
 * RUNNING with a fresh claim token and lease, and its timeline event — one statement, after
 * the run's write lock, so two claimers can never both win.
 */
export async function claimTask(
  graph: Graph,
  ref: TaskRef,
  options: { workerId: string; leaseMs: number; at: Date },
): Promise<ClaimResult> {
  const { at } = options;
  const claim = crypto.randomUUID();
  return graph.write(async (tx) => {
    const result = await tx.run(
      `MATCH (r:Run {id: $runId, tenantId: $tenantId, environment: $environment, region: $region})
       SET r._lock = true REMOVE r._lock
       WITH r
       MATCH (t:Task {id: $taskId, tenantId: $tenantId, environment: $environment, region: $region})
       WHERE t.runId = r.id
       WITH r, t, t.status AS before, t.leaseUntil AS lease, t.notBefore AS notBefore,
            r.status = 'RUNNING' AND t.attempt = $attempt AND (
              (t.status = 'QUEUED' AND (t.notBefore IS NULL OR t.notBefore <= $at)) OR
              (t.status = 'RUNNING' AND t.leaseUntil <= $at)) AS ok
       CALL (r, t, ok, before) {
         WITH r, t, before WHERE ok
         SET t.status = 'RUNNING', t.claim = $claim, t.claimedBy = $workerId, t.leaseUntil = $leaseUntil,
             t.startedAt = $at, t.notBefore = null, t.updatedAt = $at,
             r.lastSeq = coalesce(r.lastSeq, 0) + 1, r.updatedAt = $at
         CREATE (r)-[:HAS_EVENT]->(:TimelineEvent {id: 'evt_' + randomUUID(), tenantId: r.tenantId,
           environment: r.environment, region: r.region, runId: r.id, seq: r.lastSeq, at: $at, createdAt: $at,
           type: 'task.status', subjectId: t.id, from: before, to: 'RUNNING',
           message: 'attempt ' + toString($attempt) +
                    CASE WHEN before = 'RUNNING' THEN ': lease lapsed, taken over' ELSE '' END, actor: null})
       }
       RETURN ok, before, r.status AS runStatus, r.workflowVersionId AS versionId, r.initiatedBy AS initiatedBy,
              r.initiatorRoles AS initiatorRoles, toString(r.deadlineAt) AS deadlineAt,
              toString(lease) AS leaseUntil, toString(notBefore) AS notBefore,
              t { .attempt, .tries, .stepId, .uses, .input, .idempotencyKey, .itemIndex } AS t`,
      {
        ...ref,
        attempt: neo4j.int(ref.attempt),
        claim,
        workerId: options.workerId,
        at: dt(at),
        leaseUntil: dt(new Date(at.getTime() + options.leaseMs)),
      },
    );
    const row = result.records[0];
    if (!row) return { claimed: false, reason: 'done', status: 'MISSING' };
    const t = row.get('t') as Record<string, unknown>;
    const before = row.get('before') as string;
    const runStatus = row.get('runStatus') as string;
    if (!(row.get('ok') as boolean)) {
      if (runStatus !== 'RUNNING') return { claimed: false, reason: 'done', status: `run ${runStatus}` };
      if (Number(t.attempt) !== ref.attempt) return { claimed: false, reason: 'done', status: before };
      const leaseUntil = row.get('leaseUntil') as string | null;
      const notBefore = row.get('notBefore') as string | null;
      if (before === 'RUNNING' && leaseUntil)
        return { claimed: false, reason: 'later', retryAt: new Date(leaseUntil) };
      if (before === 'QUEUED' && notBefore)
        return { claimed: false, reason: 'later', retryAt: new Date(notBefore) };
      return { claimed: false, reason: 'done', status: before };
    }
    const versionId = row.get('versionId') as string;
    rememberRunVersion(ref.runId, versionId);
    const version = await versionOf(tx, ref, versionId);
    const step = version.steps.get(t.stepId as string);
    if (!step) throw new AppError('INTERNAL', `step ${String(t.stepId)} missing from its manifest`);
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
        runDeadlineAt: (row.get('deadlineAt') as string | null) ?? null,
        initiatedBy: row.get('initiatedBy') as string,
        initiatorRoles: (row.get('initiatorRoles') as string[] | null) ?? [],
        reclaimed: before === 'RUNNING',
      },
    };
  });
}

/** Moves a live claim's lease to `until`; false when the claim is gone. */
async function setLease(
  graph: Graph,
  task: Pick<ClaimedTask, 'ref' | 'claim'>,
  until: Date,
): Promise<boolean> {
  return graph.write(async (tx) => {
    const result = await tx.run(
      `MATCH (t:Task {id: $taskId, tenantId: $tenantId, environment: $environment, region: $region})
       WHERE t.claim = $claim AND t.status = 'RUNNING'
       SET t.leaseUntil = $until
       RETURN count(t) AS n`,
      { ...task.ref, claim: task.claim, until: dt(until) },
    );
    return Number(result.records[0]?.get('n') ?? 0) > 0;
  });
}

/** Extends a live claim; false when the claim is gone (cancelled, taken over, finished). */
export function renewLease(
  graph: Graph,
  task: Pick<ClaimedTask, 'ref' | 'claim'>,
  leaseMs: number,
  at: Date,
): Promise<boolean> {
  return setLease(graph, task, new Date(at.getTime() + leaseMs));
}

/**
 * Gives a claim back without a result (the worker is draining): the lease lapses now, so any
 * worker may take the task over at once. Nothing is recorded as an attempt.
 */
export function releaseClaim(
  graph: Graph,
  task: Pick<ClaimedTask, 'ref' | 'claim'>,
  at: Date,
): Promise<boolean> {
  return setLease(graph, task, at);
}

/**
 * Ends a claim in one transaction of two statements: load (run lock, run, tasks, claim check)
 * and write. Records nothing when the task is no longer RUNNING under this claim (someone took
 * it over, or the run was cancelled) — so a result is recorded at most once.
 */
async function finishClaimed<T>(
  graph: Graph,
  task: Pick<ClaimedTask, 'ref' | 'claim'>,
  at: Date,
  work: (
    tx: ManagedTransaction,
    loaded: { run: LockedRun; tasks: TaskRow[]; refsLoaded: boolean },
    self: TaskRow,
    w: PlanWrite,
  ) => Promise<T>,
): Promise<{ recorded: false } | { recorded: true; value: T }> {
  return graph.write(async (tx) => {
    const loaded = await loadLocked(tx, task.ref, task.ref.runId);
    const self = loaded?.tasks.find((t) => t.id === task.ref.taskId);
    if (!loaded || !self || self.status !== 'RUNNING' || self.claim !== task.claim)
      return { recorded: false };
    const w = emptyWrite();
    const value = await work(tx, loaded, self, w);
    await writePlan(tx, task.ref, task.ref.runId, w, at);
    return { recorded: true, value };
  });
}

export interface TaskOutcome {
  recorded: boolean;
  dispatch: Dispatch[];
  /** Ready tasks claimed for the calling worker (eager dispatch). */
  claimed: ClaimedTask[];
  runStatus: string | null;
}

export interface CompletedStep {
  task: Pick<ClaimedTask, 'ref' | 'claim' | 'idempotencyKey'>;
  output: unknown;
  costUSD: number;
  actor: string;
}

/**
 * Records several results of one run in one transaction — one lock, one load, one plan, one
 * write — so a wide fan-out's completions do not queue one by one on the run's lock. Each
 * result is recorded only if its task is still RUNNING under its claim.
 */
export async function completeTasks(
  graph: Graph,
  scope: Scope & { runId: string },
  steps: CompletedStep[],
  at: Date,
  eager?: EagerOptions,
): Promise<Omit<TaskOutcome, 'recorded'> & { recorded: boolean[] }> {
  const key = stateKey(scope, scope.runId);
  let committed: RunState | null = null;
  const out = await graph.write(async (tx) => {
    committed = null;
    const cached = runStates.get(key);
    if (cached) {
      // Optimistic: plan from this worker's last view and write only if the run has not moved.
      const attempt = await completeOn(tx, scope, cloneState(cached), steps, at, eager, cached.run.lastSeq);
      if (attempt) {
        committed = attempt.state;
        return attempt.result;
      }
      runStates.delete(key);
    }
    const loaded = await loadLocked(tx, scope, scope.runId);
    if (!loaded) return { recorded: steps.map(() => false), dispatch: [], claimed: [], runStatus: null };
    const done = await completeOn(tx, scope, loaded, steps, at, eager, null);
    committed = done?.state ?? null;
    return done?.result ?? { recorded: steps.map(() => false), dispatch: [], claimed: [], runStatus: null };
  });
  if (committed) rememberState(scope, committed);
  return out;
}

/**
 * Applies results to a run state, plans, and writes (guarded by `expectedSeq` when the state
 * came from memory). Null when the guarded write found the run changed, or nothing applied.
 */
async function completeOn(
  tx: ManagedTransaction,
  scope: Scope & { runId: string },
  loaded: { run: LockedRun; tasks: TaskRow[]; refsLoaded: boolean },
  steps: CompletedStep[],
  at: Date,
  eager: EagerOptions | undefined,
  expectedSeq: number | null,
): Promise<{ result: Omit<TaskOutcome, 'recorded'> & { recorded: boolean[] }; state: RunState } | null> {
  const w = emptyWrite();
  const recorded = steps.map((step) => {
    const self = loaded.tasks.find((t) => t.id === step.task.ref.taskId);
    if (self?.status !== 'RUNNING' || self.claim !== step.task.claim) return false;
    const output = JSON.stringify(step.output ?? null);
    w.updates.push({
      id: self.id,
      props: {
        status: 'SUCCEEDED',
        output,
        costUSD: step.costUSD,
        finishedAt: dt(at),
        claim: null,
        leaseUntil: null,
        error: null,
        errorCode: null,
      },
    });
    w.receipts.push({
      taskId: self.id,
      digest: digestOf({ idempotencyKey: step.task.idempotencyKey, output: step.output ?? null }),
      payload: JSON.stringify({ idempotencyKey: step.task.idempotencyKey, costUSD: step.costUSD }),
      actor: step.actor,
    });
    loaded.run.costUSD += step.costUSD;
    w.events.push(statusEvent(self.id, 'RUNNING', 'SUCCEEDED'));
    self.status = 'SUCCEEDED';
    self.output = output;
    self.claim = null;
    return true;
  });
  if (!recorded.includes(true)) {
    // From memory, "not recorded" may just mean the view is stale: let the caller load.
    return expectedSeq === null
      ? { result: { recorded, dispatch: [], claimed: [], runStatus: null }, state: { ...loaded } }
      : null;
  }
  w.runProps.costUSD = loaded.run.costUSD;
  let result: { dispatch: Dispatch[]; claimed: ClaimedTask[]; status: string } = {
    dispatch: [],
    claimed: [],
    status: loaded.run.status,
  };
  if (loaded.run.status === 'RUNNING') {
    const planned = await planInto(tx, scope, loaded, w, at);
    if (expectedSeq !== null && w.created.length > 0) return null; // fan-out: take the locked path
    result = {
      ...(await eagerize(tx, scope, loaded, w, planned.dispatch, at, eager)),
      status: planned.status,
    };
  }
  if (!(await writePlan(tx, scope, scope.runId, w, at, expectedSeq))) return null;
  const version = await versionOf(tx, scope, loaded.run.versionId);
  return {
    result: { recorded, dispatch: result.dispatch, claimed: result.claimed, runStatus: result.status },
    state: stateAfter(loaded, w, version.refs),
  };
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
  const out = await finishClaimed(graph, task, at, async (tx, loaded, self, w) => {
    const attempt = self.attempt;
    const policy = retryPolicy(task.step.retry);
    const retry = failure.retryable && failure.code !== 'CANCELLED' && task.tries < policy.max_attempts;
    if (retry) {
      const delayMs = retryDelayMs(policy, task.tries + 1, {
        ...(options.random ? { random: options.random } : {}),
        ...(failure.retryAfterMs !== undefined ? { retryAfterMs: failure.retryAfterMs } : {}),
      });
      w.updates.push({
        id: self.id,
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
      });
      const message = `attempt ${attempt} failed (${error}); attempt ${attempt + 1} in ${delayMs} ms`;
      w.events.push({ type: 'task.retry', subjectId: self.id, from: 'RUNNING', to: 'QUEUED', message });
      return {
        dispatch: [{ taskId: self.id, attempt: attempt + 1, delayMs }],
        status: loaded.run.status,
        delayMs,
      };
    }
    const deadLetter = failure.retryable && failure.code !== 'CANCELLED';
    w.updates.push({
      id: self.id,
      props: {
        status: 'FAILED',
        finishedAt: dt(at),
        claim: null,
        leaseUntil: null,
        error,
        errorCode: failure.code,
        deadLetter: deadLetter ? true : null,
      },
    });
    const why = deadLetter ? `${error} (retries exhausted: dead letter)` : error;
    w.events.push(statusEvent(self.id, 'RUNNING', 'FAILED', why));
    self.status = 'FAILED';
    if (loaded.run.status !== 'RUNNING') return { dispatch: [], status: loaded.run.status, delayMs: null };
    return { ...(await planInto(tx, task.ref, loaded, w, at)), delayMs: null };
  });
  return out.recorded
    ? {
        recorded: true,
        dispatch: out.value.dispatch,
        claimed: [],
        runStatus: out.value.status,
        retryInMs: out.value.delayMs,
      }
    : { recorded: false, dispatch: [], claimed: [], runStatus: null, retryInMs: null };
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
  const out = await finishClaimed(graph, task, at, async (tx, _loaded, self, w) => {
    await tx.run(
      `MATCH (t:Task {id: $taskId, tenantId: $tenantId, environment: $environment, region: $region})
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
    w.updates.push({ id: self.id, props: { status: 'WAITING', claim: null, leaseUntil: null } });
    w.events.push(statusEvent(self.id, 'RUNNING', 'WAITING', `approval ${approvalId}`));
  });
  return { recorded: out.recorded, approvalId: out.recorded ? approvalId : null };
}

/**
 * Ends a RUNNING run whose deadline has passed: open tasks CANCELLED, the run FAILED with the
 * reason, one transaction. Returns false when there was nothing to do.
 */
export async function expireRun(graph: Graph, scope: Scope, runId: string, at: Date): Promise<boolean> {
  return graph.write(async (tx) => {
    const loaded = await loadLocked(tx, scope, runId);
    const run = loaded?.run;
    if (!loaded || run?.status !== 'RUNNING' || run.deadlineAt === null) return false;
    if (Date.parse(run.deadlineAt) > at.getTime()) return false;
    const message = 'run timed out';
    const w = emptyWrite();
    for (const t of loaded.tasks.filter((x) => !TERMINAL_TASK_STATUSES.includes(x.status))) {
      w.updates.push({
        id: t.id,
        props: { status: 'CANCELLED', finishedAt: dt(at), claim: null, leaseUntil: null, error: message },
      });
      w.events.push(statusEvent(t.id, t.status, 'CANCELLED', message));
    }
    Object.assign(w.runProps, { status: 'FAILED', finishedAt: dt(at), statusMessage: message });
    w.events.push(statusEvent(runId, 'RUNNING', 'FAILED', message));
    await writePlan(tx, scope, runId, w, at);
    return true;
  });
}
