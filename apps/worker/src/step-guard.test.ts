import { newId } from '@maestro/domain';
import { createGraph, listDecisions } from '@maestro/graph';
import { loadCompiledPolicy, loadServiceEnv, uniqueTenantId } from '@maestro/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createPolicyStepGuard } from './step-guard.ts';

const env = loadServiceEnv();
const graph = createGraph({ uri: env.NEO4J_URI, user: env.NEO4J_USER, password: env.NEO4J_PASSWORD });
const policy = await loadCompiledPolicy();
afterAll(async () => {
  await policy.close();
  await graph.close();
});

describe('per-step policy guard (compiled internal bundle, real graph)', () => {
  const scope = { tenantId: uniqueTenantId(), environment: 'dev', region: 'EU' };
  const guard = createPolicyStepGuard(
    { policy, graph, clock: () => new Date() },
    {
      scope,
      runId: newId('Run'),
      taskId: newId('Task'),
      uses: 'http.request',
      actor: { subject: 'ada', roles: ['operator'] },
    },
  );

  it('allows egress to an allow-listed host and denies others with a fatal POLICY_DENIED', async () => {
    await expect(guard.checkEgress(new URL('http://127.0.0.1:8080/deploy'))).resolves.toBeUndefined();
    await expect(guard.checkEgress(new URL('https://exfil.example.com/upload'))).rejects.toMatchObject({
      code: 'POLICY_DENIED',
      retryable: false,
    });
  });

  it('allows listed models only', async () => {
    await expect(guard.checkModel('gpt-4.1-mini')).resolves.toBeUndefined();
    await expect(guard.checkModel('some-unvetted-model')).rejects.toMatchObject({ code: 'POLICY_DENIED' });
  });

  it('keeps every check as a decision on the task', async () => {
    const egress = await listDecisions(graph, scope, { action: 'step_egress' }, 10, null);
    const models = await listDecisions(graph, scope, { action: 'step_model' }, 10, null);
    expect(egress.items.map((i) => i.node.allow).sort()).toEqual([false, true]);
    expect(models.items.map((i) => i.node.allow).sort()).toEqual([false, true]);
    expect(egress.items.find((i) => !i.node.allow)?.node.reasons[0]).toMatch(/^egress_denied: /);
  });
});
