import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOf } from '@maestro/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTHZ_REGO,
  buildBundle,
  DATA,
  freePort,
  MAIN_REGO,
  type OpaServer,
  startOpaServer,
} from '../test/opa.ts';
import { createPolicyEngineFromConfig } from './config.ts';
import type { Decision, PolicyInput } from './decision.ts';
import { createPolicyEngine } from './engine.ts';
import { createRemotePolicyEngine } from './remote.ts';

let dir: string;
let plain: OpaServer; // `opa run --server main.rego authz.rego data.json`
let bundled: OpaServer; // `opa run --server -b <dir with .manifest>`
let wasmBundle: string;

function startInput(
  overrides: { environment?: string; region?: string; costUSD?: number; roles?: string[] } = {},
) {
  return {
    actor: { subject: 'alice', roles: overrides.roles ?? ['operator'] },
    tenant: { id: 'tnt_1', maxConcurrentRuns: 5, budget: { remainingUSD: 100 } },
    request: { environment: overrides.environment ?? 'dev', region: overrides.region ?? 'EU' },
    subject: { id: 'wf_1', workflow: 'etl-nightly', estimate: { costUSD: overrides.costUSD ?? 10 } },
  } satisfies PolicyInput;
}

const withSubject = (extra: Record<string, unknown>): PolicyInput => {
  const input = startInput();
  return { ...input, subject: { ...input.subject, ...extra } };
};

const answer = ({ allow, requiresApproval, approval, reasons, warnings }: Decision) => ({
  allow,
  requiresApproval,
  approval,
  reasons,
  warnings,
});

