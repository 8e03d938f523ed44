/**
 * Property-based cross-tenant isolation (fast-check).
 *
 * Two tenants (A, B) × two scopes (dev/EU, prod/US) = four cells, each filled with random data
 * through the API (workflows, versions, runs with and without idempotency keys, cancellations,
 * schedules, policy decisions) and straight through the graph for what only the engine creates
 * (an approval, lineage touches). Each property run picks an actor (cell, identity) and a foreign
 * cell — the other scope of the same tenant, or either scope of the other tenant — and checks every
 * contract operation that can name or list an entity of the foreign cell: reads by id, lists,
 * counts, every page of a `first: 2` pagination, cursors carried over from the foreign listing,
 * and every mutation pointed at a foreign id. Foreign entities read as not found, never show up in
 * a list or a count, and are unchanged afterwards (re-read by their owner).
 *
 * Two oracles: the test's own model of what each cell holds (exact sets and counts), and the
 * graph itself — every id any response mentions is looked up in Neo4j and must be stored under the
 * actor's tenant (and, for scoped kinds, its environment and region).
 *
 * Two more checks on the graph pane (Run.graph): a refused mutation leaves the owner's pane
 * unchanged, and a pane only walks through its own scope. The second fails today: runNeighbourhood
 * (packages/graph/src/lineage.ts) checks the scope of the nodes a path ends on, not of the nodes it
 * passes, so e.g. `Run (dev) -INITIATED_BY- User -DECIDED_BY- Approval (prod) -DECIDED_BY- User`
 * puts prod's co-approver into dev's pane. Every cell has an approval decided by a different set
 * of approvers to show it.
 *
 * Reproduce a failure with CROSS_TENANT_SEED=<seed from the message>; CROSS_TENANT_RUNS changes
 * the number of property runs.
 */
import { newId, type Scope } from '@maestro/domain';
import { createApproval, recordTouch } from '@maestro/graph';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.ts';

const SEED = Number(process.env.CROSS_TENANT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const NUM_RUNS = Number(process.env.CROSS_TENANT_RUNS ?? 20);

type TenantKey = 'A' | 'B';
const TENANT_KEYS: readonly TenantKey[] = ['A', 'B'];
const SCOPES = [
  { key: 'dev', environment: 'dev', region: 'EU' },
  { key: 'prod', environment: 'prod', region: 'US' },
] as const;
const ROLES = ['admin', 'operator', 'composer', 'viewer'] as const;
type Role = (typeof ROLES)[number];
/** One subject who is a member of both tenants, with a different role in each. */
const SHARED_SUBJECT = 'shared-person';
const SHARED_ROLE: Record<TenantKey, Role> = { A: 'operator', B: 'viewer' };
/** A workflow name published in every cell (different versions and steps in each). */
const COMMON_WORKFLOW = 'common-flow';
/** A resource URI every cell's runs touch (one Resource node per scope). */
const SHARED_URI = 's3://lake/shared/orders.parquet';
/** The contract's RunStatus values. */
const RUN_STATUSES = [
  'PENDING',
  'AWAITING_APPROVAL',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
  'REJECTED',
] as const;
type RunStatus = (typeof RUN_STATUSES)[number];

/** What each role may do (mirrors the role table, policy-bundles/lib/maestro/lib/roles.rego). */
const MAY: Record<Role, ReadonlySet<string>> = {
  viewer: new Set(['read']),
  composer: new Set(['read', 'publish_workflow']),
  operator: new Set(['read', 'start_workflow', 'cancel_run', 'rerun_task', 'edit_schedule', 'approve']),
  admin: new Set([
    'read',
    'publish_workflow',
    'start_workflow',
    'cancel_run',
    'rerun_task',
    'edit_schedule',
    'approve',
    'manage_members',
  ]),
};

// ---------------------------------------------------------------- the model

interface WorkflowModel {
  id: string;
  name: string;
  versions: Array<{ id: string; version: string }>;
}
interface RunModel {
  id: string;
  workflow: string;
  /** The caller's key, or the run id when none was given (that is what the store keys on). */
  key: string;
  /** PENDING, or AWAITING_APPROVAL where policy requires approval (prod); CANCELLED once cancelled. */
  status: RunStatus;
  createdAt: string;
  taskIds: string[];
}
interface ScheduleModel {
  id: string;
  /** As createSchedule returned it (node(id) must return exactly this later). */
  view: Record<string, unknown>;
}
interface ApprovalModel {
  id: string;
  runId: string;
  requestedBy: string;
  eligibleRoles: string[];
  status: 'PENDING' | 'APPROVED';
  /** Subjects who decided it. */
  approvers: string[];
}
interface Cell {
  index: number;
  tenant: TenantKey;
  tenantId: string;
  scope: { environment: string; region: string };
  label: string;
  /** Prefix of this cell's workflow names and idempotency keys, so no name exists in two cells. */
  prefix: string;
  /** A resource URI only this cell's runs touch. */
  uri: string;
  workflows: WorkflowModel[];
  runs: RunModel[];
  schedules: ScheduleModel[];
  approvals: ApprovalModel[];
  decisions: Set<string>;
  touchedShared: Set<string>;
  /** Foreign ids actors of this cell named in mutations (they may be echoed back, e.g. as a
   *  decision's subjectId, without that being a leak). */
  probed: Set<string>;
}
interface Actor {
  cell: Cell;
  subject: string;
  role: Role;
  token: string;
  label: string;
}

let api: ApiHarness;
const cells: Cell[] = [];
const tenantIds = {} as Record<TenantKey, string>;
const members: Record<TenantKey, Map<string, Role>> = { A: new Map(), B: new Map() };
const tokens = new Map<string, string>();
/** Every recorded entity id → the cell it belongs to (for readable messages and foreign checks). */
const ownerOf = new Map<string, Cell>();

const subjectOf = (tenant: TenantKey, role: Role) => `${tenant.toLowerCase()}-${role}`;
const tokenOf = (tenant: TenantKey, subject: string) => {
  const token = tokens.get(`${tenant}:${subject}`);
  if (!token) throw new Error(`no token for ${subject} in ${tenant}`);
  return token;
};
const scopeOf = (cell: Cell): Scope => ({ tenantId: cell.tenantId, ...cell.scope });

function own(cell: Cell, id: string): string {
  ownerOf.set(id, cell);
  return id;
}
function workflowNames(cell: Cell): string[] {
  return cell.workflows.map((w) => w.name);
}
function runsOfTenant(tenant: TenantKey): Array<{ cell: Cell; run: RunModel }> {
  return cells.filter((c) => c.tenant === tenant).flatMap((cell) => cell.runs.map((run) => ({ cell, run })));
}
/** Names that exist only in other cells (the common name exists everywhere). */
function foreignNames(cell: Cell): Set<string> {
  return new Set(
    cells
      .filter((c) => c !== cell)
      .flatMap(workflowNames)
      .filter((n) => n !== COMMON_WORKFLOW),
  );
}

// ---------------------------------------------------------------- GraphQL

// biome-ignore lint/suspicious/noExplicitAny: tests walk untyped GraphQL JSON responses
type Any = any;
interface GqlError {
  message: string;
  path?: Array<string | number>;
  extensions?: { code?: string };
}
interface Body {
  data?: Any;
  errors?: GqlError[];
}

async function gql(token: string, scope: Cell['scope'], query: string, variables?: unknown): Promise<Body> {
  const { body } = await api.gql(query, { token, ...scope, variables });
  return body as Body;
}

const PUBLISH = `mutation($m: String!) { publishWorkflow(input: { manifest: $m }) {
  workflowVersion { id version } decision { id } userErrors { code message field } } }`;
const START = `mutation($i: StartRunInput!) { startRun(input: $i) {
  run { id status environment region createdAt tasks { id } }
  approval { id requestedBy { subject } eligibleRoles }
  decision { id allow } userErrors { code message field } } }`;
/** Runs that hold one of the tenant's concurrency slots. */
const ACTIVE: readonly RunStatus[] = ['PENDING', 'RUNNING', 'AWAITING_APPROVAL'];
const CANCEL = `mutation($id: ID!) { cancelRun(input: { runId: $id, reason: "cross-tenant test" }) {
  run { id status } decision { id } userErrors { code message } } }`;
const DECIDE = `mutation($id: ID!) { decideApproval(input: { approvalId: $id, verdict: APPROVE, reason: "setup" }) {
  approval { id status } decision { id } userErrors { code message } } }`;
/** Who approves the decided approval of each cell (distinct sets, see populate). */
const APPROVERS: Record<string, string[]> = {
  'A:dev/EU': ['a-operator', 'a-admin'],
  'A:prod/US': ['a-operator', SHARED_SUBJECT],
  'B:dev/EU': ['b-operator'],
  'B:prod/US': ['b-operator', 'b-admin'],
};
const CREATE_SCHEDULE = `mutation($i: ScheduleInput!) { createSchedule(input: $i) {
  schedule { id enabled cron timezone params nextRunAt } decision { id } userErrors { code message field } } }`;

// ---------------------------------------------------------------- random data

const nameArb = fc.stringMatching(/^[a-z][a-z0-9-]{2,12}$/);
const semverArb = fc.tuple(fc.nat(9), fc.nat(20), fc.nat(20)).map(([a, b, c]) => `${a}.${b}.${c}`);
/** 1–4 core.echo steps; each step needs the previous one (linear) or any subset of earlier ones. */
const stepsArb = fc
  .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/), { minLength: 1, maxLength: 4 })
  .chain((ids) =>
    fc
      .tuple(
        ...ids.map((_, i) =>
          i === 0
            ? fc.constant<number[]>([])
            : fc.oneof(
                fc.constant([i - 1]),
                fc.subarray(
                  Array.from({ length: i }, (_, j) => j),
                  { minLength: 0 },
                ),
              ),
        ),
      )
      .map((needs) =>
        ids.map((id, i) => {
          const upstream = (needs[i] ?? []).map((j) => ids[j] as string);
          return {
            id,
            uses: 'core.echo',
            ...(upstream.length > 0 ? { needs: upstream } : {}),
            with: { message: `step ${id}` },
          };
        }),
      ),
  );
