import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { digestOf } from '@maestro/domain';
import * as opaWasm from '@open-policy-agent/opa-wasm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AUTHZ_REGO,
  buildBundle,
  FROZEN_REGO,
  MAIN_REGO,
  MALFORMED_REGO,
  tarGz,
  VERBATIM_REASON,
} from '../test/opa.ts';
import { createPolicyEngineFromConfig } from './config.ts';
import type { Decision, PolicyInput } from './decision.ts';
import { createPolicyEngine } from './engine.ts';
import { PolicyBundleError, type ReloadResult } from './engine-types.ts';

let dir: string;
let bundleA: string;
let bundleB: string;
let digestA: string;
let digestB: string;
const bad: Record<string, { path: string; cause: RegExp }> = {};

// The CommonJS package's class is only on its default export.
const { LoadedPolicy } = (opaWasm as unknown as { default: { LoadedPolicy: typeof opaWasm.LoadedPolicy } })
  .default;

/**
 * Outside the deadline tests, a deadline no scheduling hiccup reaches: CI machines are shared,
 * and a stalled evaluation would (correctly) fail closed and break an unrelated assertion.
 */
const ROOMY = { deadlineMs: 5000 };

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

/** A start_workflow input as the API's gate builds it. */
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

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'maestro-policy-'));
  const both = (main: string) => ({ 'maestro/main.rego': main, 'maestro/authz.rego': AUTHZ_REGO });
  let authzOnly: string;
  let malformed: string;
  [bundleA, bundleB, authzOnly, malformed] = await Promise.all([
    buildBundle(dir, 'a', { files: both(MAIN_REGO), revision: 'rev-a' }),
    buildBundle(dir, 'b', { files: both(FROZEN_REGO), revision: 'rev-b' }),
    buildBundle(dir, 'authz-only', {
      files: { 'authz.rego': AUTHZ_REGO },
      revision: 'x',
      entrypoints: ['maestro/authz/decision'],
    }),
    buildBundle(dir, 'malformed', { files: both(MALFORMED_REGO), revision: 'm' }),
  ]);
  digestA = await sha256(bundleA);
  digestB = await sha256(bundleB);
  const bytesA = await readFile(bundleA);
  const write = async (name: string, bytes: Uint8Array) => {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  };
  bad.garbage = {
    path: await write('garbage.tar.gz', Buffer.from('definitely not a bundle\n'.repeat(40))),
    cause: /incorrect header check/,
  };
  bad.truncated = {
    path: await write('truncated.tar.gz', bytesA.subarray(0, Math.floor(bytesA.length / 2))),
    cause: /unexpected end of file/,
  };
  bad.noWasm = {
    path: await write('no-wasm.tar.gz', await tarGz({ 'data.json': '{}', '.manifest': '{"revision":"n"}' })),
    cause: /has no policy\.wasm/,
  };
  bad.badWasm = {
    path: await write('bad-wasm.tar.gz', await tarGz({ 'policy.wasm': 'garbage', 'data.json': '{}' })),
    cause: /policy\.wasm does not instantiate/,
  };
  bad.badData = {
    path: await write(
      'bad-data.tar.gz',
      await tarGz({ 'policy.wasm': new Uint8Array(8), 'data.json': '{oops' }),
    ),
    cause: /data\.json is not JSON/,
  };
  bad.noMainEntrypoint = { path: authzOnly, cause: /lacks entrypoint maestro\/main\/decision/ };
  bad.malformedDecision = { path: malformed, cause: /smoke evaluation failed: malformed decision/ };
  bad.missing = { path: join(dir, 'missing.tar.gz'), cause: /unreadable: .*ENOENT/ };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createPolicyEngine: decisions', () => {
  it('denies by default and reports bundle, input digest, id and latency', async () => {
    const engine = await createPolicyEngine({ bundlePath: bundleA, profile: 'internal', ...ROOMY });
    const empty = await engine.decide('start_workflow', {});
    expect(empty).toMatchObject({
      allow: false,
      requiresApproval: false,
      approval: { count: 0, roles: [] },
      reasons: ['no_actor: the input names no actor'],
      warnings: [],
      bundle: { profile: 'internal', revision: 'rev-a', digest: digestA },
      inputDigest: digestOf({ action: 'start_workflow' }),
    });
    expect(empty.id).toMatch(/^pd_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(empty.latencyMs).toBeGreaterThan(0);

    const input = startInput({ roles: ['viewer'] });
    const denied = await engine.decide('start_workflow', input);
    expect(denied.allow).toBe(false);
    expect(denied.reasons).toEqual(['role_denied: role(s) viewer may not start_workflow']);
    expect(denied.inputDigest).toBe(digestOf({ ...input, action: 'start_workflow' }));
    // The action argument wins over an action in the input.
    const spoofed = await engine.decide('manage_members', { ...startInput(), action: 'read' });
    expect(spoofed.allow).toBe(false);
    expect(engine.bundle).toEqual({ profile: 'internal', revision: 'rev-a', digest: digestA });
    await engine.close();
  });

  it('allows with an approval requirement and warnings', async () => {
    const engine = await createPolicyEngine({ bundlePath: bundleA, profile: 'internal', ...ROOMY });
    expect(await engine.decide('start_workflow', startInput())).toMatchObject({
      allow: true,
      requiresApproval: false,
      approval: { count: 0, roles: [] },
      reasons: [],
      warnings: [],
    });
    expect(await engine.decide('start_workflow', startInput({ environment: 'prod' }))).toMatchObject({
      allow: true,
      requiresApproval: true,
      approval: { count: 2, roles: ['approver', 'tenant_admin'] },
      reasons: [],
      warnings: ['prod_change: production runs need 2 approvals'],
    });
    await engine.close();
  });

  it('passes reasons through verbatim', async () => {
    const engine = await createPolicyEngine({ bundlePath: bundleA, profile: 'internal', ...ROOMY });
    const d = await engine.decide('start_workflow', startInput({ costUSD: 250.5, region: 'us-east-1' }));
    expect(d.allow).toBe(false);
    expect(d.reasons).toEqual([
      'budget_exceeded: estimate $250.50 exceeds the remaining $100.00',
      VERBATIM_REASON,
    ]);
    await engine.close();
  });

  it('instantiates the wasm and sets its data once per bundle load, never per call', async () => {
    const wasmApi = (
      globalThis as unknown as { WebAssembly: { instantiate: (...args: unknown[]) => unknown } }
    ).WebAssembly;
    const instantiate = vi.spyOn(wasmApi, 'instantiate');
    const setData = vi.spyOn(LoadedPolicy.prototype, 'setData');
    try {
      const engine = await createPolicyEngine({ bundlePath: bundleA, profile: 'internal', ...ROOMY });
      for (let i = 0; i < 200; i++) await engine.decide('start_workflow', startInput());
      engine.can('read', { roles: ['viewer'] });
      expect(instantiate).toHaveBeenCalledTimes(1);
      expect(setData).toHaveBeenCalledTimes(1);
      expect((await engine.reload(bundleB)).ok).toBe(true);
      for (let i = 0; i < 200; i++) await engine.decide('start_workflow', startInput());
      expect(instantiate).toHaveBeenCalledTimes(2);
      expect(setData).toHaveBeenCalledTimes(2);
      await engine.close();
    } finally {
      instantiate.mockRestore();
      setData.mockRestore();
    }
  });

  it('is chosen by config', async () => {
    const engine = await createPolicyEngineFromConfig({
      mode: 'wasm',
      bundlePath: bundleA,
      profile: 'hosted-saas',
      ...ROOMY,
    });
    expect((await engine.decide('start_workflow', startInput())).bundle.profile).toBe('hosted-saas');
    expect(engine.can('start_workflow', { roles: ['operator'] })).toBe(true);
    await engine.close();
  });
});

