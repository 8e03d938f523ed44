import { nextRunAt, type Scope } from '@maestro/domain';
import { publishTestWorkflow } from '@maestro/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.ts';

const SCHEDULE_FIELDS = 'id workflow { id name } cron timezone params enabled nextRunAt';
const PAYLOAD = `schedule { ${SCHEDULE_FIELDS} }
  decision { id action allow reasons subjectId actor { subject } }
  userErrors { code message field }`;
const CREATE = `mutation($i: ScheduleInput!) { createSchedule(input: $i) { ${PAYLOAD} } }`;
const EDIT = `mutation($i: EditScheduleInput!) { editSchedule(input: $i) { ${PAYLOAD} } }`;
const LIST = `{ schedules { ${SCHEDULE_FIELDS} } }`;
const NODE = `query($id: ID!) { node(id: $id) { __typename ... on Schedule { ${SCHEDULE_FIELDS} } } }`;
const DECISIONS = `query($f: PolicyDecisionFilter) { policyDecisions(filter: $f) {
  edges { node { id action allow subjectId } } } }`;

interface ScheduleView {
  id: string;
  workflow: { id: string; name: string };
  cron: string;
  timezone: string;
  params: unknown;
  enabled: boolean;
  nextRunAt: string | null;
}
interface Payload {
  schedule: ScheduleView | null;
  decision: {
    id: string;
    action: string;
    allow: boolean;
    reasons: string[];
    subjectId: string | null;
    actor: { subject: string };
  } | null;
  userErrors: Array<{ code: string; message: string; field: string[] | null }>;
}
interface Body {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

let api: ApiHarness;
let tenantId: string;
let otherTenantId: string;
const tokens: Record<string, string> = {};
const dev = { environment: 'dev', region: 'EU' };

async function gql(user: string, query: string, variables?: unknown, scope = dev): Promise<Body> {
  const token = tokens[user];
  if (!token) throw new Error(`no token for ${user}`);
  const { body } = await api.gql(query, { token, ...scope, variables });
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body as Body;
}

async function create(user: string, input: Record<string, unknown>, scope = dev): Promise<Payload> {
  return (await gql(user, CREATE, { i: input }, scope)).data?.createSchedule as Payload;
}
async function edit(user: string, input: Record<string, unknown>, scope = dev): Promise<Payload> {
  return (await gql(user, EDIT, { i: input }, scope)).data?.editSchedule as Payload;
}
async function list(user: string, scope = dev): Promise<ScheduleView[]> {
  return (await gql(user, LIST, undefined, scope)).data?.schedules as ScheduleView[];
}

/** Publishes a workflow straight into the graph, in the tenant's dev/EU scope. */
async function publish(tenant: string, name: string, environment = 'dev'): Promise<string> {
  const scope: Scope = { tenantId: tenant, environment, region: 'EU' };
  return (await publishTestWorkflow(api.resources.graph, scope, name)).workflowId;
}

/** The next run the server must have computed, given it ran between `before` and `after`. */
function expectNextRun(actual: string | null | undefined, cron: string, timezone: string, before: Date) {
  const after = new Date();
  const candidates = [nextRunAt({ cron, timezone }, before), nextRunAt({ cron, timezone }, after)].map((d) =>
    d.toISOString(),
  );
  expect(candidates).toContain(actual);
}

/** The wall-clock hour and minute of an instant in a zone, e.g. "09:00". */
function wallClock(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(new Date(iso));
}

beforeAll(async () => {
  api = await startApi();
  tenantId = await api.makeTenant({ ada: 'operator', vera: 'viewer', root: 'admin' });
  otherTenantId = await api.makeTenant({ eve: 'operator' });
  tokens.ada = await api.token('ada', tenantId);
  tokens.vera = await api.token('vera', tenantId);
  tokens.root = await api.token('root', tenantId);
  tokens.eve = await api.token('eve', otherTenantId);
  await publish(tenantId, 'nightly-report');
  await publish(tenantId, 'prod-only', 'prod');
  await publish(otherTenantId, 'nightly-report');
});
afterAll(() => api?.close());

describe('createSchedule', () => {
  it('creates a schedule with its next run in the zone and an allowing decision', async () => {
    const before = new Date();
    const input = {
      workflow: 'nightly-report',
      cron: '0 9 * * *',
      timezone: 'Europe/Berlin',
      params: { env: 'staging', notify: ['ops'] },
    };
    const payload = await create('ada', input);
    expect(payload.userErrors).toEqual([]);
    expect(payload.schedule).toMatchObject({
      workflow: { name: 'nightly-report' },
      cron: '0 9 * * *',
      timezone: 'Europe/Berlin',
      params: { env: 'staging', notify: ['ops'] },
      enabled: true,
    });
    const schedule = payload.schedule as ScheduleView;
    expect(schedule.id).toMatch(/^sch_[0-9a-f-]{36}$/);
    expectNextRun(schedule.nextRunAt, '0 9 * * *', 'Europe/Berlin', before);
    expect(wallClock(schedule.nextRunAt as string, 'Europe/Berlin')).toBe('09:00');
    expect(new Date(schedule.nextRunAt as string).getTime()).toBeGreaterThan(before.getTime());
    expect(payload.decision).toMatchObject({
      action: 'edit_schedule',
      allow: true,
      subjectId: null,
      actor: { subject: 'ada' },
    });

    // listed, reachable through node(id), and the decision is linked to it as evidence
    expect((await list('ada')).map((s) => s.id)).toContain(schedule.id);
    const node = (await gql('ada', NODE, { id: schedule.id })).data?.node;
    expect(node).toEqual({ __typename: 'Schedule', ...schedule });
    const decisions = (await gql('ada', DECISIONS, { f: { subjectId: schedule.id } })).data
      ?.policyDecisions as {
      edges: Array<{ node: { id: string } }>;
    };
    expect(decisions.edges.map((e) => e.node.id)).toEqual([payload.decision?.id]);
  });

  it('defaults the zone to UTC and enabled to true; params to {}', async () => {
    const before = new Date();
    const payload = await create('ada', { workflow: 'nightly-report', cron: '*/15 * * * *' });
    expect(payload.userErrors).toEqual([]);
    expect(payload.schedule).toMatchObject({ timezone: 'UTC', enabled: true, params: {} });
    expectNextRun(payload.schedule?.nextRunAt, '*/15 * * * *', 'UTC', before);
  });

  it('creates a disabled schedule without a next run', async () => {
    const payload = await create('ada', {
      workflow: 'nightly-report',
      cron: '30 6 * * MON',
      timezone: 'America/New_York',
      enabled: false,
    });
    expect(payload.userErrors).toEqual([]);
    expect(payload.schedule).toMatchObject({ enabled: false, nextRunAt: null });
  });

  it('returns userErrors with code and field for bad input, and persists nothing', async () => {
    const listed = await list('ada');
    const cases: Array<[Record<string, unknown>, string, string[]]> = [
      [{ workflow: 'nightly-report', cron: 'every day at nine' }, 'VALIDATION', ['input', 'cron']],
      [{ workflow: 'nightly-report', cron: '0 9 * *' }, 'VALIDATION', ['input', 'cron']],
      [{ workflow: 'nightly-report', cron: '* * * * * *' }, 'VALIDATION', ['input', 'cron']],
      [{ workflow: 'nightly-report', cron: '0 0 31 2 *' }, 'VALIDATION', ['input', 'cron']],
      [
        { workflow: 'nightly-report', cron: '0 9 * * *', timezone: 'Mars/Olympus' },
        'VALIDATION',
        ['input', 'timezone'],
      ],
      [
        { workflow: 'nightly-report', cron: '0 9 * * *', timezone: '+02:00' },
        'VALIDATION',
        ['input', 'timezone'],
      ],
      [{ workflow: 'no-such-workflow', cron: '0 9 * * *' }, 'NOT_FOUND', ['input', 'workflow']],
      // published in prod only: not visible from dev
      [{ workflow: 'prod-only', cron: '0 9 * * *' }, 'NOT_FOUND', ['input', 'workflow']],
      [{ workflow: 'nightly-report', cron: '0 9 * * *', params: [1, 2] }, 'VALIDATION', ['input', 'params']],
      [
        { workflow: 'nightly-report', cron: '0 9 * * *', params: 'env=prod' },
        'VALIDATION',
        ['input', 'params'],
      ],
      [
        { workflow: 'nightly-report', cron: '0 9 * * *', params: { blob: 'x'.repeat(64 * 1024) } },
        'VALIDATION',
        ['input', 'params'],
      ],
    ];
    for (const [input, code, field] of cases) {
      const payload = await create('ada', input);
      expect(payload.schedule, JSON.stringify(input).slice(0, 100)).toBeNull();
      expect(payload.userErrors, JSON.stringify(input).slice(0, 100)).toMatchObject([{ code, field }]);
      expect(payload.userErrors[0]?.message).toBeTruthy();
    }
    expect(await list('ada')).toEqual(listed);
  });

  it('denies a viewer with POLICY_DENIED beside a denying decision, and persists nothing', async () => {
    const listed = await list('vera'); // viewers may read
    const payload = await create('vera', { workflow: 'nightly-report', cron: '0 9 * * *' });
    expect(payload.schedule).toBeNull();
    expect(payload.userErrors).toMatchObject([{ code: 'POLICY_DENIED' }]);
    expect(payload.decision).toMatchObject({
      action: 'edit_schedule',
      allow: false,
      actor: { subject: 'vera' },
    });
    expect(await list('ada')).toEqual(listed);
  });
});

describe('editSchedule', () => {
  it('toggles enabled, clearing and then recomputing the next run', async () => {
    const created = (
      await create('ada', { workflow: 'nightly-report', cron: '0 9 * * *', timezone: 'Asia/Tokyo' })
    ).schedule as ScheduleView;

    const off = await edit('ada', { scheduleId: created.id, enabled: false });
    expect(off.userErrors).toEqual([]);
    expect(off.schedule).toMatchObject({
      id: created.id,
      enabled: false,
      nextRunAt: null,
      cron: '0 9 * * *',
    });
    expect(off.decision).toMatchObject({ action: 'edit_schedule', allow: true, subjectId: created.id });

    const before = new Date();
    const on = await edit('root', { scheduleId: created.id, enabled: true });
    expect(on.userErrors).toEqual([]);
    expect(on.schedule?.enabled).toBe(true);
    expectNextRun(on.schedule?.nextRunAt, '0 9 * * *', 'Asia/Tokyo', before);
    expect(wallClock(on.schedule?.nextRunAt as string, 'Asia/Tokyo')).toBe('09:00');
    expect(on.decision).toMatchObject({ allow: true, subjectId: created.id, actor: { subject: 'root' } });

    const listed = (await list('ada')).find((s) => s.id === created.id);
    expect(listed).toEqual(on.schedule);
  });

  it('recomputes the next run when the timing changes and keeps the rest', async () => {
    const created = (
      await create('ada', { workflow: 'nightly-report', cron: '0 9 * * *', params: { env: 'staging' } })
    ).schedule as ScheduleView;
    const before = new Date();
    const retimed = await edit('ada', {
      scheduleId: created.id,
      cron: '45 17 * * *',
      timezone: 'America/New_York',
    });
    expect(retimed.userErrors).toEqual([]);
    expect(retimed.schedule).toMatchObject({
      cron: '45 17 * * *',
      timezone: 'America/New_York',
      params: { env: 'staging' },
      enabled: true,
    });
    expectNextRun(retimed.schedule?.nextRunAt, '45 17 * * *', 'America/New_York', before);

    const reparam = await edit('ada', { scheduleId: created.id, params: { env: 'prod' } });
    expect(reparam.schedule).toMatchObject({
      params: { env: 'prod' },
      nextRunAt: retimed.schedule?.nextRunAt,
    });
  });

  it('rejects bad edits with userErrors and leaves the schedule as it was', async () => {
    const created = (await create('ada', { workflow: 'nightly-report', cron: '0 9 * * *' }))
      .schedule as ScheduleView;
    const cases: Array<[Record<string, unknown>, string, string[]]> = [
      [{ cron: '61 * * * *' }, 'VALIDATION', ['input', 'cron']],
      [{ timezone: 'Nowhere/Special' }, 'VALIDATION', ['input', 'timezone']],
      [{ params: [] }, 'VALIDATION', ['input', 'params']],
    ];
    for (const [patch, code, field] of cases) {
      const payload = await edit('ada', { scheduleId: created.id, ...patch });
      expect(payload.schedule).toBeNull();
      expect(payload.userErrors).toMatchObject([{ code, field }]);
    }
    const denied = await edit('vera', { scheduleId: created.id, enabled: false });
    expect(denied.userErrors).toMatchObject([{ code: 'POLICY_DENIED' }]);
    expect(denied.decision).toMatchObject({ allow: false, subjectId: created.id });
    expect((await gql('ada', NODE, { id: created.id })).data?.node).toEqual({
      __typename: 'Schedule',
      ...created,
    });
  });

  it("treats another tenant's (or environment's) schedule as not found", async () => {
    const theirs = (await create('eve', { workflow: 'nightly-report', cron: '0 9 * * *' }))
      .schedule as ScheduleView;
    expect(theirs).not.toBeNull();

    const attempt = await edit('ada', { scheduleId: theirs.id, enabled: false });
    expect(attempt).toMatchObject({
      schedule: null,
      decision: null,
      userErrors: [{ code: 'NOT_FOUND', field: ['input', 'scheduleId'] }],
    });
    expect((await gql('ada', NODE, { id: theirs.id })).data?.node).toBeNull();
    expect((await list('ada')).map((s) => s.id)).not.toContain(theirs.id);

    // the same tenant's schedule from another environment of the tenant
    const prod = { environment: 'prod', region: 'EU' };
    const mine = (await list('ada'))[0] as ScheduleView;
    expect((await edit('ada', { scheduleId: mine.id, enabled: false }, prod)).userErrors).toMatchObject([
      { code: 'NOT_FOUND', field: ['input', 'scheduleId'] },
    ]);
    expect((await gql('ada', NODE, { id: mine.id }, prod)).data?.node).toBeNull();

    // and the owner's schedule is untouched
    expect((await gql('eve', NODE, { id: theirs.id })).data?.node).toEqual({
      __typename: 'Schedule',
      ...theirs,
    });
    expect((await edit('ada', { scheduleId: 'not-an-id', enabled: false })).userErrors).toMatchObject([
      { code: 'NOT_FOUND' },
    ]);
  });
});