const cellPlanArb = fc.record({
  workflows: fc.uniqueArray(
    fc.record({
      name: nameArb,
      versions: fc.uniqueArray(semverArb, { minLength: 1, maxLength: 2 }),
      steps: stepsArb,
    }),
    { minLength: 1, maxLength: 3, selector: (w) => w.name },
  ),
  common: fc.record({ version: semverArb, steps: stepsArb }),
  runs: fc.array(
    fc.record({
      workflow: fc.nat(),
      key: fc.option(fc.stringMatching(/^[a-z0-9]{6,10}$/), { nil: null }),
      repeat: fc.boolean(),
      cancel: fc.boolean(),
      touch: fc.boolean(),
    }),
    { minLength: 2, maxLength: 5 },
  ),
  schedules: fc.array(
    fc.record({
      workflow: fc.nat(),
      cron: fc.constantFrom('0 9 * * *', '*/15 * * * *', '30 6 * * MON', '0 0 1 * *'),
      timezone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'),
      enabled: fc.boolean(),
      params: fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.string({ maxLength: 8 }), { maxKeys: 2 }),
    }),
    { minLength: 1, maxLength: 2 },
  ),
  approval: fc.record({
    required: fc.integer({ min: 1, max: 2 }),
    eligible: fc.subarray(['operator', 'admin'], { minLength: 1 }),
    bySharedSubject: fc.boolean(),
  }),
});
type CellPlan = typeof cellPlanArb extends fc.Arbitrary<infer T> ? T : never;

function manifestJson(name: string, version: string, steps: unknown): string {
  return JSON.stringify({ name, version, description: `cross-tenant ${name}`, steps });
}

// ---------------------------------------------------------------- setup

/** Records a run startRun created, and the approval policy put in front of it (prod runs). */
function recordStart(cell: Cell, payload: Any, workflow: string, key: string | null): RunModel {
  const run: RunModel = {
    id: own(cell, payload.run.id),
    workflow,
    key: key ?? payload.run.id,
    status: payload.run.status,
    createdAt: payload.run.createdAt,
    taskIds: payload.run.tasks.map((t: { id: string }) => own(cell, t.id)),
  };
  cell.runs.push(run);
  if (payload.approval) {
    cell.approvals.push({
      id: own(cell, payload.approval.id),
      runId: run.id,
      requestedBy: payload.approval.requestedBy.subject,
      eligibleRoles: payload.approval.eligibleRoles,
      status: 'PENDING',
      approvers: [],
    });
  }
  return run;
}

function expectNoErrors(body: Body, what: string): Any {
  expect(body.errors, `${what}: ${JSON.stringify(body.errors)}`).toBeUndefined();
  return body.data;
}

async function populate(cell: Cell, plan: CellPlan): Promise<void> {
  const composer = tokenOf(cell.tenant, subjectOf(cell.tenant, 'composer'));
  const operator = tokenOf(cell.tenant, subjectOf(cell.tenant, 'operator'));
  const specs = [
    ...plan.workflows.map((w) => ({ ...w, name: `${cell.prefix}${w.name}` })),
    { name: COMMON_WORKFLOW, versions: [plan.common.version], steps: plan.common.steps },
  ];
  for (const spec of specs) {
    const versions: WorkflowModel['versions'] = [];
    for (const version of spec.versions) {
      const data = expectNoErrors(
        await gql(composer, cell.scope, PUBLISH, { m: manifestJson(spec.name, version, spec.steps) }),
        `publish ${spec.name}@${version} in ${cell.label}`,
      );
      const payload = data.publishWorkflow;
      expect(payload.userErrors, `publish ${spec.name} in ${cell.label}`).toEqual([]);
      versions.push({ id: own(cell, payload.workflowVersion.id), version });
      cell.decisions.add(own(cell, payload.decision.id));
    }
    const read = expectNoErrors(
      await gql(composer, cell.scope, 'query($n: String!) { workflow(name: $n) { id } }', { n: spec.name }),
      `read ${spec.name}`,
    );
    cell.workflows.push({ id: own(cell, read.workflow.id), name: spec.name, versions });
  }

  for (const [i, r] of plan.runs.entries()) {
    const workflow = specs[r.workflow % specs.length]?.name as string;
    const key = r.key === null ? null : `${cell.prefix}key-${r.key}`;
    const existing = key === null ? undefined : cell.runs.find((x) => x.key === key);
    const input = { workflow, ...(key === null ? {} : { idempotencyKey: key }) };
    const data = expectNoErrors(
      await gql(operator, cell.scope, START, { i: input }),
      `start in ${cell.label}`,
    );
    const payload = data.startRun;
    expect(payload.userErrors, `start ${workflow} in ${cell.label}`).toEqual([]);
    cell.decisions.add(own(cell, payload.decision.id));
    if (existing) {
      expect(payload.run.id, 'same key, same run').toBe(existing.id);
      continue;
    }
    const run = recordStart(cell, payload, workflow, key);
    if (r.repeat && key !== null) {
      const again = expectNoErrors(await gql(operator, cell.scope, START, { i: input }), 'restart').startRun;
      expect(again.run?.id, `idempotent start in ${cell.label}`).toBe(run.id);
      cell.decisions.add(own(cell, again.decision.id));
    }
    // Lineage, as the engine would record it: every cell touches SHARED_URI under the same name.
    if (i === 0 || r.touch) {
      const at = new Date();
      const taskId = run.taskIds[0] as string;
      await recordTouch(api.resources.graph, scopeOf(cell), {
        taskId,
        uri: SHARED_URI,
        kind: 'dataset',
        mode: 'write',
        at,
      });
      cell.touchedShared.add(run.id);
      if (i === 0) {
        await recordTouch(api.resources.graph, scopeOf(cell), {
          taskId,
          uri: cell.uri,
          kind: 'dataset',
          mode: 'read',
          at,
        });
      }
    }
    // The first run stays active (it gets an approval below); others are cancelled at random.
    if (i > 0 && r.cancel) {
      const cancelled = expectNoErrors(
        await gql(operator, cell.scope, CANCEL, { id: run.id }),
        'cancel',
      ).cancelRun;
      expect(cancelled.userErrors, `cancel in ${cell.label}`).toEqual([]);
      cell.decisions.add(own(cell, cancelled.decision.id));
      run.status = 'CANCELLED';
    }
  }

  for (const s of plan.schedules) {
    const workflow = specs[s.workflow % specs.length]?.name as string;
    const input = { workflow, cron: s.cron, timezone: s.timezone, enabled: s.enabled, params: s.params };
    const payload = expectNoErrors(
      await gql(operator, cell.scope, CREATE_SCHEDULE, { i: input }),
      `schedule in ${cell.label}`,
    ).createSchedule;
    expect(payload.userErrors, `schedule in ${cell.label}`).toEqual([]);
    cell.decisions.add(own(cell, payload.decision.id));
    cell.schedules.push({ id: own(cell, payload.schedule.id), view: payload.schedule });
  }

  // Approvals also come from the engine (approval.gate steps), which is later work: add one directly.
  const gated = cell.runs[0] as RunModel;
  const requestedBy = plan.approval.bySharedSubject ? SHARED_SUBJECT : subjectOf(cell.tenant, 'operator');
  const approval = await createApproval(api.resources.graph, scopeOf(cell), {
    id: newId('Approval'),
    runId: gated.id,
    taskId: null,
    requiredApprovals: plan.approval.required,
    eligibleRoles: plan.approval.eligible,
    requestedBy,
    requesterRoles: ['operator'],
    createdAt: new Date(),
    expiresAt: null,
  });
  cell.approvals.push({
    id: own(cell, approval.id),
    runId: gated.id,
    requestedBy,
    eligibleRoles: plan.approval.eligible,
    status: 'PENDING',
    approvers: [],
  });

  // And one approval decided through the API by this cell's approvers (a different set in each
  // cell), so users are linked to each other through approvals in every scope.
  const approvers = APPROVERS[cell.label] ?? [];
  const decided = await createApproval(api.resources.graph, scopeOf(cell), {
    id: newId('Approval'),
    runId: gated.id,
    taskId: null,
    requiredApprovals: approvers.length,
    eligibleRoles: ['operator', 'admin'],
    requestedBy: subjectOf(cell.tenant, 'composer'),
    requesterRoles: ['composer'],
    createdAt: new Date(),
    expiresAt: null,
  });
  for (const approver of approvers) {
    const payload = expectNoErrors(
      await gql(tokenOf(cell.tenant, approver), cell.scope, DECIDE, { id: decided.id }),
      `decideApproval by ${approver} in ${cell.label}`,
    ).decideApproval;
    expect(payload.userErrors, `decideApproval by ${approver} in ${cell.label}`).toEqual([]);
    cell.decisions.add(own(cell, payload.decision.id));
  }
  cell.approvals.push({
    id: own(cell, decided.id),
    runId: gated.id,
    requestedBy: subjectOf(cell.tenant, 'composer'),
    eligibleRoles: ['operator', 'admin'],
    status: 'APPROVED',
    approvers,
  });
  // An approved approval releases a run that was waiting for approval.
  const reread = expectNoErrors(
    await gql(operator, cell.scope, 'query($id: ID!) { run(id: $id) { status } }', { id: gated.id }),
    'reread',
  );
  gated.status = reread.run.status;
}

