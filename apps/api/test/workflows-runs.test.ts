import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@maestro/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.ts';

const EXAMPLE = readFileSync(
  join(REPO_ROOT, 'packages/domain/src/manifest/fixtures/contract-example.yaml'),
  'utf8',
);
const PUBLISH = `mutation($m: String!) { publishWorkflow(input: { manifest: $m }) {
  workflowVersion { id version digest publishedBy { subject roles } }
  decision { id action allow reasons bundle { profile revision digest } }
  userErrors { code message field } } }`;
const START = `mutation($i: StartRunInput!) { startRun(input: $i) {
  run { id status params workflow { name } workflowVersion { version } initiatedBy { subject }
        tasks { stepId uses status needs attempt idempotencyKey } policyDecisions { id action allow } }
  decision { id allow requiresApproval } approval { id status requiredApprovals eligibleRoles requestedBy { subject } }
  userErrors { code message field } } }`;
const DECIDE = `mutation($i: DecideApprovalInput!) { decideApproval(input: $i) {
  approval { status decisions { approver { subject } verdict reason } run { id status } }
  decision { allow } userErrors { code message } } }`;

let api: ApiHarness;
let tenantId: string;
const as: Record<string, string> = {};
const dev = { environment: 'dev', region: 'EU' };

type Body = {
  // biome-ignore lint/suspicious/noExplicitAny: tests walk untyped GraphQL JSON responses
  data?: Record<string, any>;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
};
async function gql(user: string, query: string, variables?: unknown, scope = dev): Promise<Body> {
  const token = as[user];
  if (!token) throw new Error(`no token for ${user}`);
  return (await api.gql(query, { token, ...scope, variables })).body as Body;
}

beforeAll(async () => {
  api = await startApi();
  tenantId = await api.makeTenant({
    ken: 'composer',
    ada: 'operator',
    grace: 'operator',
    linus: 'admin',
    vera: 'viewer',
  });
  for (const user of ['ken', 'ada', 'grace', 'linus', 'vera']) as[user] = await api.token(user, tenantId);
});
afterAll(() => api?.close());

