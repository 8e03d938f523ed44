import { uniqueName } from '@maestro/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningWorkers, startWorkers } from '../../worker/src/workers.ts';
import { type ApiHarness, startApi } from './api-harness.ts';

// startRun, cancelRun, rerunTask and approvals end to end: the API and a worker on the same
// (test-private) queues, over the real Redis, Neo4j, Postgres and compiled policy.

const PUBLISH = `mutation($m: String!) { publishWorkflow(input: { manifest: $m }) { userErrors { code message } } }`;
const START = `mutation($i: StartRunInput!) { startRun(input: $i) {
  run { id status } approval { id requiredApprovals } decision { requiresApproval } userErrors { code message } } }`;
const RUN = `query($id: ID!) { run(id: $id) { id status statusMessage
  tasks { id stepId status attempt output errorCode deadLetter }
  timeline(first: 200) { type subjectId from to message } } }`;
const CANCEL = `mutation($i: CancelRunInput!) { cancelRun(input: $i) { run { status } userErrors { code message } } }`;
const RERUN = `mutation($i: RerunTaskInput!) { rerunTask(input: $i) { run { status } userErrors { code message } } }`;
const DECIDE = `mutation($i: DecideApprovalInput!) { decideApproval(input: $i) {
  approval { status } userErrors { code message } } }`;

let api: ApiHarness;
let workers: RunningWorkers;
let tenantId: string;
const tokens: Record<string, string> = {};
const dev = { environment: 'dev', region: 'EU' };

// biome-ignore lint/suspicious/noExplicitAny: tests walk untyped GraphQL JSON responses
async function gql(user: string, query: string, variables?: unknown): Promise<Record<string, any>> {
  const { body } = await api.gql(query, { token: tokens[user] ?? '', ...dev, variables });
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data as never;
}