beforeAll(async () => {
  api = await startApi();
  for (const tenant of TENANT_KEYS) {
    const roster: Record<string, Role> = { [SHARED_SUBJECT]: SHARED_ROLE[tenant] };
    for (const role of ROLES) roster[subjectOf(tenant, role)] = role;
    tenantIds[tenant] = await api.makeTenant(roster);
    for (const [subject, role] of Object.entries(roster)) {
      members[tenant].set(subject, role);
      tokens.set(`${tenant}:${subject}`, await api.token(subject, tenantIds[tenant]));
    }
  }
  const plans = fc.sample(cellPlanArb, { numRuns: 4, seed: SEED });
  for (const tenant of TENANT_KEYS) {
    for (const scope of SCOPES) {
      const index = cells.length;
      cells.push({
        index,
        tenant,
        tenantId: tenantIds[tenant],
        scope: { environment: scope.environment, region: scope.region },
        label: `${tenant}:${scope.environment}/${scope.region}`,
        prefix: `${tenant.toLowerCase()}${scope.key}-`,
        uri: `s3://lake/${tenant.toLowerCase()}-${scope.key}/only.parquet`,
        workflows: [],
        runs: [],
        schedules: [],
        approvals: [],
        decisions: new Set(),
        touchedShared: new Set(),
        probed: new Set(),
      });
    }
  }
  // Interleave the cells' runs in time, so date windows around a foreign run catch own runs too.
  await Promise.all(cells.map((cell) => populate(cell, plans[cell.index] as CellPlan)));
}, 180_000);
afterAll(() => api?.close());

// ---------------------------------------------------------------- checks

/** Collects every violation of one property run, so a failure lists all of them at once. */
class Findings {
  readonly problems: string[] = [];
  constructor(readonly context: string) {}
  that(ok: boolean, message: string): void {
    if (!ok) this.problems.push(message);
  }
  sameSet(what: string, actual: Iterable<string>, expected: Iterable<string>): void {
    const a = new Set(actual);
    const e = new Set(expected);
    const extra = [...a].filter((x) => !e.has(x)).map(describeId);
    const missing = [...e].filter((x) => !a.has(x)).map(describeId);
    if (extra.length || missing.length) {
      this.problems.push(`${what}: unexpected ${JSON.stringify(extra)}, missing ${JSON.stringify(missing)}`);
    }
  }
  noErrors(what: string, body: Body): boolean {
    if (body.errors?.length) {
      this.problems.push(`${what}: GraphQL errors ${JSON.stringify(body.errors)}`);
      return false;
    }
    return true;
  }
}

function describeId(id: string): string {
  const cell = ownerOf.get(id);
  return cell ? `${id} (of ${cell.label})` : id;
}

const ID_RE =
  /(?<![A-Za-z0-9])(?:tnt|usr|wfv|wf|run|task|sch|apr|pd|rcpt|res|evt)_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const LABEL_OF_PREFIX: Record<string, string> = {
  usr: 'User',
  wf: 'Workflow',
  wfv: 'WorkflowVersion',
  run: 'Run',
  task: 'Task',
  sch: 'Schedule',
  apr: 'Approval',
  pd: 'PolicyDecision',
  rcpt: 'Receipt',
  res: 'Resource',
  evt: 'TimelineEvent',
};
/** Keys under which a response may echo an id the caller itself supplied. */
const ECHO_KEYS = new Set(['subjectId', 'input', 'message', 'idempotencyKey']);

interface StoredScope {
  tenantId: string | null;
  environment: string | null;
  region: string | null;
}
const storedScopes = new Map<string, StoredScope | null>();

/** Where the graph keeps each id (tenant, environment, region); cached, since that never changes. */
async function lookupScopes(ids: Iterable<string>): Promise<void> {
  const byLabel = new Map<string, string[]>();
  for (const id of ids) {
    if (storedScopes.has(id)) continue;
    const prefix = id.slice(0, id.indexOf('_'));
    if (prefix === 'tnt') {
      const tenant = TENANT_KEYS.find((t) => tenantIds[t] === id);
      storedScopes.set(id, tenant ? { tenantId: id, environment: null, region: null } : null);
      continue;
    }
    const label = LABEL_OF_PREFIX[prefix];
    if (!label) continue;
    byLabel.set(label, [...(byLabel.get(label) ?? []), id]);
  }
  for (const [label, list] of byLabel) {
    const found = await api.resources.graph.read(async (tx) => {
      const result = await tx.run(
        `UNWIND $ids AS id MATCH (n:${label} {id: id})
         RETURN n.id AS id, n.tenantId AS tenantId, n.environment AS environment, n.region AS region`,
        { ids: list },
      );
      return result.records.map((r) => ({
        id: r.get('id') as string,
        tenantId: (r.get('tenantId') as string | null) ?? null,
        environment: (r.get('environment') as string | null) ?? null,
        region: (r.get('region') as string | null) ?? null,
      }));
    });
    for (const id of list) storedScopes.set(id, null);
    for (const row of found) {
      storedScopes.set(row.id, { tenantId: row.tenantId, environment: row.environment, region: row.region });
    }
  }
}

/**
 * Everything an actor is shown goes through here: ids (whole values and inside strings such as
 * palette action ids, labels or a decision's input) and workflow names.
 */
class Exposure {
  private readonly seen: Array<{ id: string; where: string; echo: boolean }> = [];
  constructor(
    private readonly actor: Actor,
    private readonly findings: Findings,
  ) {}

  observe(where: string, value: unknown): void {
    const names = foreignNames(this.actor.cell);
    const visit = (node: unknown, key: string): void => {
      if (typeof node === 'string') {
        for (const match of node.matchAll(ID_RE)) {
          this.seen.push({ id: match[0], where: `${where} (.${key})`, echo: ECHO_KEYS.has(key) });
        }
        if (names.has(node) && !ECHO_KEYS.has(key)) {
          this.findings.that(false, `${where}: shows the foreign workflow name "${node}" (.${key})`);
        }
      } else if (Array.isArray(node)) {
        for (const item of node) visit(item, key);
      } else if (node !== null && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) visit(v, k);
      }
    };
    visit(value, '');
  }

  async verify(): Promise<void> {
    const { cell } = this.actor;
    await lookupScopes(this.seen.map((s) => s.id));
    for (const { id, where, echo } of this.seen) {
      // The caller named this id itself (e.g. rerunTask records a decision about it first).
      if (echo && cell.probed.has(id)) continue;
      const owner = ownerOf.get(id);
      if (owner && owner !== cell) {
        this.findings.that(false, `${where}: exposes ${describeId(id)}`);
        continue;
      }
      const stored = storedScopes.get(id);
      if (stored === undefined) continue; // not an entity kind the graph stores by id
      if (stored === null) {
        this.findings.that(false, `${where}: mentions ${id}, which is not stored anywhere`);
      } else if (stored.tenantId !== cell.tenantId) {
        this.findings.that(false, `${where}: exposes ${id} of tenant ${stored.tenantId}`);
      } else if (stored.environment !== null && stored.environment !== cell.scope.environment) {
        this.findings.that(false, `${where}: exposes ${id} of ${stored.environment}/${stored.region}`);
      } else if (stored.region !== null && stored.region !== cell.scope.region) {
        this.findings.that(false, `${where}: exposes ${id} of ${stored.environment}/${stored.region}`);
      }
    }
  }
}

interface Connection {
  totalCount?: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: Array<{ cursor: string; node: Any }>;
}

/** Walks every page of a connection; each page is exposure-checked. */
async function allPages(
  actor: Actor,
  exposure: Exposure,
  findings: Findings,
  what: string,
  query: string,
  variables: Record<string, unknown>,
  pick: (data: Any) => Connection,
): Promise<{ nodes: Any[]; totalCounts: number[] }> {
  const nodes: Any[] = [];
  const totalCounts: number[] = [];
  let after: string | null = null;
  for (let page = 0; page < 200; page++) {
    const body = await gql(actor.token, actor.cell.scope, query, { ...variables, after });
    if (!findings.noErrors(`${what} page ${page + 1}`, body)) break;
    exposure.observe(`${what} page ${page + 1}`, body.data);
    const connection = pick(body.data);
    nodes.push(...connection.edges.map((e) => e.node));
    if (connection.totalCount !== undefined) totalCounts.push(connection.totalCount);
    findings.that(
      connection.edges.length <= 2,
      `${what} page ${page + 1}: ${connection.edges.length} rows for first: 2`,
    );
    if (!connection.pageInfo.hasNextPage) return { nodes, totalCounts };
    after = connection.pageInfo.endCursor;
  }
  findings.that(false, `${what}: pagination did not end`);
  return { nodes, totalCounts };
}

