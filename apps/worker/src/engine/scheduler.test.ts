import { createPrismaClient, createTenant, type PrismaClient, setMember } from '@maestro/db';
import { newId, nextRunAt } from '@maestro/domain';
import {
  createSchedule,
  getSchedule,
  listDecisions,
  saveWorkflowVersion,
  updateSchedule,
} from '@maestro/graph';
import { jobs } from '@maestro/queue';
import { loadServiceEnv, uniqueName } from '@maestro/testing';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleScheduleFire, syncSchedules } from './scheduler.ts';
import { startTestEngine, type TestEngine } from './test-engine.ts';

let db: PrismaClient;
let engine: TestEngine;
let tenantId: string;

beforeAll(async () => {
  db = createPrismaClient({ databaseUrl: loadServiceEnv().DATABASE_URL });
  const tenant = await createTenant(db, { name: uniqueName('sched-tenant') });
  tenantId = tenant.id;
  await setMember(db, { tenantId, subject: 'ada', role: 'operator' });
  await setMember(db, { tenantId, subject: 'vera', role: 'viewer' });
  engine = await startTestEngine({ db, scope: { tenantId } });
  const manifest = {
    name: 'nightly',
    version: '1.0.0',
    params: { who: { type: 'string', default: 'night' } },
    steps: [{ id: 'say', uses: 'core.echo', with: { message: 'hello ${{ params.who }}' } }],
  };
  const { digestOf } = await import('@maestro/domain');
  await saveWorkflowVersion(engine.graph, engine.scope, {
    name: 'nightly',
    version: '1.0.0',
    digest: digestOf(manifest),
    manifest,
    publishedBy: 'ken',
    publishedByRoles: ['composer'],
    publishedAt: new Date(),
  });
});
afterAll(async () => {
  await engine?.close();
  await db?.$disconnect();
});

async function schedule(createdBy: string, cron = '0 3 * * *', timezone = 'Europe/Paris') {
  return createSchedule(engine.graph, engine.scope, {
    id: newId('Schedule'),
    workflowName: 'nightly',
    cron,
    timezone,
    params: { who: createdBy },
    enabled: true,
    nextRunAt: nextRunAt({ cron, timezone }, new Date()),
    createdBy,
    at: new Date(),
  });
}

function engineDeps() {
  const deps = engine.workers.engine;
  if (!deps) throw new Error('engine not started');
  return deps;
}
const schedulerDeps = () => ({ ...engineDeps(), db, policy: engine.policy });

/** A firing as BullMQ's job scheduler delivers it. */
function firing(scheduleId: string, at: Date): Job {
  return { id: `repeat:${scheduleId}:${at.getTime()}`, timestamp: at.getTime() } as unknown as Job;
}

describe('scheduler', () => {
  it('mirrors enabled schedules into BullMQ job schedulers with their cron and time zone', async () => {
    const s = await schedule('ada', '30 2 * * 1-5', 'America/New_York');
    await syncSchedules(engineDeps());
    const queue = engine.producer.queue(jobs.scheduleFire.queue);
    const mirrored = await queue.getJobScheduler(s.id);
    expect(mirrored).toMatchObject({ pattern: '30 2 * * 1-5', tz: 'America/New_York' });
    // Redis fires at the time the domain computes for the zone (DST-aware).
    expect(mirrored?.next).toBe(nextRunAt({ cron: s.cron, timezone: s.timezone }, new Date()).getTime());
    await updateSchedule(engine.graph, engine.scope, s.id, { enabled: false, at: new Date() });
    const { removed } = await syncSchedules(engineDeps());
    expect(removed).toBeGreaterThanOrEqual(1);
    expect(await queue.getJobScheduler(s.id)).toBeUndefined();
  });

  it('a firing starts a run as the creator, gated and recorded, once per firing', async () => {
    const s = await schedule('ada');
    const deps = schedulerDeps();
    const at = new Date(Date.now() - 1000);
    const payload = { ...engine.scope, scheduleId: s.id };
    const first = (await handleScheduleFire(deps, payload, firing(s.id, at))) as {
      runId: string;
      created: boolean;
    };
    expect(first.created).toBe(true);
    const again = (await handleScheduleFire(deps, payload, firing(s.id, at))) as {
      runId: string;
      created: boolean;
    };
    expect(again).toEqual({ ...first, created: false, status: expect.any(String) });
    const run = await engine.waitForRun(first.runId);
    expect(run).toMatchObject({ status: 'SUCCEEDED', initiatedBy: 'ada', initiatorRoles: ['operator'] });
    expect(run.params).toEqual({ who: 'ada' });
    const after = await getSchedule(engine.graph, engine.scope, s.id);
    expect(after?.lastRunAt && Date.parse(after.lastRunAt)).toBe(at.getTime());
    expect(after?.nextRunAt && Date.parse(after.nextRunAt)).toBe(
      nextRunAt({ cron: s.cron, timezone: s.timezone }, at).getTime(),
    );
  });

  it('a schedule whose creator may not start runs is denied by policy, and the denial is kept', async () => {
    const s = await schedule('vera');
    const deps = schedulerDeps();
    const result = (await handleScheduleFire(
      deps,
      { ...engine.scope, scheduleId: s.id },
      firing(s.id, new Date()),
    )) as {
      denied: string[];
      decision: string;
    };
    expect(result.denied.length).toBeGreaterThan(0);
    const decisions = await listDecisions(engine.graph, engine.scope, { action: 'start_workflow' }, 50, null);
    const kept = decisions.items.find((d) => d.node.id === result.decision)?.node;
    expect(kept).toMatchObject({ allow: false, actor: 'vera' });
  });
});