/** An HTTP server standing in for a sick OPA: it hangs, or answers with a status. */
async function fakeOpa(behaviour: 'hang' | number): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    if (behaviour === 'hang') return;
    res.writeHead(behaviour, { 'content-type': 'application/json' });
    res.end('{"code":"internal_error","message":"sick"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'maestro-policy-remote-'));
  const files = join(dir, 'files');
  const bundleDir = join(dir, 'bundle');
  for (const d of [files, join(bundleDir, 'maestro')]) await mkdir(d, { recursive: true });
  await writeFile(join(files, 'main.rego'), MAIN_REGO);
  await writeFile(join(files, 'authz.rego'), AUTHZ_REGO);
  await writeFile(join(files, 'data.json'), JSON.stringify(DATA));
  await writeFile(join(bundleDir, 'maestro/main.rego'), MAIN_REGO);
  await writeFile(join(bundleDir, 'maestro/authz.rego'), AUTHZ_REGO);
  await writeFile(join(bundleDir, 'data.json'), JSON.stringify(DATA));
  await writeFile(join(bundleDir, '.manifest'), JSON.stringify({ revision: 'srv-rev-1' }));
  [plain, bundled, wasmBundle] = await Promise.all([
    startOpaServer([join(files, 'main.rego'), join(files, 'authz.rego'), join(files, 'data.json')]),
    startOpaServer(['-b', bundleDir]),
    buildBundle(dir, 'same', {
      files: { 'main.rego': MAIN_REGO, 'authz.rego': AUTHZ_REGO },
      revision: 'srv-rev-1',
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([plain?.stop(), bundled?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

describe('createRemotePolicyEngine against a real OPA server', () => {
  it('decides through the Data API with the same answers as the in-process engine', async () => {
    const remote = await createRemotePolicyEngine({ url: plain.url, profile: 'internal', timeoutMs: 5000 });
    const local = await createPolicyEngine({ bundlePath: wasmBundle, profile: 'internal', deadlineMs: 5000 });
    const inputs: Array<[string, PolicyInput]> = [
      ['start_workflow', {}],
      ['start_workflow', startInput()],
      ['start_workflow', startInput({ environment: 'prod' })],
      ['start_workflow', startInput({ roles: ['viewer'] })],
      ['start_workflow', startInput({ costUSD: 250.5, region: 'us-east-1' })],
      // Amounts whose %v differs: Go prints 1e-06 and 1e-07 where JavaScript prints 0.000001 and 1e-7.
      [
        'start_workflow',
        { ...startInput({ costUSD: 0.000001 }), tenant: { id: 'tnt_1', budget: { remainingUSD: 1e-7 } } },
      ],
      ['manage_members', startInput({ roles: ['admin'] })],
    ];
    for (const [action, input] of inputs) {
      const r = await remote.decide(action, input);
      const l = await local.decide(action, input);
      expect(answer(r), `${action} ${JSON.stringify(input)}`).toEqual(answer(l));
      expect(r.inputDigest).toBe(digestOf({ ...input, action }));
      expect(r.id).toMatch(/^pd_/);
    }
    const prod = await remote.decide('start_workflow', startInput({ environment: 'prod' }));
    expect(prod).toMatchObject({ allow: true, requiresApproval: true, approval: { count: 2 } });
    expect(remote.bundle).toEqual({ profile: 'internal', revision: 'remote', digest: 'remote' });
    expect(prod.bundle).toEqual({ profile: 'internal', revision: 'remote', digest: 'remote' });
    expect(remote.stats()).toMatchObject({ decisions: 8, pdpUnavailable: 0 });
    await Promise.all([remote.close(), local.close()]);
  });

  it('reports the revision of the bundle the server answered from', async () => {
    const remote = await createPolicyEngineFromConfig({
      mode: 'remote',
      url: bundled.url,
      profile: 'hosted-saas',
    });
    expect(remote.bundle).toEqual({ profile: 'hosted-saas', revision: 'srv-rev-1', digest: 'remote' });
    const d = await remote.decide('start_workflow', startInput());
    expect(d.allow).toBe(true);
    expect(d.bundle).toEqual({ profile: 'hosted-saas', revision: 'srv-rev-1', digest: 'remote' });
    expect(await remote.reload()).toMatchObject({ ok: true, bundle: { revision: 'srv-rev-1' } });
    await remote.close();
  });

  it('denies with pdp_unavailable on evaluation errors, malformed and undefined results', async () => {
    const remote = await createRemotePolicyEngine({ url: plain.url, profile: 'internal', timeoutMs: 5000 });
    const boom = await remote.decide('start_workflow', withSubject({ boom: true }));
    expect(boom.allow).toBe(false);
    expect(boom.reasons).toEqual(['pdp_unavailable: opa server answered http 500']);
    const malformed = await remote.decide('start_workflow', withSubject({ malformed: true }));
    expect(malformed.reasons[0]).toMatch(/^pdp_unavailable: malformed decision: bad /);
    const undef = await remote.decide('start_workflow', withSubject({ undefined_decision: true }));
    expect(undef.reasons).toEqual(['pdp_unavailable: undefined decision']);
    const big = await remote.decide('start_workflow', withSubject({ blob: 'x'.repeat(300 * 1024) }));
    expect(big.reasons[0]).toMatch(/^pdp_unavailable: input too large/);
    expect((await remote.decide('start_workflow', startInput())).allow).toBe(true);
    expect(remote.stats()).toMatchObject({ decisions: 5, allows: 1, denies: 4, pdpUnavailable: 4 });
    await remote.close();
  });
});

describe('createRemotePolicyEngine when the PDP is unavailable', () => {
  it('denies on a timeout', async () => {
    const sick = await fakeOpa('hang');
    const remote = await createRemotePolicyEngine({ url: sick.url, profile: 'internal', timeoutMs: 100 });
    expect(remote.bundle.revision).toBe('remote');
    const d = await remote.decide('start_workflow', startInput());
    expect(d.allow).toBe(false);
    expect(d.reasons).toEqual(['pdp_unavailable: timeout after 100 ms']);
    expect(d.latencyMs).toBeGreaterThanOrEqual(95);
    expect(d.latencyMs).toBeLessThan(5000);
    expect(remote.stats()).toMatchObject({ decisions: 1, pdpUnavailable: 1 });
    await remote.close();
    await sick.close();
  });

  it('denies on a 5xx', async () => {
    const sick = await fakeOpa(503);
    const remote = await createRemotePolicyEngine({ url: sick.url, profile: 'internal', timeoutMs: 5000 });
    expect((await remote.decide('start_workflow', startInput())).reasons).toEqual([
      'pdp_unavailable: opa server answered http 503',
    ]);
    await remote.close();
    await sick.close();
  });

  it('denies when the connection is refused', async () => {
    const port = await freePort();
    const remote = await createRemotePolicyEngine({
      url: `http://127.0.0.1:${port}`,
      profile: 'internal',
      timeoutMs: 5000,
    });
    const d = await remote.decide('start_workflow', startInput());
    expect(d.allow).toBe(false);
    expect(d.reasons).toEqual(['pdp_unavailable: connection error (ECONNREFUSED)']);
    expect(remote.stats().pdpUnavailable).toBe(1);
    await remote.close();
  });
});