const ids = (nodes: Array<{ id: string }>) => nodes.map((n) => n.id);

// ---------------------------------------------------------------- queries of the property

const WORKFLOW_PAGE = `query($after: String) { workflows(first: 2, after: $after) {
  pageInfo { hasNextPage endCursor }
  edges { cursor node { id name latestVersion { id version } versions { id version } } } } }`;
const RUN_PAGE = `query($f: RunFilter, $after: String) { runs(filter: $f, first: 2, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id environment region status createdAt tenant { id } workflow { id name }
    workflowVersion { id } tasks { id } approvals { id } } } } }`;
const APPROVAL_PAGE = `query($f: ApprovalFilter, $after: String) { approvals(filter: $f, first: 2, after: $after) {
  pageInfo { hasNextPage endCursor }
  edges { cursor node { id status requestedBy { subject } decisions { approver { subject } }
    run { id environment region } } } } }`;
const DECISION_PAGE = `query($f: PolicyDecisionFilter, $after: String, $first: Int!) {
  policyDecisions(filter: $f, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor } edges { cursor node { id action allow subjectId actor { subject } } } } }`;
const TOUCH_PAGE = `query($uri: String!, $after: String) { runsTouchingResource(uri: $uri, first: 2, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id environment region tasks { id } } } } }`;
const OWN_RUN = `query($id: ID!, $depth: Int!) { run(id: $id) {
  id environment region status tenant { id } workflow { id name } workflowVersion { id }
  tasks { id status } approvals { id run { id } } policyDecisions { id subjectId }
  timeline { subjectId type }
  graph(depth: $depth) { nodes { id label name properties } edges { from to type } } } }`;
const PLAN = `query($i: StartRunInput!) { plan(input: $i) { estimatedCostUSD decision { id } } }`;
const SET_MEMBER = `mutation($s: String!, $r: String) { setMember(input: { subject: $s, role: $r }) {
  member { subject role } userErrors { code message field } } }`;

const SINGLE_FILTERS = ['status', 'workflow', 'environment', 'window'] as const;
type SingleFilter = (typeof SINGLE_FILTERS)[number];

interface RunFilterChoice {
  status: RunStatus[];
  workflow: 'none' | 'foreign' | 'common' | 'own';
  environment: 'none' | 'foreign' | 'own';
  window: { before: number; after: number } | null;
}

/** The filter as sent, and the run ids the model says the actor must get. */
function runFilter(
  actor: Actor,
  foreign: Cell,
  choice: RunFilterChoice,
  picks: { ownWorkflow: number; foreignRun: number; foreignWorkflow: number },
): { filter: Record<string, unknown>; expected: string[] } {
  const { cell } = actor;
  const filter: Record<string, unknown> = {};
  if (choice.status.length > 0) filter.status = choice.status;
  const foreignNamed = foreign.workflows.filter((w) => w.name !== COMMON_WORKFLOW);
  if (choice.workflow === 'foreign') {
    filter.workflow = foreignNamed[picks.foreignWorkflow % foreignNamed.length]?.name;
  } else if (choice.workflow === 'common') {
    filter.workflow = COMMON_WORKFLOW;
  } else if (choice.workflow === 'own') {
    filter.workflow = cell.workflows[picks.ownWorkflow % cell.workflows.length]?.name;
  }
  if (choice.environment === 'foreign') filter.environment = foreign.scope.environment;
  if (choice.environment === 'own') filter.environment = cell.scope.environment;
  let window: { after: number; before: number } | null = null;
  if (choice.window) {
    const anchor = foreign.runs[picks.foreignRun % foreign.runs.length] as RunModel;
    const at = Date.parse(anchor.createdAt);
    window = { after: at - choice.window.after, before: at + choice.window.before + 1 };
    filter.createdAfter = new Date(window.after).toISOString();
    filter.createdBefore = new Date(window.before).toISOString();
  }
  const expected = cell.runs.filter((r) => {
    if (choice.status.length > 0 && !choice.status.includes(r.status)) return false;
    if (filter.workflow !== undefined && r.workflow !== filter.workflow) return false;
    if (filter.environment !== undefined && filter.environment !== cell.scope.environment) return false;
    const t = Date.parse(r.createdAt);
    if (window && (t < window.after || t >= window.before)) return false;
    return true;
  });
  return { filter, expected: ids(expected) };
}

function actionableFor(actor: Actor): string[] {
  return actor.cell.approvals
    .filter(
      (a) =>
        a.status === 'PENDING' && a.requestedBy !== actor.subject && a.eligibleRoles.includes(actor.role),
    )
    .map((a) => a.id);
}

/** A mutation pointed at a foreign id: refused as not found (or denied for a role that may not act). */
function expectRefused(
  findings: Findings,
  actor: Actor,
  op: string,
  payload: Any,
  entityField: string,
  action: string,
  codes: readonly string[] = ['NOT_FOUND'],
): void {
  if (!payload) {
    findings.that(false, `${op}: no payload`);
    return;
  }
  const got = (payload.userErrors as Array<{ code: string }>).map((e) => e.code);
  const may = MAY[actor.role].has(action);
  const accepted = may ? codes : [...codes, 'POLICY_DENIED'];
  findings.that(
    got.length === 1 && accepted.includes(got[0] as string),
    `${op}: expected one of ${accepted.join('|')} for a ${actor.role}, got ${JSON.stringify(payload.userErrors)}`,
  );
  findings.that(payload[entityField] === null, `${op}: returned ${JSON.stringify(payload[entityField])}`);
  if (payload.decision) {
    actor.cell.decisions.add(own(actor.cell, payload.decision.id));
    findings.that(
      payload.decision.allow === may,
      `${op}: decision allow=${payload.decision.allow} for a ${actor.role}`,
    );
  }
}

interface GraphShape {
  nodes: Array<{ id: string; label: string; name: string }>;
  edges: Array<{ from: string; to: string; type: string }>;
}
const OWNER_GRAPH = `query($id: ID!) { run(id: $id) {
  graph(depth: 3) { nodes { id label name } edges { from to type } } } }`;

/** Nodes and edges as comparable strings (a node shows its label and name, e.g. User a-viewer). */
function graphSignature(graph: GraphShape): Set<string> {
  return new Set([
    ...graph.nodes.map((n) => `${n.label} ${n.name} ${n.id}`),
    ...graph.edges.map((e) => `${e.from} -${e.type}-> ${e.to}`),
  ]);
}

/** Nodes not connected to the root through the returned edges (in either direction). */
function detachedNodes(root: string, graph: GraphShape): GraphShape['nodes'] {
  const next = new Map<string, string[]>();
  for (const e of graph.edges) {
    next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    next.set(e.to, [...(next.get(e.to) ?? []), e.from]);
  }
  const reached = new Set([root]);
  const queue = [root];
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    for (const n of next.get(id) ?? []) {
      if (!reached.has(n)) {
        reached.add(n);
        queue.push(n);
      }
    }
  }
  return graph.nodes.filter((n) => !reached.has(n.id));
}

// ---------------------------------------------------------------- the property

const propertyArb = fc.record({
  actorCell: fc.nat(3),
  /** 1: the same tenant's other scope; 2 and 3: the other tenant's two scopes (order varies). */
  foreignOffset: fc.integer({ min: 1, max: 3 }),
  identity: fc.constantFrom<Role | 'shared'>(...ROLES, 'shared'),
  picks: fc.record({
    run: fc.nat(),
    task: fc.nat(),
    approval: fc.nat(),
    schedule: fc.nat(),
    workflow: fc.nat(),
    version: fc.nat(),
    decision: fc.nat(),
    member: fc.nat(),
    ownRun: fc.nat(),
    ownWorkflow: fc.nat(),
  }),
  runFilter: fc.record({
    status: fc.subarray([...RUN_STATUSES]),
    workflow: fc.constantFrom<RunFilterChoice['workflow']>('none', 'foreign', 'common', 'own'),
    environment: fc.constantFrom<RunFilterChoice['environment']>('none', 'foreign', 'own'),
    window: fc.option(fc.record({ before: fc.nat(3000), after: fc.nat(3000) }), { nil: null }),
  }),
  singleFilters: fc.shuffledSubarray([...SINGLE_FILTERS], { minLength: 1, maxLength: 2 }),
  actionableByMe: fc.boolean(),
  depth: fc.integer({ min: 1, max: 3 }),
  verdict: fc.constantFrom('APPROVE', 'REJECT'),
  downstream: fc.boolean(),
  addForeignMember: fc.boolean(),
});
type PropertyInput = typeof propertyArb extends fc.Arbitrary<infer T> ? T : never;

function at<T>(list: readonly T[], index: number): T {
  const item = list[index % list.length];
  if (item === undefined) throw new Error('empty list');
  return item;
}

