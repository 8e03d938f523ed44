// Scale data set for the graph benchmarks: 100,000 runs x 10 tasks for one bench tenant (plus
// noise), written through batched, parameterised `UNWIND $rows AS row CREATE ...` transactions:
// one statement per ~BENCH_BATCH_NODES nodes creates runs with their tasks, DEPENDS_ON edges and
// timeline events (CREATE_RUNS), BENCH_LOAD_CONCURRENCY transactions in flight over disjoint
// runs. Every constraint and index stays in place (nothing is deferred); the report says which.
//
//   tsx bench/load-graph.ts            load unless the BenchDataset marker matches the size
//   tsx bench/load-graph.ts --reload   delete the bench tenants' data, then load again
//   tsx bench/load-graph.ts --drop     delete the bench tenants' data and the marker, load nothing
//
// Env: BENCH_SCALE=small (5,000 runs) | BENCH_RUNS (default 100000) | BENCH_TASKS_PER_RUN (10) |
//      BENCH_BATCH_NODES (nodes per write transaction, default 5000) | BENCH_LOAD_CONCURRENCY (2).
//
// Ids, statuses and times are derived from a hash of (part, run index), so a load is
// reproducible and the benchmark can name any run by its index (runIdOf) without reading.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { digestOf } from '@maestro/domain';
import { applyConstraints, createGraph, type Graph } from '@maestro/graph';
import { loadServiceEnv, REPO_ROOT } from '@maestro/testing';
import neo4j from 'neo4j-driver';

export const DATASET_NAME = 'graph-scale';
/** Bump when the generator changes shape: a marker with another format forces a reload. */
export const DATASET_FORMAT = 1;
export const BENCH_TENANT_ID = 'tnt_00000000-0000-4000-8000-00000000b001';
export const NOISE_TENANT_IDS = [
  'tnt_00000000-0000-4000-8000-00000000b002',
  'tnt_00000000-0000-4000-8000-00000000b003',
] as const;
export const BENCH_TENANTS: readonly string[] = [BENCH_TENANT_ID, ...NOISE_TENANT_IDS];
export const BENCH_SUBJECT = 'bench-operator';
export const BENCH_ROLES = ['operator'];
export const BENCH_SCOPE = { tenantId: BENCH_TENANT_ID, environment: 'dev', region: 'EU' } as const;
export const WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;
/** Nodes per delete statement (each runs as 5,000-node inner transactions). */
const DELETE_CHUNK = 50_000;
const HOUR_MS = 3_600_000;

/** Workflow names and their share of the runs. */
export const WORKFLOWS = [
  { name: 'etl-nightly', weight: 45 },
  { name: 'report-daily', weight: 30 },
  { name: 'ml-train', weight: 15 },
  { name: 'backfill', weight: 10 },
] as const;
const WORKFLOW_VERSION = '1.4.0';

/** Every label of graph-schema/graph.yaml: what --reload/--drop clears for the bench tenants. */
const ENTITY_LABELS = [
  'TimelineEvent',
  'Task',
  'Receipt',
  'PolicyDecision',
  'Approval',
  'Run',
  'Schedule',
  'Resource',
  'WorkflowVersion',
  'Workflow',
  'User',
  'Tenant',
] as const;

export interface LoadOptions {
  runs: number;
  tasksPerRun: number;
  /** Nodes per write transaction (rows are sized to it per entity kind). */
  batchNodes: number;
  /** Write transactions in flight. */
  concurrency: number;
  reload: boolean;
  log: (line: string) => void;
}