async function waitFor(runId: string, statuses: string[], timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = (await gql('ada', RUN, { id: runId })).run;
    if (statuses.includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run still ${run.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  const queuePrefix = uniqueName('apitest');
  api = await startApi({ MAESTRO_QUEUE_PREFIX: queuePrefix });
  tenantId = await api.makeTenant({ ken: 'composer', ada: 'operator', grace: 'operator', linus: 'admin' });
  for (const user of ['ken', 'ada', 'grace', 'linus']) tokens[user] = await api.token(user, tenantId);
  workers = startWorkers({
    redisUrl: (await import('@maestro/testing')).loadServiceEnv().REDIS_URL,
    queuePrefix,
    workerId: uniqueName('api-e2e-worker'),
    concurrency: 4,
    logger: pino({ level: 'silent' }),
    engine: {
      graph: api.resources.graph,
      policy: api.resources.policy,
      tenants: [tenantId],
      reconcileEveryMs: 1000,
      reconcileGraceMs: 1000,
    },
  });
  await workers.ready;
  const manifests = [
    `name: hello\nversion: 1.0.0\nparams:\n  who: { type: string, default: world }\nsteps:\n  - id: greet\n    uses: core.echo\n    with: { message: "hi \${{ params.who }}" }\n  - id: done\n    uses: core.echo\n    needs: [greet]\n    with: { message: "\${{ steps.greet.output.message }}!" }\n`,
    `name: slow\nversion: 1.0.0\nsteps:\n  - id: nap\n    uses: core.sleep\n    with: { ms: 30000 }\n`,
    `name: risky\nversion: 1.0.0\nrisk: high\nsteps:\n  - id: ship\n    uses: core.echo\n    with: { message: shipped }\n`,
  ];
  for (const m of manifests)
    expect((await gql('ken', PUBLISH, { m })).publishWorkflow.userErrors).toEqual([]);
});
afterAll(async () => {
  await workers?.close();
  await api?.close();
});

describe('the engine behind the API', () => {
  it('startRun executes the run to SUCCEEDED', async () => {
    const started = (await gql('ada', START, { i: { workflow: 'hello', params: { who: 'maestro' } } }))
      .startRun;
    expect(started.userErrors).toEqual([]);
    const run = await waitFor(started.run.id, ['SUCCEEDED', 'FAILED']);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.tasks.map((t: { output: unknown }) => t.output)).toEqual([
      { message: 'hi maestro' },
      { message: 'hi maestro!' },
    ]);
    const types = run.timeline.map((e: { type: string; to: string }) => `${e.type}:${e.to}`);
    expect(types[0]).toBe('run.status:PENDING');
    expect(types).toContain('run.status:RUNNING');
    expect(types.at(-1)).toBe('run.status:SUCCEEDED');
  });

  it('cancelRun stops a running step and ends the run CANCELLED', async () => {
    const started = (await gql('ada', START, { i: { workflow: 'slow' } })).startRun;
    const runId = started.run.id;
    await waitFor(runId, ['RUNNING']);
    for (let i = 0; i < 100; i++) {
      const run = (await gql('ada', RUN, { id: runId })).run;
      if (run.tasks[0].status === 'RUNNING') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const cancelled = (await gql('ada', CANCEL, { i: { runId, reason: 'not today' } })).cancelRun;
    expect(cancelled).toMatchObject({ run: { status: 'CANCELLED' }, userErrors: [] });
    // The sleeping step was aborted: the worker is free again well before its 30 s.
    for (let i = 0; i < 100 && workers.engine?.running.size; i++) await new Promise((r) => setTimeout(r, 20));
    expect(workers.engine?.running.size).toBe(0);
    const run = (await gql('ada', RUN, { id: runId })).run;
    expect(run).toMatchObject({ status: 'CANCELLED', statusMessage: 'not today' });
    expect(run.tasks[0].status).toBe('CANCELLED');
  });

  it('rerunTask runs a finished task again with the next attempt', async () => {
    const started = (await gql('ada', START, { i: { workflow: 'hello' } })).startRun;
    const first = await waitFor(started.run.id, ['SUCCEEDED']);
    const greet = first.tasks[0];
    const rerun = (await gql('ada', RERUN, { i: { taskId: greet.id, downstream: true } })).rerunTask;
    expect(rerun).toMatchObject({ run: { status: 'RUNNING' }, userErrors: [] });
    const again = await waitFor(started.run.id, ['SUCCEEDED', 'FAILED']);
    expect(again.status).toBe('SUCCEEDED');
    expect(again.tasks.map((t: { attempt: number }) => t.attempt)).toEqual([2, 2]);
  });

  it('a run that needs approval waits, and runs once two different approvers approve', async () => {
    const started = (await gql('ada', START, { i: { workflow: 'risky' } })).startRun;
    expect(started.run.status).toBe('AWAITING_APPROVAL');
    expect(started.approval.requiredApprovals).toBe(2);
    const approvalId = started.approval.id;
    await new Promise((r) => setTimeout(r, 1500)); // the reconciler must not start it meanwhile
    expect((await gql('ada', RUN, { id: started.run.id })).run.status).toBe('AWAITING_APPROVAL');
    const self = (await gql('ada', DECIDE, { i: { approvalId, verdict: 'APPROVE', reason: 'me' } }))
      .decideApproval;
    // Policy refuses first (dual control is also enforced in code: see approvals tests).
    expect(self.userErrors[0]).toMatchObject({
      code: 'POLICY_DENIED',
      message: expect.stringMatching(/requested this run and may not decide/),
    });
    const one = (await gql('grace', DECIDE, { i: { approvalId, verdict: 'APPROVE', reason: 'ok' } }))
      .decideApproval;
    expect(one).toMatchObject({ approval: { status: 'PENDING' }, userErrors: [] });
    const two = (await gql('linus', DECIDE, { i: { approvalId, verdict: 'APPROVE', reason: 'ok' } }))
      .decideApproval;
    expect(two).toMatchObject({ approval: { status: 'APPROVED' }, userErrors: [] });
    const run = await waitFor(started.run.id, ['SUCCEEDED', 'FAILED']);
    expect(run.status).toBe('SUCCEEDED');
  });
});