async function checkIsolation(input: PropertyInput): Promise<void> {
  const cell = at(cells, input.actorCell);
  const foreign = at(cells, input.actorCell + input.foreignOffset);
  const subject = input.identity === 'shared' ? SHARED_SUBJECT : subjectOf(cell.tenant, input.identity);
  const role = input.identity === 'shared' ? SHARED_ROLE[cell.tenant] : input.identity;
  const actor: Actor = {
    cell,
    subject,
    role,
    token: tokenOf(cell.tenant, subject),
    label: `${subject} (${role}) in ${cell.label}`,
  };
  const p = input.picks;
  const fRun = at(foreign.runs, p.run);
  const fTaskRun = at(foreign.runs, p.task);
  const fTask = at(fTaskRun.taskIds, p.task);
  const fApproval = at(foreign.approvals, p.approval);
  const fSchedule = at(foreign.schedules, p.schedule);
  const fNamed = foreign.workflows.filter((w) => w.name !== COMMON_WORKFLOW);
  const fWorkflow = at(fNamed, p.workflow);
  const fVersion = at(fWorkflow.versions, p.version);
  const fDecision = at([...foreign.decisions], p.decision);
  const otherTenant: TenantKey = cell.tenant === 'A' ? 'B' : 'A';
  const crossTenant = foreign.tenant !== cell.tenant;
  const findings = new Findings(
    `${actor.label} vs ${foreign.label}: run ${fRun.id}, task ${fTask}, approval ${fApproval.id}, ` +
      `schedule ${fSchedule.id}, workflow ${fWorkflow.name} (${fWorkflow.id}) version ${fVersion.id}, ` +
      `decision ${fDecision} [seed ${SEED}]`,
  );
  const exposure = new Exposure(actor, findings);
  const as = (query: string, variables?: unknown) => gql(actor.token, cell.scope, query, variables);

  // ---- 1. reads by id, single lists, counts (one batched request)
  const probes = [fRun.id, fTask, fApproval.id, fSchedule.id, fWorkflow.id, fVersion.id, fDecision];
  if (crossTenant) probes.push(tenantIds[otherTenant]);
  const chosen = runFilter(actor, foreign, input.runFilter, {
    ownWorkflow: p.ownWorkflow,
    foreignRun: p.run,
    foreignWorkflow: p.workflow,
  });
  // Filters one at a time (the paged listing below combines them at random); one or two of them
  // per run, as every runs connection costs two scans of all Run nodes today.
  const singleFilters: Record<SingleFilter, RunFilterChoice> = {
    status: { ...input.runFilter, workflow: 'none', environment: 'none', window: null },
    workflow: { status: [], workflow: 'foreign', environment: 'none', window: null },
    environment: { status: [], workflow: 'none', environment: 'foreign', window: null },
    window: { status: [], workflow: 'none', environment: 'none', window: { before: 1500, after: 1500 } },
  };
  const filterCases = input.singleFilters.map((name) => ({
    name,
    ...runFilter(actor, foreign, singleFilters[name], {
      ownWorkflow: p.ownWorkflow,
      foreignRun: p.run,
      foreignWorkflow: p.workflow,
    }),
  }));
  const probeFields = probes
    .map(
      (_, i) => `n${i}: node(id: $p${i}) { __typename id }
      r${i}: run(id: $p${i}) { id }
      ${i === 0 ? `pa${i}: paletteActions(runId: $p${i}) { id kind label workflow { id name } }` : ''}
      pd${i}: policyDecisions(first: 100, filter: { subjectId: $p${i} }) { edges { node { id subjectId action } } }`,
    )
    .join('\n');
  const filterFields = filterCases
    .map((_, i) => `f${i}: runs(filter: $f${i}, first: 100) { totalCount edges { node { id } } }`)
    .join('\n');
  const reads = `query(${probes.map((_, i) => `$p${i}: ID!`).join(', ')}, ${filterCases
    .map((_, i) => `$f${i}: RunFilter`)
    .join(', ')}, $fname: String!, $furi: String!, $shared: String!) {
    whoami { subject roles tenant { id name } environment region quota { maxConcurrent inUse } }
    me: node(id: "${cell.tenantId}") { __typename id }
    foreignWorkflow: workflow(name: $fname) { id name }
    common: workflow(name: "${COMMON_WORKFLOW}") { id name versions { id } latestVersion { id }
      runs(first: 100) { totalCount edges { node { id } } } }
    schedules { id enabled cron workflow { id name } }
    members { subject role }
    policyPacks { id profile }
    palette: paletteActions { id kind label workflow { id name } }
    allApprovals: approvals(first: 100) { edges { node { id run { id } } } }
    actionable: approvals(first: 100, filter: { actionableByMe: true }) { edges { node { id } } }
    allRuns: runs(first: 100) { totalCount edges { node { id status } } }
    touchedShared: runsTouchingResource(uri: $shared, first: 100) { totalCount edges { node { id } } }
    touchedForeign: runsTouchingResource(uri: $furi, first: 100) { totalCount edges { node { id } } }
    ${probeFields}
    ${filterFields}
  }`;
  const vars: Record<string, unknown> = { fname: fWorkflow.name, furi: foreign.uri, shared: SHARED_URI };
  probes.forEach((id, i) => {
    vars[`p${i}`] = id;
  });
  filterCases.forEach((c, i) => {
    vars[`f${i}`] = c.filter;
  });
  // Phase 1, all reads at once (none of them changes anything).
  const ownerToken = tokenOf(foreign.tenant, subjectOf(foreign.tenant, 'admin'));
  // Cursors of the foreign listings, taken by their owner (used in the actor's scope below).
  let foreignCursors: Record<string, string | null> = {};
  const reading: Array<() => Promise<void>> = [
    async () => {
      const body = await gql(
        ownerToken,
        foreign.scope,
        `{ runs(first: 1) { pageInfo { endCursor } } workflows(first: 1) { pageInfo { endCursor } }
           approvals(first: 1) { pageInfo { endCursor } } policyDecisions(first: 1) { pageInfo { endCursor } } }`,
      );
      if (findings.noErrors(`owner listings in ${foreign.label}`, body)) {
        foreignCursors = Object.fromEntries(
          Object.entries(body.data as Record<string, Connection>).map(([k, c]) => [k, c.pageInfo.endCursor]),
        );
      }
    },
    async () => {
      const readBody = await as(reads, vars);
      if (findings.noErrors('reads', readBody)) {
        const d = readBody.data;
        exposure.observe('reads', d);
        probes.forEach((id, i) => {
          findings.that(
            d[`n${i}`] === null,
            `node(${describeId(id)}) returned ${JSON.stringify(d[`n${i}`])}`,
          );
          findings.that(d[`r${i}`] === null, `run(${describeId(id)}) returned ${JSON.stringify(d[`r${i}`])}`);
          const runActions = ((d[`pa${i}`] ?? []) as Array<{ kind: string }>).filter(
            (a) => a.kind !== 'NAVIGATE' && a.kind !== 'START_WORKFLOW',
          );
          findings.that(
            runActions.length === 0,
            `paletteActions(runId: ${describeId(id)}) offered ${JSON.stringify(runActions)}`,
          );
          const decisions = d[`pd${i}`].edges.map((e: Any) => e.node.id as string);
          findings.that(
            decisions.every((x: string) => cell.decisions.has(x) || !ownerOf.has(x)),
            `policyDecisions(subjectId: ${describeId(id)}) listed ${JSON.stringify(decisions.map(describeId))}`,
          );
        });
        findings.that(d.me?.id === cell.tenantId, `node(own tenant) returned ${JSON.stringify(d.me)}`);
        findings.that(
          d.foreignWorkflow === null,
          `workflow(name: "${fWorkflow.name}") returned ${JSON.stringify(d.foreignWorkflow)}`,
        );
        const common = cell.workflows.find((w) => w.name === COMMON_WORKFLOW) as WorkflowModel;
        findings.that(
          d.common?.id === common.id,
          `workflow("${COMMON_WORKFLOW}") is ${JSON.stringify(d.common?.id)}, own is ${common.id}`,
        );
        findings.sameSet(
          `workflow("${COMMON_WORKFLOW}").versions`,
          ids(d.common?.versions ?? []),
          ids(common.versions),
        );
        const commonRuns = cell.runs.filter((r) => r.workflow === COMMON_WORKFLOW).map((r) => r.id);
        findings.sameSet(
          `workflow("${COMMON_WORKFLOW}").runs`,
          d.common?.runs.edges.map((e: Any) => e.node.id) ?? [],
          commonRuns,
        );
        findings.that(
          d.common?.runs.totalCount === commonRuns.length,
          `workflow("${COMMON_WORKFLOW}").runs.totalCount ${d.common?.runs.totalCount} ≠ ${commonRuns.length}`,
        );

        const w = d.whoami;
        findings.that(w.tenant.id === cell.tenantId, `whoami.tenant is ${w.tenant.id}`);
        findings.that(
          w.environment === cell.scope.environment && w.region === cell.scope.region,
          `whoami scope is ${w.environment}/${w.region}`,
        );
        findings.that(
          w.subject === subject && JSON.stringify(w.roles) === JSON.stringify([role]),
          `whoami is ${w.subject} ${JSON.stringify(w.roles)}`,
        );
        // The quota is per tenant across its environments and regions (runs.ts countActiveRuns).
        const active = runsOfTenant(cell.tenant).filter(({ run }) => ACTIVE.includes(run.status)).length;
        findings.that(
          w.quota.inUse === active,
          `whoami.quota.inUse is ${w.quota.inUse}, the tenant has ${active} active runs`,
        );

        findings.sameSet(
          'schedules',
          ids(d.schedules),
          cell.schedules.map((s) => s.id),
        );
        findings.sameSet(
          'members',
          (d.members as Array<{ subject: string; role: string }>).map((m) => `${m.subject}:${m.role}`),
          [...members[cell.tenant]].map(([s, r]) => `${s}:${r}`),
        );
        findings.sameSet(
          'approvals',
          d.allApprovals.edges.map((e: Any) => e.node.id),
          cell.approvals.map((a) => a.id),
        );
        findings.sameSet(
          'approvals(actionableByMe)',
          d.actionable.edges.map((e: Any) => e.node.id),
          actionableFor(actor),
        );
        findings.sameSet(
          'runs',
          d.allRuns.edges.map((e: Any) => e.node.id),
          ids(cell.runs),
        );
        findings.that(
          d.allRuns.totalCount === cell.runs.length,
          `runs.totalCount ${d.allRuns.totalCount} ≠ ${cell.runs.length}`,
        );
        findings.sameSet(
          `runsTouchingResource(${SHARED_URI})`,
          d.touchedShared.edges.map((e: Any) => e.node.id),
          cell.touchedShared,
        );
        findings.that(
          d.touchedShared.totalCount === cell.touchedShared.size,
          `runsTouchingResource(${SHARED_URI}).totalCount ${d.touchedShared.totalCount} ≠ ${cell.touchedShared.size}`,
        );
        findings.that(
          d.touchedForeign.totalCount === 0 && d.touchedForeign.edges.length === 0,
          `runsTouchingResource(${foreign.uri}) = ${JSON.stringify(d.touchedForeign)}`,
        );
        filterCases.forEach((c, i) => {
          const got = d[`f${i}`];
          findings.sameSet(
            `runs(filter by ${c.name}: ${JSON.stringify(c.filter)})`,
            got.edges.map((e: Any) => e.node.id),
            c.expected,
          );
          findings.that(
            got.totalCount === c.expected.length,
            `runs(filter by ${c.name}: ${JSON.stringify(c.filter)}).totalCount ${got.totalCount} ≠ ${c.expected.length}`,
          );
        });
      }
    },
    // ---- 2. every page of `first: 2` listings
    async () => {
      const wfPages = await allPages(
        actor,
        exposure,
        findings,
        'workflows',
        WORKFLOW_PAGE,
        {},
        (d) => d.workflows,
      );
      findings.sameSet('workflows (paged)', ids(wfPages.nodes), ids(cell.workflows));
      for (const node of wfPages.nodes) {
        const model = cell.workflows.find((w) => w.id === node.id);
        if (!model) continue;
        findings.sameSet(`workflow ${model.name}.versions`, ids(node.versions), ids(model.versions));
      }
    },
    async () => {
      const runPages = await allPages(
        actor,
        exposure,
        findings,
        `runs(${JSON.stringify(chosen.filter)})`,
        RUN_PAGE,
        { f: chosen.filter },
        (d) => d.runs,
      );
      findings.sameSet(
        `runs(${JSON.stringify(chosen.filter)}) (paged)`,
        ids(runPages.nodes),
        chosen.expected,
      );
      findings.that(
        runPages.totalCounts.every((n) => n === chosen.expected.length),
        `runs(${JSON.stringify(chosen.filter)}).totalCount ${JSON.stringify(runPages.totalCounts)} ≠ ${chosen.expected.length}`,
      );
    },
    async () => {
      const aprFilter = input.actionableByMe ? { actionableByMe: true } : null;
      const aprPages = await allPages(
        actor,
        exposure,
        findings,
        `approvals(${JSON.stringify(aprFilter)})`,
        APPROVAL_PAGE,
        { f: aprFilter },
        (d) => d.approvals,
      );
      findings.sameSet(
        `approvals(${JSON.stringify(aprFilter)}) (paged)`,
        ids(aprPages.nodes),
        input.actionableByMe ? actionableFor(actor) : cell.approvals.map((a) => a.id),
      );
    },
    async () => {
      const touchPages = await allPages(
        actor,
        exposure,
        findings,
        `runsTouchingResource(${SHARED_URI})`,
        TOUCH_PAGE,
        { uri: SHARED_URI },
        (d) => d.runsTouchingResource,
      );
      findings.sameSet(
        `runsTouchingResource(${SHARED_URI}) (paged)`,
        ids(touchPages.nodes),
        cell.touchedShared,
      );
    },
    async () => {
      for (const probe of [fTask]) {
        await allPages(
          actor,
          exposure,
          findings,
          `policyDecisions(subjectId: ${probe})`,
          DECISION_PAGE,
          { f: { subjectId: probe }, first: 2 },
          (d) => d.policyDecisions,
        );
      }
    },
    async () => {
      // All of the scope's decisions: large pages (they accumulate with every gated call).
      const pdAll: Any[] = [];
      let pdAfter: string | null = null;
      for (let page = 0; page < 50; page++) {
        const body = await as(DECISION_PAGE, { f: null, first: 100, after: pdAfter });
        if (!findings.noErrors('policyDecisions', body)) break;
        exposure.observe(`policyDecisions page ${page + 1}`, body.data);
        pdAll.push(...body.data.policyDecisions.edges.map((e: Any) => e.node));
        if (!body.data.policyDecisions.pageInfo.hasNextPage) break;
        pdAfter = body.data.policyDecisions.pageInfo.endCursor;
      }
      const listedDecisions = new Set(ids(pdAll));
      const missingDecisions = [...cell.decisions].filter((x) => !listedDecisions.has(x));
      findings.that(
        missingDecisions.length === 0,
        `policyDecisions misses own decisions ${JSON.stringify(missingDecisions)}`,
      );
    },
    async () => {
      // ---- 3. the neighbourhood of one of the actor's own runs
      const ownRun = at(cell.runs, p.ownRun);
      const ownBody = await as(OWN_RUN, { id: ownRun.id, depth: input.depth });
      if (findings.noErrors(`run(${ownRun.id}) detail`, ownBody)) {
        exposure.observe(`run(${ownRun.id}).graph(depth: ${input.depth})`, ownBody.data);
        const run = ownBody.data.run;
        findings.that(run?.id === ownRun.id, `own run ${ownRun.id} reads as ${JSON.stringify(run)}`);
        if (run) {
          findings.that(
            run.status === ownRun.status,
            `own run ${ownRun.id} is ${run.status}, expected ${ownRun.status}`,
          );
          findings.sameSet(`run(${ownRun.id}).tasks`, ids(run.tasks), ownRun.taskIds);
          const nodeIds = new Set(ids(run.graph.nodes));
          for (const n of run.graph.nodes as Array<{
            id: string;
            label: string;
            properties: Record<string, unknown>;
          }>) {
            const props = n.properties;
            findings.that(
              props.tenantId === cell.tenantId,
              `graph node ${n.label} ${n.id} has tenantId ${String(props.tenantId)}`,
            );
            if (props.environment !== undefined || props.region !== undefined) {
              findings.that(
                props.environment === cell.scope.environment && props.region === cell.scope.region,
                `graph node ${n.label} ${describeId(n.id)} is in ${String(props.environment)}/${String(props.region)}`,
              );
            }
          }
          for (const e of run.graph.edges as Array<{ from: string; to: string; type: string }>) {
            findings.that(
              nodeIds.has(e.from) && nodeIds.has(e.to),
              `graph edge ${e.type} ${e.from}→${e.to} leaves the returned nodes`,
            );
          }
        }
      }
    },
  ];
  await Promise.all(reading.map((read) => read()));

  // ---- 4. mutations naming foreign entities (one document; mutation fields run in order)
  for (const id of [fRun.id, fTask, fApproval.id, fSchedule.id, fRun.key]) cell.probed.add(id);
  const ownWorkflow = at(cell.workflows, p.ownWorkflow);
  const scheduleView = fSchedule.view as { enabled: boolean };
  const mutations = `mutation($run: ID!, $task: ID!, $apr: ID!, $sch: ID!, $down: Boolean!, $verdict: Verdict!,
      $enabled: Boolean!, $fname: String!, $fversion: String!, $own: String!, $key: String!) {
    cancel: cancelRun(input: { runId: $run, reason: "cross-tenant probe" }) { run { id status } decision { id allow } userErrors { code message } }
    rerun: rerunTask(input: { taskId: $task, downstream: $down }) { run { id status } decision { id allow } userErrors { code message } }
    decide: decideApproval(input: { approvalId: $apr, verdict: $verdict, reason: "cross-tenant probe" }) {
      approval { id status } decision { id allow } userErrors { code message } }
    edit: editSchedule(input: { scheduleId: $sch, enabled: $enabled, cron: "5 4 * * *", params: { probe: true } }) {
      schedule { id enabled } decision { id allow } userErrors { code message } }
    startForeign: startRun(input: { workflow: $fname, version: $fversion }) { run { id } decision { id allow } userErrors { code message field } }
    startWithKey: startRun(input: { workflow: $own, idempotencyKey: $key }) {
      run { id status environment region createdAt tasks { id } } approval { id requestedBy { subject } eligibleRoles }
      decision { id allow } userErrors { code message field } }
    schedule: createSchedule(input: { workflow: $fname, cron: "0 9 * * *" }) { schedule { id } decision { id allow } userErrors { code message field } }
  }`;
  const keyOwner = runsOfTenant(cell.tenant).find(({ run }) => run.key === fRun.key);
  // Phase 2: the mutations, the plan and setMember are independent of one another.
  // setMember only ever touches the caller's own tenant.
  let addedMember: string | null = null;
  const mutating: Array<() => Promise<void>> = [
    async () => {
      const mutBody = await as(mutations, {
        run: fRun.id,
        task: fTask,
        apr: fApproval.id,
        sch: fSchedule.id,
        down: input.downstream,
        verdict: input.verdict,
        enabled: !scheduleView.enabled,
        fname: fWorkflow.name,
        fversion: fVersion.version,
        own: ownWorkflow.name,
        key: fRun.key,
      });
      if (findings.noErrors('mutations', mutBody)) {
        const m = mutBody.data;
        exposure.observe('mutations', m);
        expectRefused(findings, actor, `cancelRun(${describeId(fRun.id)})`, m.cancel, 'run', 'cancel_run');
        expectRefused(findings, actor, `rerunTask(${describeId(fTask)})`, m.rerun, 'run', 'rerun_task');
        expectRefused(
          findings,
          actor,
          `decideApproval(${describeId(fApproval.id)}, ${input.verdict})`,
          m.decide,
          'approval',
          'approve',
        );
        expectRefused(
          findings,
          actor,
          `editSchedule(${describeId(fSchedule.id)})`,
          m.edit,
          'schedule',
          'edit_schedule',
        );
        expectRefused(
          findings,
          actor,
          `startRun(workflow: "${fWorkflow.name}", version: "${fVersion.version}")`,
          m.startForeign,
          'run',
          'start_workflow',
        );
        expectRefused(
          findings,
          actor,
          `createSchedule(workflow: "${fWorkflow.name}")`,
          m.schedule,
          'schedule',
          'edit_schedule',
        );

        // The idempotency key is per tenant: another scope of the same tenant is a CONFLICT (runs.ts
        // createRun); another tenant's key means nothing here and starts (or returns) an own run.
        const op = `startRun(workflow: "${ownWorkflow.name}", idempotencyKey of ${describeId(fRun.id)}: "${fRun.key}")`;
        const s = m.startWithKey;
        if (!MAY[role].has('start_workflow')) {
          expectRefused(findings, actor, op, s, 'run', 'start_workflow', []);
        } else if (keyOwner && keyOwner.cell !== cell) {
          expectRefused(findings, actor, op, s, 'run', 'start_workflow', ['CONFLICT']);
        } else if (keyOwner) {
          findings.that(
            s.userErrors.length === 0 && s.run?.id === keyOwner.run.id,
            `${op}: expected own run ${keyOwner.run.id}, got ${JSON.stringify(s)}`,
          );
          if (s.decision) cell.decisions.add(own(cell, s.decision.id));
        } else {
          findings.that(
            s.userErrors.length === 0 && s.run !== null,
            `${op}: expected a new own run, got ${JSON.stringify(s)}`,
          );
          if (s.run) {
            findings.that(
              s.run.environment === cell.scope.environment &&
                s.run.region === cell.scope.region &&
                !ownerOf.has(s.run.id),
              `${op}: started ${JSON.stringify(s.run)}`,
            );
            if (!ownerOf.has(s.run.id)) {
              const started = recordStart(cell, s, ownWorkflow.name, fRun.key);
              // Cancel it again (an own run: allowed), so probes never use up the tenant's quota.
              const cancelled = await as(CANCEL, { id: started.id });
              findings.that(
                !cancelled.errors && cancelled.data?.cancelRun.userErrors.length === 0,
                `cancelRun(own ${started.id}): ${JSON.stringify(cancelled)}`,
              );
              if (cancelled.data?.cancelRun.decision) {
                cell.decisions.add(own(cell, cancelled.data.cancelRun.decision.id));
              }
              started.status = 'CANCELLED';
            }
          }
          if (s.decision) cell.decisions.add(own(cell, s.decision.id));
        }
      }
    },
    async () => {
      const plan = await as(PLAN, { i: { workflow: fWorkflow.name } });
      findings.that(
        plan.data === null && plan.errors?.length === 1 && plan.errors[0]?.extensions?.code === 'NOT_FOUND',
        `plan(workflow: "${fWorkflow.name}"): expected NOT_FOUND, got ${JSON.stringify(plan)}`,
      );
    },
    async () => {
      if (crossTenant) {
        const foreignSubject = subjectOf(foreign.tenant, at(ROLES, p.member));
        const remove = await as(SET_MEMBER, { s: foreignSubject, r: null });
        if (findings.noErrors(`setMember(${foreignSubject}, null)`, remove)) {
          expectRefused(
            findings,
            actor,
            `setMember(${foreignSubject} of ${foreign.tenant}, role: null)`,
            remove.data.setMember,
            'member',
            'manage_members',
          );
        }
        if (input.addForeignMember) {
          const add = await as(SET_MEMBER, { s: foreignSubject, r: 'viewer' });
          if (findings.noErrors(`setMember(${foreignSubject}, viewer)`, add)) {
            const payload = add.data.setMember;
            if (MAY[role].has('manage_members')) {
              findings.that(
                payload.userErrors.length === 0 &&
                  payload.member?.subject === foreignSubject &&
                  payload.member?.role === 'viewer',
                `setMember(${foreignSubject}, viewer) by an admin: ${JSON.stringify(payload)}`,
              );
              addedMember = foreignSubject;
            } else {
              expectRefused(
                findings,
                actor,
                `setMember(${foreignSubject}, viewer)`,
                payload,
                'member',
                'manage_members',
                [],
              );
            }
          }
        }
      }
    },
  ];
  await Promise.all(mutating.map((mutate) => mutate()));

  // Phase 3, all at once: the owner re-reads what the actor aimed at (unchanged), the actor
  // undoes its own membership change, and uses the foreign cursors.
  // ---- 5. the owner re-reads
  const reread = async (): Promise<void> => {
    const ownerBody = await gql(
      ownerToken,
      foreign.scope,
      `query($run: ID!, $taskRun: ID!, $apr: ID!, $sch: ID!) {
        run: run(id: $run) { id status tasks { id status attempt } }
        taskRun: run(id: $taskRun) { id status tasks { id status attempt } }
        approval: node(id: $apr) { ... on Approval { id status decisions { verdict } } }
        schedule: node(id: $sch) { ... on Schedule { id enabled cron timezone params nextRunAt } }
        runs(first: 1) { totalCount }
        members { subject role }
      }`,
      { run: fRun.id, taskRun: fTaskRun.id, apr: fApproval.id, sch: fSchedule.id },
    );
    if (findings.noErrors(`owner re-read in ${foreign.label}`, ownerBody)) {
      const o = ownerBody.data;
      const taskStatus = (r: RunModel) => (r.status === 'CANCELLED' ? 'CANCELLED' : 'PENDING');
      findings.that(
        o.run?.status === fRun.status,
        `owner reads ${fRun.id} as ${o.run?.status}, was ${fRun.status}`,
      );
      for (const r of [o.run, o.taskRun]) {
        const model = r && foreign.runs.find((x) => x.id === r.id);
        for (const t of r?.tasks ?? []) {
          findings.that(
            model !== undefined && t.status === taskStatus(model) && t.attempt === 1,
            `owner reads task ${t.id} as ${t.status} attempt ${t.attempt}`,
          );
        }
      }
      findings.that(
        o.approval?.status === fApproval.status &&
          o.approval?.decisions.length === fApproval.approvers.length,
        `owner reads approval ${fApproval.id} as ${JSON.stringify(o.approval)}`,
      );
      findings.that(
        JSON.stringify(o.schedule) === JSON.stringify(fSchedule.view),
        `owner reads schedule ${fSchedule.id} as ${JSON.stringify(o.schedule)}, was ${JSON.stringify(fSchedule.view)}`,
      );
      findings.that(
        o.runs.totalCount === foreign.runs.length,
        `owner counts ${o.runs.totalCount} runs in ${foreign.label}, expected ${foreign.runs.length}`,
      );
      findings.sameSet(
        `members of ${foreign.tenant} (owner)`,
        (o.members as Array<{ subject: string; role: string }>).map((x) => `${x.subject}:${x.role}`),
        [...members[foreign.tenant]].map(([s, r]) => `${s}:${r}`),
      );
    }
  };
  const undoMember = async (): Promise<void> => {
    if (addedMember) {
      const undo = await as(SET_MEMBER, { s: addedMember, r: null });
      findings.that(
        !undo.errors && undo.data?.setMember.userErrors.length === 0,
        `removing ${addedMember} again: ${JSON.stringify(undo)}`,
      );
    }
  };

  // ---- 6. a cursor from the foreign listing, used in the actor's scope: an error or own rows only
  const cursorQueries: Record<string, [string, (d: Any) => Array<{ id: string }>, Set<string>]> = {
    runs: [
      'query($a: String) { x: runs(first: 100, after: $a) { totalCount edges { node { id } } } }',
      (d) => d.x.edges.map((e: Any) => e.node),
      new Set(ids(cell.runs)),
    ],
    workflows: [
      'query($a: String) { x: workflows(first: 100, after: $a) { edges { node { id } } } }',
      (d) => d.x.edges.map((e: Any) => e.node),
      new Set(ids(cell.workflows)),
    ],
    approvals: [
      'query($a: String) { x: approvals(first: 100, after: $a) { edges { node { id } } } }',
      (d) => d.x.edges.map((e: Any) => e.node),
      new Set(cell.approvals.map((a) => a.id)),
    ],
    policyDecisions: [
      'query($a: String) { x: policyDecisions(first: 100, after: $a) { edges { node { id } } } }',
      (d) => d.x.edges.map((e: Any) => e.node),
      cell.decisions,
    ],
  };
  const carried = Object.entries(foreignCursors).map(async ([name, cursor]) => {
    const entry = cursorQueries[name];
    if (!entry || cursor === null) return;
    const [query, rows, mine] = entry;
    const body = await as(query, { a: cursor });
    if (body.errors?.length) {
      findings.that(
        body.errors.every((e) => e.extensions?.code === 'BAD_USER_INPUT'),
        `${name}(after: cursor of ${foreign.label}): ${JSON.stringify(body.errors)}`,
      );
      return;
    }
    exposure.observe(`${name}(after: cursor of ${foreign.label})`, body.data);
    const got = rows(body.data).map((r) => r.id);
    const strangers = got.filter((x) => !mine.has(x) && ownerOf.has(x));
    findings.that(
      strangers.length === 0,
      `${name}(after: cursor of ${foreign.label}) lists ${JSON.stringify(strangers.map(describeId))}`,
    );
  });
  await Promise.all([reread(), undoMember(), ...carried]);

  await exposure.verify();
  expect(findings.problems, `${findings.context}\n  ${findings.problems.join('\n  ')}`).toEqual([]);
}