describe('publishWorkflow', () => {
  it('stores a version with its digest and the policy decision, idempotently', async () => {
    const first = (await gql('ken', PUBLISH, { m: EXAMPLE })).data?.publishWorkflow;
    expect(first.userErrors).toEqual([]);
    expect(first.workflowVersion).toMatchObject({
      version: '1.4.0',
      publishedBy: { subject: 'ken', roles: ['composer'] },
    });
    expect(first.workflowVersion.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(first.decision).toMatchObject({
      action: 'publish_workflow',
      allow: true,
      bundle: { profile: 'internal' },
    });
    const again = (await gql('ken', PUBLISH, { m: EXAMPLE })).data?.publishWorkflow;
    expect(again.workflowVersion.id).toBe(first.workflowVersion.id);
    const changed = EXAMPLE.replace('Build, scan and ship', 'Build and ship');
    const conflict = (await gql('ken', PUBLISH, { m: changed })).data?.publishWorkflow;
    expect(conflict.userErrors).toMatchObject([{ code: 'CONFLICT', field: ['version'] }]);
    expect(conflict.workflowVersion).toBeNull();
  });

  it('reports every manifest problem with a field path and stores nothing', async () => {
    const bad = `name: broken\nversion: 1.0.0\nsteps:\n  - id: a\n    uses: core.echo\n    needs: [b]\n  - id: b\n    uses: core.echo\n    needs: [a]\n  - id: c\n    uses: no.such.step\n`;
    const result = (await gql('ken', PUBLISH, { m: bad })).data?.publishWorkflow;
    expect(result.workflowVersion).toBeNull();
    const codes = new Set(result.userErrors.map((e: { code: string }) => e.code));
    expect(codes).toEqual(new Set(['VALIDATION']));
    expect(result.userErrors.some((e: { message: string }) => /cycle/.test(e.message))).toBe(true);
    expect(result.userErrors.some((e: { field: string[] }) => e.field.join('.') === 'steps.2.uses')).toBe(
      true,
    );
    const malformed = (await gql('ken', PUBLISH, { m: 'name: [unclosed' })).data?.publishWorkflow;
    expect(malformed.userErrors[0].code).toBe('VALIDATION');
    const list = (await gql('ken', '{ workflow(name: "broken") { id } }')).data;
    expect(list?.workflow).toBeNull();
  });

  it('refuses a viewer with the policy decision and its reason', async () => {
    const result = (await gql('vera', PUBLISH, { m: EXAMPLE.replace('intelgraph-build', 'viewer-try') })).data
      ?.publishWorkflow;
    expect(result.userErrors).toMatchObject([{ code: 'POLICY_DENIED' }]);
    expect(result.userErrors[0].message).toMatch(/may not publish_workflow/);
    expect(result.decision).toMatchObject({ allow: false });
    expect((await gql('vera', '{ workflow(name: "viewer-try") { id } }')).data?.workflow).toBeNull();
  });
});

describe('startRun and reading runs', () => {
  it('holds a high-risk start for two approvers, refuses self-approval, releases on the second', async () => {
    await gql('ken', PUBLISH, { m: EXAMPLE });
    const res = (await gql('ada', START, { i: { workflow: 'intelgraph-build', params: { env: 'prod' } } }))
      .data?.startRun;
    expect(res.userErrors).toEqual([]);
    expect(res.decision).toMatchObject({ allow: true, requiresApproval: true });
    expect(res.approval).toMatchObject({
      status: 'PENDING',
      requiredApprovals: 2,
      requestedBy: { subject: 'ada' },
    });
    expect([...res.approval.eligibleRoles].sort()).toEqual(['admin', 'operator']);
    expect(res.run).toMatchObject({
      status: 'AWAITING_APPROVAL',
      params: { env: 'prod', targets: ['api', 'web'] },
      workflow: { name: 'intelgraph-build' },
      workflowVersion: { version: '1.4.0' },
      initiatedBy: { subject: 'ada' },
    });
    expect(res.run.tasks.map((t: { stepId: string; needs: string[] }) => [t.stepId, t.needs])).toEqual([
      ['plan', []],
      ['build', ['plan']],
      ['gate', ['build']],
      ['deploy', ['gate']],
    ]);
    expect(res.run.policyDecisions).toEqual([{ id: res.decision.id, action: 'start_workflow', allow: true }]);

    const detailBody = await gql(
      'vera',
      `query($id: ID!) { run(id: $id) { id timeline { type to actor { subject } } graph(depth: 1) { nodes { label } edges { type } } } }`,
      { id: res.run.id },
    );
    expect(detailBody.errors).toBeUndefined();
    const detail = detailBody.data?.run;
    expect(detail.timeline).toEqual([
      { type: 'run.status', to: 'AWAITING_APPROVAL', actor: { subject: 'ada' } },
    ]);
    const labels = new Set(detail.graph.nodes.map((n: { label: string }) => n.label));
    for (const label of ['Run', 'Task', 'WorkflowVersion', 'User', 'PolicyDecision'])
      expect(labels).toContain(label);
    expect(detail.graph.edges.filter((e: { type: string }) => e.type === 'DEPENDS_ON')).toHaveLength(3);

    const approvalId = res.approval.id;
    const mine = (
      await gql('grace', '{ approvals(filter: { actionableByMe: true }) { edges { node { id } } } }')
    ).data;
    expect(mine?.approvals.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(approvalId);
    const self = (await gql('ada', DECIDE, { i: { approvalId, verdict: 'APPROVE', reason: 'mine' } })).data
      ?.decideApproval;
    expect(self.userErrors).toMatchObject([{ code: 'POLICY_DENIED' }]);
    const viewer = (await gql('vera', DECIDE, { i: { approvalId, verdict: 'APPROVE', reason: 'lgtm' } })).data
      ?.decideApproval;
    expect(viewer.userErrors).toMatchObject([{ code: 'POLICY_DENIED' }]);
    const first = (
      await gql('grace', DECIDE, { i: { approvalId, verdict: 'APPROVE', reason: 'diff reviewed' } })
    ).data?.decideApproval;
    expect(first.userErrors).toEqual([]);
    expect(first.approval).toMatchObject({ status: 'PENDING', run: { status: 'AWAITING_APPROVAL' } });
    const again = (await gql('grace', DECIDE, { i: { approvalId, verdict: 'APPROVE', reason: 'twice' } }))
      .data?.decideApproval;
    expect(again.userErrors[0].code).toMatch(/POLICY_DENIED|DUPLICATE_APPROVER/);
    const second = (
      await gql('linus', DECIDE, { i: { approvalId, verdict: 'APPROVE', reason: 'rollout plan ok' } })
    ).data?.decideApproval;
    expect(second.approval).toMatchObject({
      status: 'APPROVED',
      decisions: [
        { approver: { subject: 'grace' }, verdict: 'APPROVE', reason: 'diff reviewed' },
        { approver: { subject: 'linus' }, verdict: 'APPROVE', reason: 'rollout plan ok' },
      ],
      run: { status: 'PENDING' },
    });
  });

  it('plans a start: per-step estimate and the decision, without starting anything', async () => {
    const before = (await gql('ada', '{ runs { totalCount } }')).data?.runs.totalCount;
    const PLAN = `query($i: StartRunInput!) { plan(input: $i) { estimatedCostUSD requiresApproval
      tasks { stepId uses estimatedCostUSD } decision { action allow reasons } } }`;
    const input = { workflow: 'intelgraph-build', params: { targets: ['a', 'b', 'c'] } };
    const plan = (await gql('ada', PLAN, { i: input })).data?.plan;
    expect(plan.tasks).toEqual([
      { stepId: 'plan', uses: 'core.echo', estimatedCostUSD: 0 },
      { stepId: 'build', uses: 'exec.command', estimatedCostUSD: 0.003 },
      { stepId: 'gate', uses: 'approval.gate', estimatedCostUSD: 0 },
      { stepId: 'deploy', uses: 'http.request', estimatedCostUSD: 0.0001 },
    ]);
    expect(plan.estimatedCostUSD).toBe(0.0031);
    expect(plan.decision).toMatchObject({ action: 'start_workflow', allow: true });
    const viewerPlan = (await gql('vera', PLAN, { i: input })).data?.plan;
    expect(viewerPlan.decision.allow).toBe(false);
    expect((await gql('ada', '{ runs { totalCount } }')).data?.runs.totalCount).toBe(before);
  });

  it("offers start actions only to roles policy permits, labelled by the policy's approval answer", async () => {
    const Q = '{ paletteActions(search: "start") { kind label requiresApproval paramsSchema } }';
    const ada = (await gql('ada', Q)).data?.paletteActions;
    expect(ada).toContainEqual(
      expect.objectContaining({
        kind: 'START_WORKFLOW',
        label: 'Start intelgraph-build',
        requiresApproval: true,
      }),
    );
    const vera = (await gql('vera', Q)).data?.paletteActions;
    expect(vera.filter((a: { kind: string }) => a.kind === 'START_WORKFLOW')).toEqual([]);
  });

  it('returns the same run for the same idempotency key', async () => {
    const input = { workflow: 'intelgraph-build', idempotencyKey: 'release-7' };
    const a = (await gql('ada', START, { i: input })).data?.startRun;
    const b = (await gql('grace', START, { i: input })).data?.startRun;
    expect(b.run.id).toBe(a.run.id);
  });

  it('rejects bad params and unknown workflows with coded errors and starts nothing', async () => {
    const before = (await gql('ada', '{ runs { totalCount } }')).data?.runs.totalCount;
    const wrong = (
      await gql('ada', START, { i: { workflow: 'intelgraph-build', params: { env: 'moon', nope: 1 } } })
    ).data?.startRun;
    expect(wrong.run).toBeNull();
    const fields = wrong.userErrors.map((e: { field: string[] }) => e.field.join('.'));
    expect(fields).toEqual(expect.arrayContaining(['input.params.env', 'input.params.nope']));
    const missing = (await gql('ada', START, { i: { workflow: 'no-such-flow' } })).data?.startRun;
    expect(missing.userErrors).toMatchObject([{ code: 'NOT_FOUND', field: ['input', 'workflow'] }]);
    const badKey = (await gql('ada', START, { i: { workflow: 'intelgraph-build', idempotencyKey: 'a\nb' } }))
      .data?.startRun;
    expect(badKey.userErrors).toMatchObject([{ code: 'VALIDATION', field: ['input', 'idempotencyKey'] }]);
    expect((await gql('ada', '{ runs { totalCount } }')).data?.runs.totalCount).toBe(before);
  });

  it('pages and filters runs, rejects forged cursors, and cancels a run once', async () => {
    const page = (
      await gql(
        'ada',
        '{ runs(first: 1, filter: { status: [PENDING, AWAITING_APPROVAL] }) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }',
      )
    ).data?.runs;
    expect(page.totalCount).toBeGreaterThanOrEqual(2);
    expect(page.pageInfo.hasNextPage).toBe(true);
    // totalCount(upTo:) stops counting at upTo (a "1+" badge), beside the exact count.
    const capped = (
      await gql(
        'ada',
        '{ runs(filter: { status: [PENDING, AWAITING_APPROVAL] }) { exact: totalCount one: totalCount(upTo: 1) } }',
      )
    ).data?.runs;
    expect(capped).toEqual({ exact: page.totalCount, one: 1 });
    const next = (
      await gql('ada', 'query($a: String) { runs(first: 1, after: $a) { edges { node { id } } } }', {
        a: page.pageInfo.endCursor,
      })
    ).data?.runs;
    expect(next.edges[0].node.id).not.toBe(page.edges[0].node.id);
    const forged = await gql('ada', '{ runs(after: "bm90LWEtY3Vyc29y") { totalCount } }');
    expect(forged.errors?.[0]).toMatchObject({
      message: 'invalid cursor',
      extensions: { code: 'BAD_USER_INPUT' },
    });

    const runId = page.edges[0].node.id;
    const CANCEL =
      'mutation($id: ID!) { cancelRun(input: { runId: $id, reason: "wrong branch" }) { run { status tasks { status } } decision { allow } userErrors { code } } }';
    const cancelled = (await gql('ada', CANCEL, { id: runId })).data?.cancelRun;
    expect(cancelled.run.status).toBe('CANCELLED');
    expect(new Set(cancelled.run.tasks.map((t: { status: string }) => t.status))).toEqual(
      new Set(['CANCELLED']),
    );
    const twice = (await gql('ada', CANCEL, { id: runId })).data?.cancelRun;
    expect(twice.userErrors).toEqual([{ code: 'INVALID_STATE' }]);
    const viewer = (await gql('vera', CANCEL, { id: runId })).data?.cancelRun;
    expect(viewer.userErrors).toEqual([{ code: 'POLICY_DENIED' }]);
    expect(viewer.decision).toEqual({ allow: false });
  });

  it('reads another tenant’s and another region’s runs as not found', async () => {
    const runId = (await gql('ada', '{ runs(first: 1) { edges { node { id } } } }')).data?.runs.edges[0].node
      .id;
    const other = await api.makeTenant({ eve: 'admin' });
    const eve = await api.token('eve', other);
    const q = 'query($id: ID!) { run(id: $id) { id } node(id: $id) { id } }';
    expect((await api.gql(q, { token: eve, ...dev, variables: { id: runId } })).body.data).toEqual({
      run: null,
      node: null,
    });
    expect((await gql('ada', q, { id: runId }, { environment: 'dev', region: 'US' })).data).toEqual({
      run: null,
      node: null,
    });
    expect((await gql('ada', q, { id: runId })).data).toEqual({ run: { id: runId }, node: { id: runId } });
  });
});