export function loadOptionsFromEnv(
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): LoadOptions {
  const int = (name: string, fallback: number, min: number) => {
    const raw = env[name];
    const value = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}`);
    return value;
  };
  return {
    runs: int('BENCH_RUNS', env.BENCH_SCALE === 'small' ? 5_000 : 100_000, 1),
    tasksPerRun: int('BENCH_TASKS_PER_RUN', 10, 1),
    batchNodes: int('BENCH_BATCH_NODES', 5_000, 1),
    concurrency: int('BENCH_LOAD_CONCURRENCY', 2, 1),
    reload: argv.includes('--reload'),
    log: (line) => console.log(line),
  };
}

// ----------------------------------------------------------------------------- the data set

/** One (tenant, environment, region) slice of the data set. */
interface Part {
  key: string;
  tenantId: string;
  environment: string;
  region: string;
  runs: number;
}

function partsOf(runs: number): Part[] {
  const share = (f: number) => Math.max(1, Math.round(runs * f));
  return [
    { key: 'main', ...BENCH_SCOPE, runs },
    // The bench tenant's second scope: must never show up in the dev/EU reads.
    { key: 'prod-us', tenantId: BENCH_TENANT_ID, environment: 'prod', region: 'US', runs: share(0.05) },
    // Noise tenants in the same scope names (~10% of the volume each).
    { key: 'noise-1', tenantId: NOISE_TENANT_IDS[0], environment: 'dev', region: 'EU', runs: share(0.1) },
    { key: 'noise-2', tenantId: NOISE_TENANT_IDS[1], environment: 'dev', region: 'EU', runs: share(0.1) },
  ];
}

function uuidOf(bytes: Uint8Array | number[]): string {
  const b = Array.from(bytes.slice(0, 16), (x) => x);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40; // version 4 shape
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80; // RFC 4122 variant
  const h = b.map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** xoshiro128** seeded from 128 hash bits: per-run randomness and the ids of its tasks/events. */
class Rng {
  private s: Uint32Array;
  constructor(seed: Buffer) {
    this.s = new Uint32Array([
      seed.readUInt32LE(0),
      seed.readUInt32LE(4),
      seed.readUInt32LE(8),
      seed.readUInt32LE(12),
    ]);
    if (!this.s.some((x) => x !== 0)) this.s[0] = 1;
  }
  u32(): number {
    const s = this.s;
    const s0 = s[0] as number;
    const s1 = s[1] as number;
    const s2 = s[2] as number;
    const s3 = s[3] as number;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s[2] = s2 ^ s0;
    s[3] = s3 ^ s1;
    s[1] = s1 ^ (s[2] as number);
    s[0] = s0 ^ (s[3] as number);
    s[2] = (s[2] as number) ^ t;
    s[3] = rotl(s[3] as number, 11);
    return r;
  }
  /** [0, 1) */
  next(): number {
    return this.u32() / 4_294_967_296;
  }
  uuid(): string {
    const bytes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const x = this.u32();
      bytes.push(x >>> 24, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff);
    }
    return uuidOf(bytes);
  }
  pick<T>(items: readonly T[], weight: (t: T) => number): T {
    const total = items.reduce((a, t) => a + weight(t), 0);
    let x = this.next() * total;
    for (const t of items) {
      x -= weight(t);
      if (x < 0) return t;
    }
    return items[items.length - 1] as T;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function digestBytes(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The id of run `index` of a part ('main' is the bench tenant's dev/EU scope). */
export function runIdOf(index: number, part = 'main'): string {
  return `run_${uuidOf(digestBytes(`${DATASET_NAME}:${part}:run:${index}`))}`;
}

const RECENT_STATUSES = [
  { s: 'RUNNING', w: 50 },
  { s: 'PENDING', w: 20 },
  { s: 'AWAITING_APPROVAL', w: 20 },
  { s: 'SUCCEEDED', w: 10 },
] as const;
const OLD_STATUSES = [
  { s: 'SUCCEEDED', w: 75 },
  { s: 'FAILED', w: 12 },
  { s: 'CANCELLED', w: 6 },
  { s: 'REJECTED', w: 2 },
  { s: 'AWAITING_APPROVAL', w: 2 },
  { s: 'RUNNING', w: 2 },
  { s: 'PENDING', w: 1 },
] as const;
type RunStatus = (typeof OLD_STATUSES)[number]['s'];

interface TaskRow {
  id: string;
  stepId: string;
  uses: string;
  status: string;
  attempt: number;
  needs: string[];
  key: string;
  itemIndex: number | null;
  position: number;
  input: string;
  costUSD: number;
}

interface EventRow {
  id: string;
  seq: number;
  at: string;
  type: string;
  subjectId: string;
  to: string;
  actor: string;
}

interface RunSpec {
  row: {
    id: string;
    workflowId: string;
    workflowName: string;
    versionId: string;
    status: RunStatus;
    params: string;
    estimatedCostUSD: number;
    costUSD: number;
    createdAt: string;
    startedAt: string | null;
    finishedAt: string | null;
    lastSeq: number;
  };
  tasks: TaskRow[];
  /** [from position, to position]: the `from` task DEPENDS_ON the `to` task. */
  deps: Array<[number, number]>;
  events: EventRow[];
}

interface WorkflowIds {
  name: string;
  workflowId: string;
  versionId: string;
}

const keyCache = new Map<string, string>();
function taskKey(workflow: string, stepId: string, item: number | null, day: string): string {
  const k = `${workflow}|${stepId}|${item}|${day}`;
  let v = keyCache.get(k);
  if (!v) {
    v = createHash('sha256').update(k).digest('hex');
    if (keyCache.size > 50_000) keyCache.clear();
    keyCache.set(k, v);
  }
  return v;
}

/**
 * A fan-out/fan-in DAG of `k` tasks: extract -> transform[0..k-3] (a foreach step) -> load.
 * k = 1: extract only; k = 2: extract -> load.
 */
function planOf(k: number): Array<{ stepId: string; itemIndex: number | null; needs: string[] }> {
  if (k === 1) return [{ stepId: 'extract', itemIndex: null, needs: [] }];
  const fan = Array.from({ length: k - 2 }, (_, i) => ({
    stepId: 'transform',
    itemIndex: i as number | null,
    needs: ['extract'],
  }));
  return [
    { stepId: 'extract', itemIndex: null, needs: [] },
    ...fan,
    { stepId: 'load', itemIndex: null, needs: [fan.length ? 'transform' : 'extract'] },
  ];
}

function depsOf(k: number): Array<[number, number]> {
  if (k === 1) return [];
  if (k === 2) return [[1, 0]];
  const deps: Array<[number, number]> = [];
  for (let i = 1; i <= k - 2; i++) deps.push([i, 0]);
  for (let i = 1; i <= k - 2; i++) deps.push([k - 1, i]);
  return deps;
}

function taskStatuses(run: RunStatus, k: number, rng: Rng): string[] {
  const all = (s: string) => Array.from({ length: k }, () => s);
  switch (run) {
    case 'SUCCEEDED':
      return all('SUCCEEDED');
    case 'PENDING':
    case 'AWAITING_APPROVAL':
      return all('PENDING');
    case 'REJECTED':
      return all('CANCELLED');
    case 'CANCELLED':
      return Array.from({ length: k }, (_, i) => (i === 0 ? 'SUCCEEDED' : 'CANCELLED'));
    case 'FAILED': {
      // One task failed (a fan-out item when there is one); the sink after it was skipped.
      const failed = k > 2 ? 1 + Math.floor(rng.next() * (k - 2)) : k - 1;
      return Array.from({ length: k }, (_, i) =>
        i === failed ? 'FAILED' : i === k - 1 ? 'SKIPPED' : 'SUCCEEDED',
      );
    }
    case 'RUNNING':
      return Array.from({ length: k }, (_, i) =>
        i === 0
          ? 'SUCCEEDED'
          : i === k - 1
            ? 'PENDING'
            : (['SUCCEEDED', 'RUNNING', 'QUEUED'][i % 3] as string),
      );
  }
}

class Generator {
  readonly plan: ReturnType<typeof planOf>;
  readonly deps: Array<[number, number]>;
  readonly windowStartMs: number;
  readonly shards: number[];
  constructor(
    readonly part: Part,
    readonly tasksPerRun: number,
    readonly windowEndMs: number,
    readonly workflows: WorkflowIds[],
  ) {
    this.plan = planOf(tasksPerRun);
    this.deps = depsOf(tasksPerRun);
    this.windowStartMs = windowEndMs - WINDOW_DAYS * DAY_MS;
    this.shards = Array.from({ length: Math.max(0, tasksPerRun - 2) }, (_, i) => i);
  }

  run(i: number): RunSpec {
    const digest = digestBytes(`${DATASET_NAME}:${this.part.key}:run:${i}`);
    const id = `run_${uuidOf(digest)}`;
    const rng = new Rng(digest.subarray(16));
    const createdMs = Math.floor(
      this.windowStartMs + ((i + rng.next()) / this.part.runs) * (this.windowEndMs - this.windowStartMs),
    );
    const recent = this.windowEndMs - createdMs < 2 * HOUR_MS;
    const status = rng.pick<{ s: RunStatus; w: number }>(
      recent ? RECENT_STATUSES : OLD_STATUSES,
      (x) => x.w,
    ).s;
    const wfWeight = WORKFLOWS.map((w) => w.weight);
    const wf = rng.pick(this.workflows, (w) => wfWeight[this.workflows.indexOf(w)] ?? 1);
    const started = !['PENDING', 'AWAITING_APPROVAL', 'REJECTED'].includes(status);
    const terminal = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'REJECTED'].includes(status);
    const startedMs = createdMs + 200 + Math.floor(rng.next() * 5_000);
    const finishedMs = startedMs + 30_000 + Math.floor(rng.next() * 600_000);
    const day = new Date(createdMs).toISOString().slice(0, 10);
    const statuses = taskStatuses(status, this.tasksPerRun, rng);
    let costUSD = 0;
    const tasks = this.plan.map((p, position): TaskRow => {
      const st = statuses[position] ?? 'PENDING';
      const cost = st === 'SUCCEEDED' || st === 'FAILED' ? Math.round(rng.next() * 2_000) / 10_000 : 0;
      costUSD += cost;
      const input = JSON.stringify({ date: day, shard: p.itemIndex, source: `s3://bench/${wf.name}/${day}` });
      return {
        id: `task_${rng.uuid()}`,
        stepId: p.stepId,
        uses: 'core.echo',
        status: st,
        attempt: st === 'FAILED' && rng.next() < 0.5 ? 2 : 1,
        needs: p.needs,
        key: taskKey(wf.name, p.stepId, p.itemIndex, day),
        itemIndex: p.itemIndex,
        position,
        input,
        costUSD: cost,
      };
    });
    const at = (ms: number) => new Date(ms).toISOString();
    const event = (seq: number, ms: number, type: string, to: string, actor: string): EventRow => ({
      id: `evt_${rng.uuid()}`,
      seq,
      at: at(ms),
      type,
      subjectId: id,
      to,
      actor,
    });
    const events: EventRow[] = [event(0, createdMs, 'run.status', 'PENDING', BENCH_SUBJECT)];
    if (status === 'PENDING') events.push(event(1, createdMs + 5, 'policy.decision', 'allow', 'policy'));
    else if (status === 'AWAITING_APPROVAL') {
      events.push(event(1, createdMs + 5, 'run.status', 'AWAITING_APPROVAL', 'policy'));
    } else if (status === 'REJECTED') {
      events.push(event(1, createdMs + 5, 'approval.decided', 'REJECTED', 'bench-approver'));
      events.push(event(2, createdMs + 10, 'run.status', 'REJECTED', 'bench-approver'));
    } else {
      events.push(event(1, startedMs, 'run.status', 'RUNNING', 'worker'));
      if (terminal) events.push(event(2, finishedMs, 'run.status', status, 'worker'));
    }
    return {
      row: {
        id,
        workflowId: wf.workflowId,
        workflowName: wf.name,
        versionId: wf.versionId,
        status,
        params: JSON.stringify({ date: day, shards: this.shards, dryRun: false }),
        estimatedCostUSD: Math.round(this.tasksPerRun * 150) / 10_000,
        costUSD: Math.round(costUSD * 10_000) / 10_000,
        createdAt: at(createdMs),
        startedAt: started ? at(startedMs) : null,
        finishedAt: terminal && started ? at(finishedMs) : null,
        lastSeq: events.length - 1,
      },
      tasks,
      deps: this.deps,
      events,
    };
  }
}

