import { newId, type Scope } from '@maestro/domain';
import { loadServiceEnv, publishTestWorkflow, uniqueTenantId } from '@maestro/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createGraph } from './graph.ts';
import {
  createSchedule,
  getSchedule,
  getSchedules,
  listSchedules,
  type NewSchedule,
  updateSchedule,
} from './schedules.ts';

const env = loadServiceEnv();
const graph = createGraph({ uri: env.NEO4J_URI, user: env.NEO4J_USER, password: env.NEO4J_PASSWORD });
afterAll(() => graph.close());

const scopeOf = (tenantId = uniqueTenantId(), environment = 'dev', region = 'EU'): Scope => ({
  tenantId,
  environment,
  region,
});

async function publish(scope: Scope, name = 'nightly') {
  return publishTestWorkflow(graph, scope, name);
}

function newSchedule(overrides: Partial<NewSchedule> = {}): NewSchedule {
  return {
    id: newId('Schedule'),
    workflowName: 'nightly',
    cron: '0 9 * * *',
    timezone: 'Europe/Berlin',
    params: { env: 'staging', retries: 2 },
    enabled: true,
    nextRunAt: new Date('2030-01-15T08:00:00.000Z'),
    createdBy: 'ada',
    at: new Date('2030-01-14T12:00:00.000Z'),
    ...overrides,
  };
}

const iso = (s: string | null) => (s === null ? null : new Date(s).toISOString());

describe('schedules repository', () => {
  it('creates a schedule linked to its workflow and reads it back', async () => {
    const scope = scopeOf();
    const { workflowId } = await publish(scope);
    const input = newSchedule();
    const created = await createSchedule(graph, scope, input);
    expect(created).toMatchObject({
      id: input.id,
      ...scope,
      workflowId,
      workflowName: 'nightly',
      cron: '0 9 * * *',
      timezone: 'Europe/Berlin',
      params: { env: 'staging', retries: 2 },
      enabled: true,
      lastRunAt: null,
      createdBy: 'ada',
    });
    expect(iso(created.nextRunAt)).toBe('2030-01-15T08:00:00.000Z');
    expect(iso(created.createdAt)).toBe('2030-01-14T12:00:00.000Z');
    expect(await getSchedule(graph, scope, input.id)).toEqual(created);

    const edge = await graph.read((tx) =>
      tx.run(
        `MATCH (s:Schedule {id: $id})-[:SCHEDULES]->(w:Workflow)
         RETURN w.id AS w, s.params AS params, s.nextRunAt IS :: ZONED DATETIME AS typed`,
        { id: input.id },
      ),
    );
    expect(edge.records.map((r) => r.get('w'))).toEqual([workflowId]);
    expect(typeof edge.records[0]?.get('params')).toBe('string'); // params stored as JSON text
    expect(edge.records[0]?.get('typed')).toBe(true); // a real datetime, not a string
  });

  it('refuses a workflow that does not exist in the scope, even if it exists in another', async () => {
    const scope = scopeOf();
    await publish(scopeOf(scope.tenantId, 'prod')); // same tenant, other environment
    await publish(scopeOf()); // other tenant
    await expect(createSchedule(graph, scope, newSchedule())).rejects.toMatchObject({
      code: 'NOT_FOUND',
      field: ['input', 'workflow'],
    });
    expect(await listSchedules(graph, scope)).toEqual([]);
  });

  it('stores no nextRunAt for a disabled schedule', async () => {
    const scope = scopeOf();
    await publish(scope);
    const created = await createSchedule(graph, scope, newSchedule({ enabled: false }));
    expect(created.enabled).toBe(false);
    expect(created.nextRunAt).toBeNull();
  });

  it('patches only the given fields and clears nextRunAt when disabled', async () => {
    const scope = scopeOf();
    await publish(scope);
    const created = await createSchedule(graph, scope, newSchedule());
    const at = new Date('2030-01-14T13:00:00.000Z');

    const disabled = await updateSchedule(graph, scope, created.id, { enabled: false, at });
    expect(disabled).toMatchObject({
      enabled: false,
      nextRunAt: null,
      cron: '0 9 * * *',
      params: created.params,
    });
    expect(iso(disabled.updatedAt)).toBe(at.toISOString());

    const enabled = await updateSchedule(graph, scope, created.id, {
      enabled: true,
      cron: '30 6 * * MON',
      timezone: 'UTC',
      params: { env: 'prod' },
      nextRunAt: new Date('2030-01-21T06:30:00.000Z'),
      at,
    });
    expect(enabled).toMatchObject({
      enabled: true,
      cron: '30 6 * * MON',
      timezone: 'UTC',
      params: { env: 'prod' },
      createdBy: 'ada',
    });
    expect(iso(enabled.nextRunAt)).toBe('2030-01-21T06:30:00.000Z');
    expect(enabled.createdAt).toBe(created.createdAt);

    // a nextRunAt given for a schedule that stays disabled is not kept
    const off = await updateSchedule(graph, scope, created.id, {
      enabled: false,
      nextRunAt: new Date('2030-01-22T06:30:00.000Z'),
      at,
    });
    expect(off.nextRunAt).toBeNull();
    expect(await getSchedule(graph, scope, created.id)).toEqual(off);
  });

  it('lists the scope’s schedules oldest first, with batch lookups in the order asked', async () => {
    const scope = scopeOf();
    await publish(scope);
    await publish(scope, 'weekly');
    const a = await createSchedule(graph, scope, newSchedule({ at: new Date('2030-01-14T12:00:02Z') }));
    const b = await createSchedule(
      graph,
      scope,
      newSchedule({ workflowName: 'weekly', at: new Date('2030-01-14T12:00:01Z') }),
    );
    const c = await createSchedule(graph, scope, newSchedule({ at: new Date('2030-01-14T12:00:03Z') }));
    expect((await listSchedules(graph, scope)).map((s) => s.id)).toEqual([b.id, a.id, c.id]);
    expect(
      (await getSchedules(graph, scope, [c.id, newId('Schedule'), a.id, b.id])).map((s) => s.workflowName),
    ).toEqual(['nightly', 'nightly', 'weekly']);
  });

  it('confines reads and writes to the scope: another scope’s schedule reads as not found', async () => {
    const scope = scopeOf();
    await publish(scope);
    const created = await createSchedule(graph, scope, newSchedule());
    const others = [
      scopeOf(), // another tenant
      scopeOf(scope.tenantId, 'prod'), // another environment
      scopeOf(scope.tenantId, 'dev', 'US'), // another region
    ];
    for (const other of others) {
      await publish(other); // the same workflow name exists there
      expect(await getSchedule(graph, other, created.id)).toBeNull();
      expect(await getSchedules(graph, other, [created.id])).toEqual([]);
      expect(await listSchedules(graph, other)).toEqual([]);
      await expect(
        updateSchedule(graph, other, created.id, { enabled: false, at: new Date() }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND', field: ['input', 'scheduleId'] });
    }
    expect(await getSchedule(graph, scope, created.id)).toEqual(created); // untouched
  });
});
