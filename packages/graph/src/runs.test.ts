import { newId, type Scope } from '@maestro/domain';
import { loadServiceEnv, publishTestWorkflow, uniqueTenantId } from '@maestro/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createGraph } from './graph.ts';
import { countRuns, createRun, getRun, listRuns, type NewRun } from './runs.ts';
import { getTasksForRuns, listTimeline } from './tasks.ts';

const env = loadServiceEnv();
const graph = createGraph({ uri: env.NEO4J_URI, user: env.NEO4J_USER, password: env.NEO4J_PASSWORD });
afterAll(() => graph.close());

async function publish(scope: Scope, name = 'build') {
  const saved = await publishTestWorkflow(graph, scope, name, [{ id: 'a' }, { id: 'b', needs: ['a'] }]);
  return saved.versionId;
}

function newRun(versionId: string, overrides: Partial<NewRun> = {}): NewRun {
  return {
    id: newId('Run'),
    workflowVersionId: versionId,
    status: 'PENDING',
    params: { env: 'staging' },
    initiatedBy: 'ada',
    initiatorRoles: ['operator'],
    idempotencyKey: null,
    estimatedCostUSD: 0.5,
    createdAt: new Date(),
    tasks: [
      {
        id: newId('Task'),
        stepId: 'a',
        uses: 'core.echo',
        needs: [],
        idempotencyKey: 'ka',
        itemIndex: null,
        position: 0,
        input: {},
      },
      {
        id: newId('Task'),
        stepId: 'b',
        uses: 'core.echo',
        needs: ['a'],
        idempotencyKey: 'kb',
        itemIndex: null,
        position: 1,
        input: {},
      },
    ],
    ...overrides,
  };
}