// ----------------------------------------------------------------------------- writes

// Fixed statements; every value is a parameter (labels are literals).
//
// One statement per batch of runs writes each run with its tasks, their DEPENDS_ON edges and its
// timeline events: every relationship joins nodes the same statement just created (bound
// variables, no lookup), except INSTANCE_OF and INITIATED_BY, whose few targets (the part's
// versions and user) are matched once per transaction. Nothing is MERGEd on the hot path; a
// batch's nodes are its own, so concurrent transactions never touch the same new node.
const CREATE_RUNS = `
MATCH (u:User {tenantId: $tenantId, subject: $subject})
UNWIND $versionIds AS vid
MATCH (v:WorkflowVersion {id: vid})
WITH u, collect(v) AS versions
UNWIND $rows AS row
WITH u, versions[toInteger(row.vi)] AS v, row
CREATE (r:Run {id: row.id, tenantId: $tenantId, environment: $environment, region: $region,
  workflowId: row.workflowId, workflowName: row.workflowName, workflowVersionId: row.versionId,
  version: $version, status: row.status, params: row.params, initiatedBy: $subject,
  initiatorRoles: $roles, idempotencyKey: row.id, estimatedCostUSD: row.estimatedCostUSD,
  costUSD: row.costUSD, createdAt: datetime(row.createdAt), startedAt: datetime(row.startedAt),
  finishedAt: datetime(row.finishedAt), lastSeq: toInteger(row.lastSeq)})
CREATE (r)-[:INSTANCE_OF]->(v), (r)-[:INITIATED_BY]->(u)
WITH r, row
CALL (r, row) {
  UNWIND row.tasks AS t
  CREATE (r)-[:HAS_TASK]->(x:Task {id: t.id, tenantId: $tenantId, environment: $environment,
    region: $region, runId: row.id, stepId: t.stepId, uses: t.uses, status: t.status,
    attempt: toInteger(t.attempt), needs: t.needs, idempotencyKey: t.key,
    itemIndex: toInteger(t.itemIndex), position: toInteger(t.position), input: t.input,
    costUSD: t.costUSD, createdAt: datetime(row.createdAt)})
  WITH x ORDER BY x.position
  RETURN collect(x) AS ts
}
CALL (ts) {
  UNWIND $deps AS d
  WITH ts[toInteger(d[0])] AS a, ts[toInteger(d[1])] AS b
  CREATE (a)-[:DEPENDS_ON]->(b)
}
CALL (r, row) {
  UNWIND row.events AS e
  CREATE (r)-[:HAS_EVENT]->(:TimelineEvent {id: e.id, tenantId: $tenantId, environment: $environment,
    region: $region, runId: row.id, seq: toInteger(e.seq), at: datetime(e.at),
    createdAt: datetime(e.at), type: e.type, subjectId: e.subjectId, to: e.to, actor: e.actor})
}`;

