/* biome-ignore-all lint/suspicious/noExplicitAny: tests walk untyped GraphQL JSON responses */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listDecisions } from '@maestro/graph';
import { type PolicyPackInfo, verifyPack } from '@maestro/policy';
import { REPO_ROOT } from '@maestro/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/schema.ts';
import { type ApiHarness, startApi } from './api-harness.ts';

const EXAMPLE = readFileSync(
  join(REPO_ROOT, 'packages/domain/src/manifest/fixtures/contract-example.yaml'),
  'utf8',
);
const dev = { environment: 'dev', region: 'EU' };

/**
 * Each mutation, the policy action it must be gated by, and a call that reaches the gate.
 * createTenant is decided by the role table without a tenant scope to store evidence in
 * (platform operators have no tenant); its refusal is covered in tenancy.test.ts.
 */
type Call = (h: {
  gql: (q: string, v?: unknown) => Promise<any>;
  ids: Record<string, string>;
}) => Promise<unknown>;
const GATED: Record<string, { action: string; call: Call } | 'not-tenant-scoped'> = {
  publishWorkflow: {
    action: 'publish_workflow',
    call: ({ gql }) =>
      gql('mutation($m: String!) { publishWorkflow(input: { manifest: $m }) { userErrors { code } } }', {
        m: EXAMPLE,
      }),
  },
  startRun: {
    action: 'start_workflow',
    call: async ({ gql, ids }) => {
      const r = await gql(
        'mutation { startRun(input: { workflow: "intelgraph-build" }) { run { id tasks { id } } approval { id } decision { reasons } userErrors { code message } } }',
      );
      expect(r.data.startRun.userErrors, JSON.stringify(r.data.startRun.decision)).toEqual([]);
      ids.run = r.data.startRun.run.id;
      ids.task = r.data.startRun.run.tasks[0].id;
      ids.approval = r.data.startRun.approval.id;
    },
  },
  decideApproval: {
    action: 'approve',
    call: ({ gql, ids }) =>
      gql(
        'mutation($a: ID!) { decideApproval(input: { approvalId: $a, verdict: REJECT, reason: "not today" }) { userErrors { code } } }',
        { a: ids.approval },
      ),
  },
  rerunTask: {
    action: 'rerun_task',
    call: ({ gql, ids }) =>
      gql('mutation($t: ID!) { rerunTask(input: { taskId: $t }) { userErrors { code } } }', { t: ids.task }),
  },
  cancelRun: {
    action: 'cancel_run',
    call: ({ gql, ids }) =>
      gql('mutation($r: ID!) { cancelRun(input: { runId: $r }) { userErrors { code } } }', { r: ids.run }),
  },
  createSchedule: {
    action: 'edit_schedule',
    call: async ({ gql, ids }) => {
      const r = await gql(
        'mutation { createSchedule(input: { workflow: "intelgraph-build", cron: "0 9 * * 1" }) { schedule { id } } }',
      );
      ids.schedule = r.data.createSchedule.schedule.id;
    },
  },
  editSchedule: {
    action: 'edit_schedule',
    call: ({ gql, ids }) =>
      gql(
        'mutation($s: ID!) { editSchedule(input: { scheduleId: $s, enabled: false }) { userErrors { code } } }',
        { s: ids.schedule },
      ),
  },
  setMember: {
    action: 'manage_members',
    call: ({ gql }) =>
      gql('mutation { setMember(input: { subject: "newbie", role: "viewer" }) { userErrors { code } } }'),
  },
  createTenant: 'not-tenant-scoped',
};

let api: ApiHarness;
let token: string;
let tenantId: string;
beforeAll(async () => {
  api = await startApi();
  tenantId = await api.makeTenant({ margaret: 'admin', ken: 'composer' });
  token = await api.token('margaret', tenantId);
});
afterAll(() => api?.close());

describe('every gated mutation leaves a stored decision', () => {
  it('covers every mutation the schema serves', () => {
    const served = Object.keys(schema.getMutationType()?.getFields() ?? {}).sort();
    expect(served).toEqual(Object.keys(GATED).sort());
  });

  it('stores one decision per call, with the action, actor, bundle and input digest', async () => {
    const scope = { tenantId, ...dev };
    const ids: Record<string, string> = {};
    const gql = async (q: string, v?: unknown) => (await api.gql(q, { token, ...dev, variables: v })).body;
    for (const [mutation, gate] of Object.entries(GATED)) {
      if (gate === 'not-tenant-scoped') continue;
      const before = (await listDecisions(api.resources.graph, scope, { action: gate.action }, 100, null))
        .items.length;
      await gate.call({ gql, ids });
      const after = (await listDecisions(api.resources.graph, scope, { action: gate.action }, 100, null))
        .items;
      expect(after.length, mutation).toBe(before + 1);
      const newest = after[0]?.node;
      expect(newest, mutation).toMatchObject({
        action: gate.action,
        actor: 'margaret',
        bundleProfile: 'internal',
      });
      expect(newest?.inputDigest, mutation).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.parse(newest?.input ?? '{}').action, mutation).toBe(gate.action);
    }
  });
});

describe('policy catalog over REST', () => {
  it('lists packs with a signature that verifies, and 404s an unknown pack', async () => {
    const { packs } = (await (await fetch(`${api.url}/api/policy-packs`)).json()) as {
      packs: Array<{ id: string }>;
    };
    expect(packs.map((p) => p.id)).toEqual(expect.arrayContaining(['maestro.authz', 'maestro.packs.budget']));
    const one = (await (
      await fetch(`${api.url}/api/policy-packs/maestro.packs.budget`)
    ).json()) as PolicyPackInfo;
    expect(verifyPack(one)).toBe(true);
    expect((await fetch(`${api.url}/api/policy-packs/nope`)).status).toBe(404);
  });
});

describe('an unavailable policy decision point', () => {
  it('denies with pdp_unavailable and still records the decision (fail closed)', async () => {
    const down = await startApi({ MAESTRO_POLICY_MODE: 'remote', MAESTRO_OPA_URL: 'http://127.0.0.1:9' });
    try {
      const t = await down.makeTenant({ ada: 'admin' });
      const adaToken = await down.token('ada', t);
      const { body } = await down.gql(
        'mutation($m: String!) { publishWorkflow(input: { manifest: $m }) { workflowVersion { id } decision { allow reasons } userErrors { code message } } }',
        { token: adaToken, ...dev, variables: { m: EXAMPLE } },
      );
      const payload = (body.data as any).publishWorkflow;
      expect(payload.workflowVersion).toBeNull();
      expect(payload.decision.allow).toBe(false);
      expect(payload.decision.reasons[0]).toMatch(/^pdp_unavailable: /);
      expect(payload.userErrors[0]).toMatchObject({ code: 'POLICY_DENIED' });
      const stored = await listDecisions(down.resources.graph, { tenantId: t, ...dev }, {}, 10, null);
      expect(stored.items.map((i) => [i.node.action, i.node.allow])).toEqual([['publish_workflow', false]]);
      // reads are role-checked by the same decision point: closed too
      const read = await down.gql('{ workflows { edges { cursor } } }', { token: adaToken, ...dev });
      expect(read.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    } finally {
      await down.close();
    }
  });
});