describe('runs repository', () => {
  it('creates a run with its tasks, dependencies and first timeline event in one go', async () => {
    const scope = { tenantId: uniqueTenantId(), environment: 'dev', region: 'EU' };
    const versionId = await publish(scope);
    const { run, created } = await createRun(graph, scope, newRun(versionId));
    expect(created).toBe(true);
    expect(run).toMatchObject({
      workflowName: 'build',
      version: '1.0.0',
      status: 'PENDING',
      params: { env: 'staging' },
    });
    const tasks = (await getTasksForRuns(graph, scope, [run.id])).get(run.id) ?? [];
    expect(tasks.map((t) => [t.stepId, t.needs, t.status])).toEqual([
      ['a', [], 'PENDING'],
      ['b', ['a'], 'PENDING'],
    ]);
    const deps = await graph.read((tx) =>
      tx.run('MATCH (:Task {runId: $id, stepId: "b"})-[:DEPENDS_ON]->(u:Task) RETURN u.stepId AS s', {
        id: run.id,
      }),
    );
    expect(deps.records.map((r) => r.get('s'))).toEqual(['a']);
    const timeline = await listTimeline(graph, scope, run.id, 10, null);
    expect(timeline.events).toMatchObject([{ seq: 0, type: 'run.status', to: 'PENDING', actor: 'ada' }]);
  });

  it('returns the same run for the same idempotency key and refuses the key from another scope', async () => {
    const scope = { tenantId: uniqueTenantId(), environment: 'dev', region: 'EU' };
    const versionId = await publish(scope);
    const first = await createRun(graph, scope, newRun(versionId, { idempotencyKey: 'deploy-42' }));
    const again = await createRun(graph, scope, newRun(versionId, { idempotencyKey: 'deploy-42' }));
    expect(again.created).toBe(false);
    expect(again.run.id).toBe(first.run.id);
    expect(await countRuns(graph, scope, {})).toBe(1);

    const prod = { ...scope, environment: 'prod' };
    const prodVersion = await publish(prod);
    await expect(
      createRun(graph, prod, newRun(prodVersion, { idempotencyKey: 'deploy-42' })),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('reads another scope’s run as not found', async () => {
    const scope = { tenantId: uniqueTenantId(), environment: 'dev', region: 'EU' };
    const { run } = await createRun(graph, scope, newRun(await publish(scope)));
    expect(await getRun(graph, scope, run.id)).not.toBeNull();
    expect(await getRun(graph, { ...scope, region: 'US' }, run.id)).toBeNull();
    expect(await getRun(graph, { ...scope, tenantId: uniqueTenantId() }, run.id)).toBeNull();
  });

  it('pages newest first by keyset cursor without gaps or repeats, with filters', async () => {
    const scope = { tenantId: uniqueTenantId(), environment: 'dev', region: 'EU' };
    const versionId = await publish(scope);
    const base = Date.parse('2026-01-01T00:00:00Z');
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      const status = i % 3 === 0 ? 'RUNNING' : 'PENDING';
      // pairs share a timestamp so the id tie-breaker is exercised
      const { run } = await createRun(
        graph,
        scope,
        newRun(versionId, { status, createdAt: new Date(base + Math.floor(i / 2) * 1000) }),
      );
      ids.push(run.id);
    }
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page = await listRuns(graph, scope, {}, 5, after);
      seen.push(...page.items.map((i) => i.node.id));
      after = page.hasNextPage ? page.endCursor : null;
      pages++;
    } while (after);
    expect(pages).toBe(5);
    expect(new Set(seen).size).toBe(23);
    expect(seen.sort()).toEqual([...ids].sort());

    const running = await listRuns(graph, scope, { status: ['RUNNING'] }, 100, null);
    expect(running.items).toHaveLength(8);
    expect(await countRuns(graph, scope, { status: ['RUNNING'] })).toBe(8);
    const window = await listRuns(
      graph,
      scope,
      { createdAfter: new Date(base + 2000), createdBefore: new Date(base + 4000) },
      100,
      null,
    );
    expect(window.items).toHaveLength(4);
    expect((await listRuns(graph, scope, { environment: 'prod' }, 10, null)).items).toHaveLength(0);
    expect((await listRuns(graph, scope, { workflow: 'other' }, 10, null)).items).toHaveLength(0);
  });

  it('pages and counts every filter combination through its index, in order, within the scope', async () => {
    const scope = { tenantId: uniqueTenantId(), environment: 'dev', region: 'EU' };
    const other = { ...scope, region: 'US' };
    const versions = { build: await publish(scope, 'build'), deploy: await publish(scope, 'deploy') };
    await createRun(graph, other, newRun(await publish(other, 'build'), { status: 'RUNNING' }));
    const base = Date.parse('2026-02-01T00:00:00Z');
    const statuses = ['PENDING', 'RUNNING', 'AWAITING_APPROVAL'] as const;
    const all: Array<{ id: string; workflow: string; status: string; at: number }> = [];
    for (let i = 0; i < 30; i++) {
      const workflow = i % 4 === 0 ? 'deploy' : 'build';
      const status = statuses[i % 3] ?? 'PENDING';
      const at = base + Math.floor(i / 3) * 1000; // triples share a timestamp: the id breaks ties
      const { run } = await createRun(
        graph,
        scope,
        newRun(versions[workflow], { status, createdAt: new Date(at) }),
      );
      all.push({ id: run.id, workflow, status, at });
    }
    const newestFirst = (a: (typeof all)[number], b: (typeof all)[number]) =>
      b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
    const cases: Array<{
      filter: Parameters<typeof listRuns>[2];
      keep: (r: (typeof all)[number]) => boolean;
    }> = [
      { filter: {}, keep: () => true },
      { filter: { workflow: 'build' }, keep: (r) => r.workflow === 'build' },
      { filter: { status: ['RUNNING'] }, keep: (r) => r.status === 'RUNNING' },
      { filter: { status: ['RUNNING', 'PENDING'] }, keep: (r) => r.status !== 'AWAITING_APPROVAL' },
      {
        filter: { workflow: 'build', status: ['PENDING'] },
        keep: (r) => r.workflow === 'build' && r.status === 'PENDING',
      },
      {
        filter: { workflow: 'deploy', status: ['PENDING', 'AWAITING_APPROVAL'] },
        keep: (r) => r.workflow === 'deploy' && r.status !== 'RUNNING',
      },
      {
        filter: {
          workflow: 'build',
          status: ['RUNNING'],
          createdAfter: new Date(base + 2000),
          createdBefore: new Date(base + 8000),
        },
        keep: (r) =>
          r.workflow === 'build' && r.status === 'RUNNING' && r.at >= base + 2000 && r.at < base + 8000,
      },
    ];
    for (const { filter, keep } of cases) {
      const expected = all
        .filter(keep)
        .sort(newestFirst)
        .map((r) => r.id);
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const page = await listRuns(graph, scope, filter, 2, after);
        seen.push(...page.items.map((i) => i.node.id));
        after = page.hasNextPage ? page.endCursor : null;
      } while (after);
      expect(seen, JSON.stringify(filter)).toEqual(expected);
      expect(await countRuns(graph, scope, filter), JSON.stringify(filter)).toBe(expected.length);
      expect(await countRuns(graph, scope, filter, { upTo: 3 }), JSON.stringify(filter)).toBe(
        Math.min(3, expected.length),
      );
    }
    expect(await countRuns(graph, scope, { environment: 'prod' })).toBe(0);
    await expect(countRuns(graph, scope, {}, { upTo: -1 })).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('rejects forged and foreign cursors and out-of-range page sizes as VALIDATION', async () => {
    const scope = { tenantId: uniqueTenantId(), environment: 'dev', region: 'EU' };
    for (const after of [
      'not-base64!',
      Buffer.from('{"k":"evt","s":1,"id":"x"}').toString('base64url'),
      'e30',
    ]) {
      await expect(listRuns(graph, scope, {}, 10, after)).rejects.toMatchObject({
        code: 'VALIDATION',
        field: ['after'],
      });
    }
    await expect(listRuns(graph, scope, {}, 0, null)).rejects.toMatchObject({
      code: 'VALIDATION',
      field: ['first'],
    });
    await expect(listRuns(graph, scope, {}, 101, null)).rejects.toMatchObject({ code: 'VALIDATION' });
  });
});