export interface KindRate {
  kind: string;
  nodes: number;
  relationships: number;
  seconds: number;
  nodesPerSec: number;
  relsPerSec: number;
}

export interface LoadReport {
  runs: number;
  tasksPerRun: number;
  batchNodes: number;
  concurrency: number;
  transactions: number;
  nodes: number;
  relationships: number;
  /** Wall time of the whole load (setup, all kinds, marker), excluding the delete. */
  seconds: number;
  nodesPerSec: number;
  relsPerSec: number;
  deleteSeconds: number;
  /** What the rate was measured under: machine, Neo4j memory, the indexes every write maintained. */
  context?: LoadContext;
  /** The slices loaded: the bench scope, the bench tenant's prod/US scope, the noise tenants. */
  parts: Part[];
  kinds: KindRate[];
}

export interface LoadContext {
  cores: number;
  loadavgBefore: number[];
  loadavgAfter: number[];
  neo4jPageCache: string;
  neo4jHeapMaxBytes: number;
  /** Range indexes (uniqueness constraints included) on the written labels; none is deferred. */
  indexes: Array<{ label: string; indexes: number; uniques: number }>;
  /**
   * CPU seconds the local Neo4j process (scripts/services.sh's pid file) spent during the load,
   * other clients' work included; null when Neo4j is not ours to read.
   */
  neo4jCpuSeconds: number | null;
  /** CPU seconds of this process (data generation, parameter encoding). */
  loaderCpuSeconds: number;
}