describe('createPolicyEngine: fails closed', () => {
  it('denies with pdp_unavailable when the policy errors at evaluation, and keeps serving', async () => {
    const causes: string[] = [];
    const engine = await createPolicyEngine({
      bundlePath: bundleA,
      profile: 'internal',
      ...ROOMY,
      onUnavailable: (cause) => causes.push(cause),
    });
    const d = await engine.decide('start_workflow', withSubject({ boom: true }));
    expect(d).toMatchObject({ allow: false, requiresApproval: false, warnings: [] });
    expect(d.reasons).toHaveLength(1);
    expect(d.reasons[0]).toMatch(/^pdp_unavailable: evaluation error: .*var assignment conflict$/);
    expect(causes).toEqual([d.reasons[0]?.slice('pdp_unavailable: '.length)]);
    // The instance is still good after the trap.
    expect((await engine.decide('start_workflow', startInput())).allow).toBe(true);
    expect(engine.stats()).toMatchObject({ decisions: 2, allows: 1, denies: 1, pdpUnavailable: 1 });
    await engine.close();
  });

  it('denies a result that is not the decision shape, or no result at all', async () => {
    const engine = await createPolicyEngine({ bundlePath: bundleA, profile: 'internal', ...ROOMY });
    const malformed = await engine.decide('start_workflow', withSubject({ malformed: true }));
    expect(malformed.allow).toBe(false);
    expect(malformed.reasons).toEqual([
      'pdp_unavailable: malformed decision: bad requires_approval, approval, reasons, warnings',
    ]);
    const undef = await engine.decide('start_workflow', withSubject({ undefined_decision: true }));
    expect(undef.reasons).toEqual(['pdp_unavailable: undefined decision']);
    expect(engine.stats().pdpUnavailable).toBe(2);
    await engine.close();
  });

  it('denies when the evaluation overruns its deadline', async () => {
    const engine = await createPolicyEngine({ bundlePath: bundleA, profile: 'internal', deadlineMs: 20 });
    const slow = await engine.decide('start_workflow', withSubject({ spin: 40_000 }));
    expect(slow.allow).toBe(false);
    expect(slow.reasons[0]).toMatch(/^pdp_unavailable: deadline exceeded \(\d+\.\d ms > 20 ms\)$/);
    expect(slow.latencyMs).toBeGreaterThan(20);
    expect((await engine.decide('start_workflow', startInput())).allow).toBe(true);
    await engine.close();

    const never = await createPolicyEngine({ bundlePath: bundleA, profile: 'internal', deadlineMs: 0 });
    const d = await never.decide('start_workflow', startInput());
    expect(d.allow).toBe(false);
    expect(d.reasons[0]).toMatch(/^pdp_unavailable: deadline exceeded/);
    expect(never.stats()).toMatchObject({ decisions: 1, denies: 1, pdpUnavailable: 1 });
    expect(never.can('start_workflow', { roles: ['operator'] })).toBe(false);
    await never.close();
  });

  it('denies oversized and non-JSON inputs without evaluating them', async () => {
    const engine = await createPolicyEngine({ bundlePath: bundleA, profile: 'internal', ...ROOMY });
    const input = withSubject({ blob: 'x'.repeat(300 * 1024) });
    const big = await engine.decide('start_workflow', input);
    expect(big.allow).toBe(false);
    expect(big.reasons[0]).toMatch(/^pdp_unavailable: input too large \(\d+ bytes > 262144\)$/);
    expect(big.inputDigest).toBe(digestOf({ ...input, action: 'start_workflow' }));

    const small = await createPolicyEngine({
      bundlePath: bundleA,
      profile: 'internal',
      maxInputBytes: 100,
      ...ROOMY,
    });
    expect((await small.decide('start_workflow', startInput())).reasons[0]).toMatch(/input too large/);

    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const weird = await engine.decide('start_workflow', { subject: { n: 10n } });
    expect(weird.reasons[0]).toMatch(/^pdp_unavailable: input is not JSON/);
    expect(weird.inputDigest).toBe('');
    expect((await engine.decide('start_workflow', { subject: cyclic })).reasons[0]).toMatch(
      /input is not JSON/,
    );
    expect(engine.stats().pdpUnavailable).toBe(3);
    await engine.close();
    await small.close();
  });

  it('answers with pdp_unavailable after close', async () => {
    const engine = await createPolicyEngine({ bundlePath: bundleA, profile: 'internal', ...ROOMY });
    await engine.close();
    expect((await engine.decide('start_workflow', startInput())).reasons).toEqual([
      'pdp_unavailable: policy engine closed',
    ]);
    expect(engine.can('start_workflow', { roles: ['operator'] })).toBe(false);
    expect((await engine.reload(bundleB)).ok).toBe(false);
  });
});

