import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@maestro/testing';
import { describe, expect, it } from 'vitest';
import { loadWasmPolicy } from './wasm-engine.ts';

// The compiled bundle from policy-bundles/build.sh (run by npm test before vitest).
const bundlePath = join(REPO_ROOT, 'policy-bundles/build/internal.tar.gz');
const meta = JSON.parse(readFileSync(join(REPO_ROOT, 'policy-bundles/build/internal.json'), 'utf8')) as {
  revision: string;
  digest: string;
};

describe('opa-wasm engine on the compiled internal bundle', () => {
  it('evaluates the Rego decision: allow for a permitted role, deny with a reason otherwise', async () => {
    const policy = await loadWasmPolicy(bundlePath, 'internal');
    expect(policy.evaluate({ action: 'start_workflow', actor: { roles: ['operator'] } })).toEqual({
      allow: true,
      reasons: [],
    });
    const denied = policy.evaluate({ action: 'start_workflow', actor: { roles: ['viewer'] } });
    expect(denied.allow).toBe(false);
    expect(denied.reasons[0]).toMatch(/may not start_workflow/);
  });

  it('reports the bundle revision and the digest written by the build', async () => {
    const policy = await loadWasmPolicy(bundlePath, 'internal');
    expect(policy.bundle).toEqual({ profile: 'internal', revision: meta.revision, digest: meta.digest });
  });

  it('denies by default for inputs the policy does not recognise', async () => {
    const policy = await loadWasmPolicy(bundlePath, 'internal');
    expect(policy.evaluate({}).allow).toBe(false);
    expect(policy.evaluate({ action: 'read', actor: { roles: 'admin' } }).allow).toBe(false);
  });
});