const neighbourhoodArb = fc.record({
  actorCell: fc.nat(3),
  foreignOffset: fc.integer({ min: 1, max: 3 }),
  identity: fc.constantFrom<Role | 'shared'>(...ROLES, 'shared'),
  run: fc.nat(),
  task: fc.nat(),
  approval: fc.nat(),
  schedule: fc.nat(),
});
type NeighbourhoodInput = typeof neighbourhoodArb extends fc.Arbitrary<infer T> ? T : never;

/**
 * A refused mutation naming another scope's entity must not change what that scope's owner sees,
 * the run's graph pane included: same nodes, same edges. (rerunTask records its decision before it
 * looks the task up; the decision must not link to a task of another scope.)
 */
async function checkNeighbourhood(input: NeighbourhoodInput): Promise<void> {
  const cell = at(cells, input.actorCell);
  const foreign = at(cells, input.actorCell + input.foreignOffset);
  const subject = input.identity === 'shared' ? SHARED_SUBJECT : subjectOf(cell.tenant, input.identity);
  const role = input.identity === 'shared' ? SHARED_ROLE[cell.tenant] : input.identity;
  const run = at(foreign.runs, input.run);
  const task = at(run.taskIds, input.task);
  const approval = at(foreign.approvals, input.approval);
  const schedule = at(foreign.schedules, input.schedule);
  const context = `${subject} (${role}) in ${cell.label} vs run ${run.id} of ${foreign.label} [seed ${SEED}]`;
  const owner = tokenOf(foreign.tenant, subjectOf(foreign.tenant, 'admin'));
  const graphOf = async (runId: string): Promise<GraphShape> => {
    const body = await gql(owner, foreign.scope, OWNER_GRAPH, { id: runId });
    expect(body.errors, `${context}: owner's graph read`).toBeUndefined();
    return body.data.run.graph;
  };
  const runs = [run.id, approval.runId];
  const before = await Promise.all(runs.map(graphOf));
  for (const id of [task, approval.id, schedule.id, run.id]) cell.probed.add(id);
  const body = await gql(
    tokenOf(cell.tenant, subject),
    cell.scope,
    `mutation($run: ID!, $task: ID!, $apr: ID!, $sch: ID!) {
      rerunTask(input: { taskId: $task }) { run { id } userErrors { code } decision { id } }
      cancelRun(input: { runId: $run }) { run { id } userErrors { code } decision { id } }
      decideApproval(input: { approvalId: $apr, verdict: APPROVE, reason: "probe" }) {
        approval { id } userErrors { code } decision { id } }
      editSchedule(input: { scheduleId: $sch, enabled: false }) { schedule { id } userErrors { code } decision { id } }
    }`,
    { run: run.id, task, apr: approval.id, sch: schedule.id },
  );
  expect(body.errors, context).toBeUndefined();
  for (const [op, payload] of Object.entries(body.data as Record<string, Any>)) {
    const codes = (payload.userErrors as Array<{ code: string }>).map((e) => e.code);
    expect(['["NOT_FOUND"]', '["POLICY_DENIED"]'], `${context}: ${op}`).toContain(JSON.stringify(codes));
    if (payload.decision) cell.decisions.add(own(cell, payload.decision.id));
  }
  const problems: string[] = [];
  for (const [i, runId] of runs.entries()) {
    const after = await graphOf(runId);
    const was = graphSignature(before[i] as GraphShape);
    const now = graphSignature(after);
    const gained = [...now].filter((x) => !was.has(x));
    const lost = [...was].filter((x) => !now.has(x));
    if (gained.length || lost.length) {
      problems.push(
        `owner's run(${runId}).graph(depth: 3) changed: gained ${JSON.stringify(gained)}, lost ${JSON.stringify(lost)}`,
      );
    }
  }
  expect(problems, `${context}\n  ${problems.join('\n  ')}`).toEqual([]);
}