describe('createPolicyEngine: bundles', () => {
  it('refuses to start on a corrupted or incomplete bundle, with a clear error', async () => {
    for (const [name, { path, cause }] of Object.entries(bad)) {
      const attempt = createPolicyEngine({ bundlePath: path, profile: 'internal' });
      await expect(attempt, name).rejects.toBeInstanceOf(PolicyBundleError);
      await expect(attempt, name).rejects.toThrow(`cannot load policy bundle ${path}: `);
      await expect(attempt, name).rejects.toThrow(cause);
    }
  });

  it('keeps the old bundle serving when a reload fails, and returns the error', async () => {
    const results: ReloadResult[] = [];
    const engine = await createPolicyEngine({
      bundlePath: bundleA,
      profile: 'internal',
      ...ROOMY,
      onReload: (r) => results.push(r),
    });
    for (const [name, { path, cause }] of Object.entries(bad)) {
      const result = await engine.reload(path);
      expect(result.ok, name).toBe(false);
      if (result.ok) continue;
      expect(result.error, name).toBeInstanceOf(PolicyBundleError);
      expect(result.error.message, name).toMatch(cause);
      expect(result.bundle.digest).toBe(digestA);
      const d = await engine.decide('start_workflow', startInput());
      expect(d.allow).toBe(true);
      expect(d.bundle.digest).toBe(digestA);
    }
    const count = Object.keys(bad).length;
    expect(results).toHaveLength(count);
    expect(engine.stats()).toMatchObject({ reloads: 0, reloadFailures: count });

    const ok = await engine.reload(bundleB);
    expect(ok).toMatchObject({
      ok: true,
      bundle: { revision: 'rev-b', digest: digestB },
      previous: { revision: 'rev-a', digest: digestA },
    });
    expect((await engine.decide('start_workflow', startInput())).reasons).toEqual([
      'bundle_frozen: all actions are frozen',
    ]);
    expect(engine.stats()).toMatchObject({ reloads: 1, reloadFailures: count });
    await engine.close();
  });

  it('never shows a decision a half-loaded bundle under concurrent reloads', async () => {
    const engine = await createPolicyEngine({ bundlePath: bundleA, profile: 'internal', ...ROOMY });
    const decisions: Decision[] = [];
    let reloading = true;
    const reloader = (async () => {
      for (let i = 0; i < 30; i++) {
        const result = await engine.reload(i % 2 === 0 ? bundleB : bundleA);
        expect(result.ok).toBe(true);
      }
      reloading = false;
    })();
    const decider = async () => {
      while (reloading) {
        decisions.push(await engine.decide('start_workflow', startInput()));
        await tick();
      }
    };
    await Promise.all([reloader, decider(), decider(), decider(), decider()]);

    const seen = new Set<string>();
    for (const d of decisions) {
      seen.add(d.bundle.digest);
      if (d.bundle.digest === digestA) {
        expect(d).toMatchObject({ allow: true, reasons: [], bundle: { revision: 'rev-a' } });
      } else {
        expect(d.bundle.digest).toBe(digestB);
        expect(d).toMatchObject({
          allow: false,
          reasons: ['bundle_frozen: all actions are frozen'],
          bundle: { revision: 'rev-b' },
        });
      }
    }
    expect(seen).toEqual(new Set([digestA, digestB]));
    expect(decisions.length).toBeGreaterThan(60);
    expect(engine.stats()).toMatchObject({ reloads: 30, reloadFailures: 0, pdpUnavailable: 0 });
    await engine.close();
  });

  it('watches the bundle file and hot-reloads it when a build replaces it', async () => {
    const path = join(dir, 'watched.tar.gz');
    await copyFile(bundleA, path);
    const results: ReloadResult[] = [];
    const engine = await createPolicyEngine({
      bundlePath: path,
      profile: 'internal',
      ...ROOMY,
      watchDebounceMs: 30,
      onReload: (r) => results.push(r),
    });
    const stop = engine.watch();
    const replace = async (bytes: Uint8Array) => {
      await writeFile(`${path}.tmp`, bytes);
      await rename(`${path}.tmp`, path);
    };
    await replace(await readFile(bundleB));
    await vi.waitFor(() => expect(engine.bundle.revision).toBe('rev-b'), { timeout: 5000, interval: 20 });
    expect((await engine.decide('start_workflow', startInput())).allow).toBe(false);

    // A broken build leaves rev-b serving.
    await replace(Buffer.from('half-written'));
    await vi.waitFor(() => expect(results.some((r) => !r.ok)).toBe(true), { timeout: 5000, interval: 20 });
    expect(engine.bundle.revision).toBe('rev-b');

    stop();
    await replace(await readFile(bundleA));
    await new Promise((r) => setTimeout(r, 200));
    expect(engine.bundle.revision).toBe('rev-b');
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(engine.stats().reloads).toBe(1);
    await engine.close();
  });
});

