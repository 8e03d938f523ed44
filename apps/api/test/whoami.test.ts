import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.ts';

const WHOAMI = `{ whoami { subject roles tenant { id name } environment region quota { maxConcurrent inUse } budget { dailyMaxUSD spentUSD remainingUSD warning } } }`;
let api: ApiHarness;
let tenantId: string;

beforeAll(async () => {
  api = await startApi();
  tenantId = await api.makeTenant({ alice: 'operator', vera: 'viewer' });
});
afterAll(() => api?.close());

describe('whoami over HTTP', () => {
  it('answers for a dev JWT with the contract headers, with roles from membership', async () => {
    const token = await api.token('alice', tenantId, ['admin']); // token roles are not trusted
    const { status, body } = await api.gql(WHOAMI, { token, environment: 'dev', region: 'EU' });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data).toMatchObject({
      whoami: {
        subject: 'alice',
        roles: ['operator'],
        tenant: { id: tenantId },
        environment: 'dev',
        region: 'EU',
        quota: { maxConcurrent: 25, inUse: 0 },
        budget: { dailyMaxUSD: 100, spentUSD: 0, remainingUSD: 100, warning: false },
      },
    });
  });

  it('401s without a token', async () => {
    const { status, body } = await api.gql(WHOAMI, { environment: 'dev', region: 'EU' });
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('401s for a token signed with another secret, an unsigned token and an expired one', async () => {
    const forged = await new SignJWT({ tenant_id: tenantId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('an-attacker-secret-of-more-than-32-chars'));
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const claims = Buffer.from(JSON.stringify({ sub: 'alice', tenant_id: tenantId })).toString('base64url');
    const unsigned = `${header}.${claims}.`;
    const expired = await new SignJWT({ tenant_id: tenantId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode('test-secret-that-is-at-least-32-characters-long'));
    for (const token of [forged, unsigned, expired, 'garbage']) {
      const { status, body } = await api.gql(WHOAMI, { token, environment: 'dev', region: 'EU' });
      expect(status, token).toBe(401);
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('400s without the environment or region header', async () => {
    const token = await api.token('alice', tenantId);
    for (const headers of [
      { region: 'EU' },
      { environment: 'dev' },
      { environment: "prod' OR '1'='1", region: 'EU' },
      { environment: 'dev', region: '../../EU' },
    ]) {
      const { status, body } = await api.gql(WHOAMI, { token, ...headers });
      expect(status).toBe(400);
      expect(body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    }
  });

  it('403s for a subject that is not a member of the tenant in its token', async () => {
    const token = await api.token('mallory', tenantId);
    const { status, body } = await api.gql(WHOAMI, { token, environment: 'dev', region: 'EU' });
    expect(status).toBe(403);
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('reports healthy dependencies and the policy bundle on /healthz', async () => {
    const res = await fetch(`${api.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      services: { neo4j: 'ok', postgres: 'ok', redis: 'ok' },
      policy: { profile: 'internal' },
    });
  });

  it('issues dev tokens that the API then accepts', async () => {
    const res = await fetch(`${api.url}/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'vera', tenantId }),
    });
    const { token } = (await res.json()) as { token: string };
    const { body } = await api.gql('{ whoami { subject roles } }', {
      token,
      environment: 'prod',
      region: 'US',
    });
    expect(body.data).toEqual({ whoami: { subject: 'vera', roles: ['viewer'] } });
  });
});