/** How the graph links a run to a node within three hops (for failure messages). */
async function pathsTo(runId: string, nodeId: string): Promise<string[]> {
  return api.resources.graph.read(async (tx) => {
    const result = await tx.run(
      `MATCH p = (:Run {id: $runId})-[*1..3]-(n {id: $nodeId})
       RETURN [i IN range(0, size(relationships(p))) |
         labels(nodes(p)[i])[0] + coalesce(' ' + nodes(p)[i].subject, '') +
         coalesce(' (' + nodes(p)[i].environment + '/' + nodes(p)[i].region + ')', '') +
         CASE WHEN i < size(relationships(p)) THEN ' -' + type(relationships(p)[i]) + '- ' ELSE '' END] AS steps
       LIMIT 3`,
      { runId, nodeId },
    );
    return result.records.map((r) => (r.get('steps') as string[]).join(''));
  });
}

describe('cross-tenant and cross-scope isolation', () => {
  it('populated four cells with distinct random data', () => {
    for (const cell of cells) {
      expect(cell.workflows.length, cell.label).toBeGreaterThanOrEqual(2);
      expect(cell.runs.length, cell.label).toBeGreaterThanOrEqual(1);
      expect(cell.schedules.length, cell.label).toBeGreaterThanOrEqual(1);
      expect(cell.approvals.length, cell.label).toBeGreaterThanOrEqual(1);
    }
    expect(new Set(cells.map((c) => c.tenantId)).size).toBe(2);
  });

  it('the graph pane of every run walks only through its own scope', async () => {
    const problems: string[] = [];
    await Promise.all(
      cells.map(async (cell) => {
        const viewer = tokenOf(cell.tenant, subjectOf(cell.tenant, 'viewer'));
        for (const run of cell.runs) {
          const body = await gql(viewer, cell.scope, OWNER_GRAPH, { id: run.id });
          if (body.errors) {
            problems.push(`run(${run.id}).graph in ${cell.label}: ${JSON.stringify(body.errors)}`);
            continue;
          }
          const graph = body.data.run.graph as GraphShape;
          // Walking only through the run's scope, every node returned is connected to the run by
          // returned edges; a detached node was reached through a node of another scope.
          for (const node of detachedNodes(run.id, graph)) {
            problems.push(
              `run ${run.id} of ${cell.label}: graph(depth: 3) shows ${node.label} ${node.name}, reached only ` +
                `through another scope: ${JSON.stringify(await pathsTo(run.id, node.id))}`,
            );
          }
        }
      }),
    );
    expect(problems, `[seed ${SEED}]\n  ${problems.join('\n  ')}`).toEqual([]);
  });

  it("a refused mutation naming another scope's entity leaves its owner's graph pane unchanged", async () => {
    await fc.assert(fc.asyncProperty(neighbourhoodArb, checkNeighbourhood), {
      numRuns: 12,
      seed: SEED,
      endOnFailure: true,
      // Always included: a viewer of A:dev/EU naming tasks, runs, approvals, schedules of A:prod/US.
      examples: [
        [{ actorCell: 0, foreignOffset: 1, identity: 'viewer', run: 0, task: 0, approval: 0, schedule: 0 }],
      ],
    });
  }, 120_000);

  it('an actor of one scope never reads, counts, pages to or changes an entity of another', async () => {
    await fc.assert(fc.asyncProperty(propertyArb, checkIsolation), {
      numRuns: NUM_RUNS,
      seed: SEED,
      endOnFailure: true,
    });
  }, 300_000);
});