/** utime + stime of a local process in seconds (Linux /proc), or null. */
function processCpuSeconds(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks; USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

function localNeo4jPid(): number | null {
  try {
    const dir = process.env.MAESTRO_STATE_DIR ?? join(REPO_ROOT, '.maestro');
    const pid = Number(readFileSync(join(dir, 'run/neo4j.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export interface Dataset {
  name: string;
  format: number;
  tenantId: string;
  environment: string;
  region: string;
  runs: number;
  tasksPerRun: number;
  tasks: number;
  workflows: string[];
  windowStart: string;
  windowEnd: string;
  loadedAt: string;
  /** True when this call loaded the data; false when the marker matched and loading was skipped. */
  loadedNow: boolean;
  load: LoadReport | null;
}

/** Runs `work` over the items of `source` with at most `concurrency` in flight. */
async function inParallel<T>(
  source: Iterator<T>,
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let failed: unknown = null;
  const lane = async () => {
    for (;;) {
      if (failed) return;
      const next = source.next();
      if (next.done) return;
      try {
        await work(next.value);
      } catch (error) {
        failed = error;
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  if (failed) throw failed;
}

async function readMarker(graph: Graph): Promise<Record<string, unknown> | null> {
  return graph.read(async (tx) => {
    const r = await tx.run(
      `MATCH (m:BenchDataset {name: $name})
       RETURN m { .*, loadedAt: toString(m.loadedAt), windowStart: toString(m.windowStart),
                  windowEnd: toString(m.windowEnd) } AS m`,
      { name: DATASET_NAME },
    );
    return (r.records[0]?.get('m') as Record<string, unknown> | undefined) ?? null;
  });
}

function datasetOf(m: Record<string, unknown>, loadedNow: boolean): Dataset {
  return {
    name: DATASET_NAME,
    format: Number(m.format),
    tenantId: String(m.tenantId),
    environment: String(m.environment),
    region: String(m.region),
    runs: Number(m.runs),
    tasksPerRun: Number(m.tasksPerRun),
    tasks: Number(m.tasks),
    workflows: (m.workflows as string[] | null) ?? [],
    windowStart: String(m.windowStart),
    windowEnd: String(m.windowEnd),
    loadedAt: String(m.loadedAt),
    loadedNow,
    load: typeof m.load === 'string' ? (JSON.parse(m.load) as LoadReport) : null,
  };
}

/** Deletes the bench tenants' nodes (and the marker) in batches; returns the seconds it took. */
export async function dropDataset(graph: Graph, log: (line: string) => void = console.log): Promise<number> {
  const t0 = performance.now();
  // Marker first: an interrupted delete must not leave a marker that claims a complete data set.
  await graph.write((tx) => tx.run('MATCH (m:BenchDataset {name: $name}) DELETE m', { name: DATASET_NAME }));
  const session = graph.driver.session({ database: graph.database });
  try {
    for (const label of ENTITY_LABELS) {
      // CALL { } IN TRANSACTIONS needs an auto-commit transaction (session.run, not executeWrite).
      // The outer statement still counts against the server's transaction timeout (2 min here),
      // so each statement takes at most DELETE_CHUNK nodes and we repeat until none is left.
      let deleted = 0;
      for (;;) {
        const result = await session.run(
          `MATCH (n:${label}) WHERE n.tenantId IN $tenants
           WITH n LIMIT $chunk
           CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS`,
          { tenants: BENCH_TENANTS, chunk: neo4j.int(DELETE_CHUNK) },
        );
        const n = result.summary.counters.updates().nodesDeleted;
        deleted += n;
        if (n < DELETE_CHUNK) break;
        log(`  deleted ${deleted.toLocaleString('en')} ${label} nodes so far`);
      }
      if (deleted) log(`  deleted ${deleted.toLocaleString('en')} ${label} nodes`);
    }
  } finally {
    await session.close();
  }
  return (performance.now() - t0) / 1000;
}

/**
 * Makes sure the data set of the requested size is loaded: skips when the marker matches,
 * otherwise (or with reload) deletes the bench tenants' data and loads it again.
 */
export async function ensureDataset(graph: Graph, options: LoadOptions): Promise<Dataset> {
  const { log } = options;
  await applyConstraints(graph);
  await graph.write((tx) => tx.run('CALL db.awaitIndexes(300)'));
  const marker = await readMarker(graph);
  if (
    !options.reload &&
    marker &&
    Number(marker.format) === DATASET_FORMAT &&
    Number(marker.runs) === options.runs &&
    Number(marker.tasksPerRun) === options.tasksPerRun
  ) {
    log(
      `dataset ${DATASET_NAME}: ${options.runs.toLocaleString('en')} runs x ${options.tasksPerRun} tasks already loaded (${String(marker.loadedAt)}); skipping (--reload to load again)`,
    );
    return datasetOf(marker, false);
  }
  log(
    marker
      ? `dataset ${DATASET_NAME}: ${options.reload ? 'reload requested' : `marker is for ${String(marker.runs)} runs x ${String(marker.tasksPerRun)} tasks (format ${String(marker.format)})`}; deleting the bench tenants' data`
      : `dataset ${DATASET_NAME}: no marker; clearing any partial data of the bench tenants`,
  );
  const deleteSeconds = await dropDataset(graph, log);
  log(`  delete took ${deleteSeconds.toFixed(1)} s`);
  const load = await loadDataset(graph, options);
  load.report.deleteSeconds = deleteSeconds;
  await graph.write((tx) =>
    tx.run(
      `MERGE (m:BenchDataset {name: $name})
       SET m.format = $format, m.tenantId = $tenantId, m.environment = $environment, m.region = $region,
           m.runs = $runs, m.tasksPerRun = $tasksPerRun, m.tasks = $tasks, m.workflows = $workflows,
           m.windowStart = datetime($windowStart), m.windowEnd = datetime($windowEnd),
           m.loadedAt = datetime(), m.load = $load`,
      {
        name: DATASET_NAME,
        format: DATASET_FORMAT,
        ...BENCH_SCOPE,
        runs: options.runs,
        tasksPerRun: options.tasksPerRun,
        tasks: options.runs * options.tasksPerRun,
        workflows: WORKFLOWS.map((w) => w.name),
        windowStart: new Date(load.windowEndMs - WINDOW_DAYS * DAY_MS).toISOString(),
        windowEnd: new Date(load.windowEndMs).toISOString(),
        load: JSON.stringify(load.report),
      },
    ),
  );
  // Fresh statistics, so the planner sees the loaded sizes right away.
  await graph.write((tx) => tx.run('CALL db.resampleOutdatedIndexes()'));
  const written = await readMarker(graph);
  if (!written) throw new Error('BenchDataset marker missing after load');
  const dataset = datasetOf(written, true);
  dataset.load = { ...load.report, deleteSeconds };
  return dataset;
}

async function loadDataset(
  graph: Graph,
  options: LoadOptions,
): Promise<{ report: LoadReport; windowEndMs: number }> {
  const { log } = options;
  const windowEndMs = Math.ceil(Date.now() / HOUR_MS) * HOUR_MS;
  const parts = partsOf(options.runs);
  const kinds = new Map<string, KindRate>();
  const add = (kind: string, nodes: number, rels: number, ms: number) => {
    const k = kinds.get(kind) ?? {
      kind,
      nodes: 0,
      relationships: 0,
      seconds: 0,
      nodesPerSec: 0,
      relsPerSec: 0,
    };
    k.nodes += nodes;
    k.relationships += rels;
    k.seconds += ms / 1000;
    kinds.set(kind, k);
  };
  let transactions = 0;
  const write = async (statement: string, params: Record<string, unknown>) => {
    const counters = await graph.write(async (tx) =>
      (await tx.run(statement, params)).summary.counters.updates(),
    );
    transactions++;
    return counters;
  };

  const context = await loadContext(graph);
  const neo4jPid = localNeo4jPid();
  const neo4jCpu0 = processCpuSeconds(neo4jPid);
  const loaderCpu0 = process.cpuUsage();
  const t0 = performance.now();
  log(
    `loading: ${parts.map((p) => `${p.key} (${p.tenantId.slice(-4)} ${p.environment}/${p.region}) ${p.runs.toLocaleString('en')} runs`).join(', ')}; ` +
      `${options.tasksPerRun} tasks/run, ~${options.batchNodes} nodes per transaction, ${options.concurrency} in flight`,
  );
  const generators: Array<{ part: Part; gen: Generator; workflows: WorkflowIds[] }> = [];
  for (const part of parts) {
    const scope = { tenantId: part.tenantId, environment: part.environment, region: part.region };
    // Users and workflows: a handful of nodes, one transaction.
    const t = performance.now();
    const workflows: WorkflowIds[] = WORKFLOWS.map((w) => {
      const rng = new Rng(digestBytes(`${DATASET_NAME}:${part.key}:workflow:${w.name}`));
      return { name: w.name, workflowId: `wf_${rng.uuid()}`, versionId: `wfv_${rng.uuid()}` };
    });
    const setup = await write(
      `MERGE (u:User {tenantId: $tenantId, subject: $subject})
         ON CREATE SET u.id = $userId, u.createdAt = datetime($at)
       WITH u
       UNWIND $workflows AS wf
       CREATE (w:Workflow {id: wf.workflowId, tenantId: $tenantId, environment: $environment, region: $region,
                           name: wf.name, latestVersionId: wf.versionId, createdAt: datetime($at),
                           updatedAt: datetime($at)})
       CREATE (v:WorkflowVersion {id: wf.versionId, tenantId: $tenantId, environment: $environment,
                                  region: $region, workflowName: wf.name, version: $version, digest: wf.digest,
                                  manifest: wf.manifest, publishedBy: $subject, publishedByRoles: ['composer'],
                                  publishedAt: datetime($at), createdAt: datetime($at)})
       CREATE (v)-[:VERSION_OF]->(w)`,
      {
        ...scope,
        subject: BENCH_SUBJECT,
        userId: `usr_${new Rng(digestBytes(`${DATASET_NAME}:${part.tenantId}:user`)).uuid()}`,
        at: new Date(windowEndMs - (WINDOW_DAYS + 1) * DAY_MS).toISOString(),
        version: WORKFLOW_VERSION,
        workflows: workflows.map((w) => {
          const manifest = manifestOf(w.name, options.tasksPerRun);
          return { ...w, manifest: JSON.stringify(manifest), digest: digestOf(manifest) };
        }),
      },
    );
    add(
      'User+Workflow+WorkflowVersion',
      setup.nodesCreated,
      setup.relationshipsCreated,
      performance.now() - t,
    );

    generators.push({
      part,
      gen: new Generator(part, options.tasksPerRun, windowEndMs, workflows),
      workflows,
    });
  }

  // Runs, tasks and events of every part: one stream of batches (each a slice of one part's
  // runs), `concurrency` transactions in flight, so small parts do not leave a lane idle.
  const perRun = 1 + options.tasksPerRun + 3; // a run, its tasks, ~3 events
  const runsPerBatch = Math.max(1, Math.floor(options.batchNodes / perRun));
  function* allBatches() {
    for (const g of generators) {
      for (let start = 0; start < g.part.runs; start += runsPerBatch) {
        yield { g, start, end: Math.min(g.part.runs, start + runsPerBatch) };
      }
    }
  }
  const t = performance.now();
  const done = { nodes: 0, rels: 0, runs: 0, tasks: 0, events: 0 };
  let lastLog = t;
  await inParallel(allBatches(), options.concurrency, async ({ g, start, end }) => {
    const scope = { tenantId: g.part.tenantId, environment: g.part.environment, region: g.part.region };
    const rows = [];
    let events = 0;
    for (let i = start; i < end; i++) {
      const spec = g.gen.run(i);
      events += spec.events.length;
      rows.push({
        ...spec.row,
        vi: g.workflows.findIndex((w) => w.versionId === spec.row.versionId),
        tasks: spec.tasks,
        events: spec.events,
      });
    }
    const c = await write(CREATE_RUNS, {
      ...scope,
      subject: BENCH_SUBJECT,
      roles: BENCH_ROLES,
      version: WORKFLOW_VERSION,
      versionIds: g.workflows.map((w) => w.versionId),
      deps: g.gen.deps,
      rows,
    });
    done.nodes += c.nodesCreated;
    done.rels += c.relationshipsCreated;
    done.runs += rows.length;
    done.tasks += rows.length * options.tasksPerRun;
    done.events += events;
    const now = performance.now();
    if (now - lastLog > 10_000) {
      lastLog = now;
      log(`  ${done.nodes.toLocaleString('en')} nodes (${rate(done.nodes, now - t)} nodes/s)`);
    }
  });
  const ms = performance.now() - t;
  add('Run+Task+TimelineEvent', done.nodes, done.rels, ms);
  const expected = done.runs + done.tasks + done.events;
  if (done.nodes !== expected) throw new Error(`created ${done.nodes} nodes, expected ${expected}`);
  log(
    `  runs ${done.runs.toLocaleString('en')}, tasks ${done.tasks.toLocaleString('en')}, events ${done.events.toLocaleString('en')}: ` +
      `${done.nodes.toLocaleString('en')} nodes, ${done.rels.toLocaleString('en')} rels in ${(ms / 1000).toFixed(1)} s ` +
      `(${rate(done.nodes, ms)} nodes/s, ${rate(done.rels, ms)} rels/s)`,
  );
  const seconds = (performance.now() - t0) / 1000;
  const list = [...kinds.values()].map((k) => ({
    ...k,
    nodesPerSec: k.nodes / k.seconds,
    relsPerSec: k.relationships / k.seconds,
  }));
  const nodes = list.reduce((a, k) => a + k.nodes, 0);
  const relationships = list.reduce((a, k) => a + k.relationships, 0);
  return {
    windowEndMs,
    report: {
      runs: options.runs,
      tasksPerRun: options.tasksPerRun,
      batchNodes: options.batchNodes,
      concurrency: options.concurrency,
      transactions,
      nodes,
      relationships,
      seconds,
      nodesPerSec: nodes / seconds,
      relsPerSec: relationships / seconds,
      deleteSeconds: 0,
      context: {
        ...context,
        loadavgAfter: loadavg(),
        neo4jCpuSeconds: neo4jCpu0 === null ? null : (processCpuSeconds(neo4jPid) ?? neo4jCpu0) - neo4jCpu0,
        loaderCpuSeconds: (() => {
          const u = process.cpuUsage(loaderCpu0);
          return (u.user + u.system) / 1e6;
        })(),
      },
      parts,
      kinds: list,
    },
  };
}

async function loadContext(graph: Graph): Promise<LoadContext> {
  const loadavgBefore = loadavg();
  return graph.read(async (tx) => {
    const config = await tx.run(
      `CALL dbms.listConfig('server.memory.pagecache.size') YIELD value RETURN value`,
    );
    const heap = await tx.run(
      `CALL dbms.queryJmx('java.lang:type=Memory') YIELD attributes
       RETURN attributes.HeapMemoryUsage.value.properties.max AS max`,
    );
    const indexes = await tx.run(
      `SHOW INDEXES YIELD labelsOrTypes, type, owningConstraint
       WHERE type = 'RANGE' AND labelsOrTypes[0] IN $labels
       RETURN labelsOrTypes[0] AS label, count(*) AS indexes, count(owningConstraint) AS uniques
       ORDER BY label`,
      { labels: ['Run', 'Task', 'TimelineEvent'] },
    );
    return {
      cores: cpus().length,
      loadavgBefore,
      loadavgAfter: [],
      neo4jCpuSeconds: null,
      loaderCpuSeconds: 0,
      neo4jPageCache: String(config.records[0]?.get('value') ?? 'unknown'),
      neo4jHeapMaxBytes: Number(heap.records[0]?.get('max') ?? 0),
      indexes: indexes.records.map((r) => ({
        label: String(r.get('label')),
        indexes: Number(r.get('indexes')),
        uniques: Number(r.get('uniques')),
      })),
    };
  });
}

function manifestOf(name: string, k: number) {
  const steps: Array<Record<string, unknown>> = [
    { id: 'extract', uses: 'core.echo', with: { message: 'extract' } },
  ];
  if (k > 2) {
    steps.push({
      id: 'transform',
      uses: 'core.echo',
      needs: ['extract'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${{ }} is the workflow expression syntax
      foreach: '${{ params.shards }}',
      with: { message: 'transform' },
    });
  }
  if (k > 1) {
    steps.push({
      id: 'load',
      uses: 'core.echo',
      needs: [k > 2 ? 'transform' : 'extract'],
      with: { message: 'load' },
    });
  }
  return {
    name,
    version: WORKFLOW_VERSION,
    params: {
      shards: {
        type: 'array',
        items: { type: 'integer' },
        default: Array.from({ length: Math.max(0, k - 2) }, (_, i) => i),
      },
    },
    steps,
  };
}

function rate(count: number, ms: number): string {
  return Math.round(count / (ms / 1000)).toLocaleString('en');
}

export function printLoadReport(report: LoadReport, log: (line: string) => void = console.log): void {
  const target = 20_000;
  log(
    `load: ${report.nodes.toLocaleString('en')} nodes, ${report.relationships.toLocaleString('en')} relationships in ` +
      `${report.seconds.toFixed(1)} s, ${report.transactions} transactions (batch ~${report.batchNodes} nodes, ${report.concurrency} in flight)`,
  );
  log(
    `  overall: ${Math.round(report.nodesPerSec).toLocaleString('en')} nodes/s, ${Math.round(report.relsPerSec).toLocaleString('en')} rels/s ` +
      `${report.nodesPerSec >= target ? '✓' : '✗'} target >= ${target.toLocaleString('en')} nodes/s`,
  );
  for (const k of report.kinds) {
    log(
      `  ${k.kind.padEnd(30)} ${k.nodes.toLocaleString('en').padStart(10)} nodes ${k.relationships.toLocaleString('en').padStart(10)} rels ` +
        `${k.seconds.toFixed(1).padStart(7)} s ${Math.round(k.nodesPerSec).toLocaleString('en').padStart(8)} nodes/s ` +
        `${Math.round(k.relsPerSec).toLocaleString('en').padStart(8)} rels/s`,
    );
  }
  const c = report.context;
  if (c) {
    log(
      `  under: ${c.cores} cores, load average ${c.loadavgBefore.map((x) => x.toFixed(2)).join(' ')} before / ` +
        `${c.loadavgAfter.map((x) => x.toFixed(2)).join(' ')} after; Neo4j page cache ${c.neo4jPageCache}, ` +
        `heap ${(c.neo4jHeapMaxBytes / 2 ** 30).toFixed(1)} GiB; maintained on every write (none deferred): ` +
        c.indexes.map((i) => `${i.label} ${i.indexes} range indexes (${i.uniques} unique)`).join(', '),
    );
    if (c.neo4jCpuSeconds !== null && c.neo4jCpuSeconds !== undefined) {
      log(
        `  CPU: Neo4j ${c.neo4jCpuSeconds.toFixed(0)} s over ${report.seconds.toFixed(0)} s of load ` +
          `(${(c.neo4jCpuSeconds / report.seconds).toFixed(2)} cores on average, other clients included) = ` +
          `${Math.round(report.nodes / c.neo4jCpuSeconds).toLocaleString('en')} nodes per Neo4j CPU-second; ` +
          `loader ${c.loaderCpuSeconds.toFixed(0)} s`,
      );
    }
  }
  if (report.deleteSeconds) log(`  (deleting the previous data took ${report.deleteSeconds.toFixed(1)} s)`);
}

async function main() {
  const env = loadServiceEnv();
  const graph = createGraph({ uri: env.NEO4J_URI, user: env.NEO4J_USER, password: env.NEO4J_PASSWORD });
  try {
    if (process.argv.includes('--drop')) {
      const s = await dropDataset(graph);
      console.log(`dropped ${DATASET_NAME} in ${s.toFixed(1)} s`);
      return;
    }
    const dataset = await ensureDataset(graph, loadOptionsFromEnv());
    if (dataset.load) printLoadReport(dataset.load);
  } finally {
    await graph.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
