import { join } from 'node:path';
import { REPO_ROOT } from '@maestro/testing';
import { describe, expect, it } from 'vitest';
import { loadPolicyPacks, signingKey, verifyPack } from './packs.ts';

const meta = join(REPO_ROOT, 'policy-bundles/build/internal.json');

describe('policy packs', () => {
  it('lists the annotated packages of the compiled bundle with a verifiable signature', async () => {
    const packs = await loadPolicyPacks(meta, signingKey(undefined));
    expect(packs.length).toBeGreaterThan(0);
    const authz = packs.find((p) => p.id === 'maestro.authz');
    expect(authz).toMatchObject({ profile: 'internal', title: 'Role-based access by action' });
    expect(authz?.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(authz && verifyPack(authz)).toBe(true);
  });

  it('detects a digest that does not match its signature', async () => {
    const [pack] = await loadPolicyPacks(meta, signingKey(undefined));
    expect(pack && verifyPack({ ...pack, digest: '0'.repeat(64) })).toBe(false);
  });

  it('refuses a signing key that is not Ed25519', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    expect(() => signingKey(rsa.toString())).toThrow(/Ed25519/);
  });
});