describe('createPolicyEngine: scope-auth', () => {
  it('answers can() synchronously from maestro/authz/decision, failing closed', async () => {
    const engine = await createPolicyEngine({ bundlePath: bundleA, profile: 'internal', ...ROOMY });
    expect(engine.can('start_workflow', { subject: 'a', roles: ['operator'] })).toBe(true);
    expect(engine.can('manage_members', { subject: 'a', roles: ['operator'] }, { tenant: { id: 't' } })).toBe(
      false,
    );
    expect(engine.can('read', undefined)).toBe(false);
    expect(engine.can('read', { roles: ['viewer'] }, { boom: true })).toBe(false);
    expect(engine.evaluate({ action: 'cancel_run', actor: { roles: ['viewer'] } })).toEqual({
      allow: false,
      reasons: ['role(s) viewer may not cancel_run'],
    });
    expect(() => engine.evaluate({ boom: true })).toThrow(/var assignment conflict/);
    expect(engine.stats()).toMatchObject({ authzErrors: 2, decisions: 0 });
    await engine.close();
  });
});

describe('createPolicyEngine: stats', () => {
  it('counts decisions and summarises latency in a histogram', async () => {
    const engine = await createPolicyEngine({ bundlePath: bundleA, profile: 'internal', ...ROOMY });
    for (let i = 0; i < 50; i++) await engine.decide('start_workflow', startInput());
    for (let i = 0; i < 20; i++) await engine.decide('start_workflow', startInput({ roles: ['viewer'] }));
    await engine.decide('start_workflow', withSubject({ boom: true }));
    const stats = engine.stats();
    expect(stats).toMatchObject({ decisions: 71, allows: 50, denies: 21, pdpUnavailable: 1, reloads: 0 });
    const { latency } = stats;
    expect(latency.count).toBe(71);
    expect(latency.buckets.reduce((n, b) => n + b.count, 0)).toBe(71);
    expect(latency.buckets.at(-1)?.leMs).toBe(Number.POSITIVE_INFINITY);
    expect(latency.p50Ms).toBeGreaterThan(0);
    expect(latency.p50Ms).toBeLessThanOrEqual(latency.p95Ms);
    expect(latency.p95Ms).toBeLessThanOrEqual(latency.p99Ms);
    expect(latency.p99Ms).toBeLessThanOrEqual(latency.maxMs);
    expect(latency.meanMs).toBeGreaterThan(0);
    await engine.close();
  });
});
