import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.ts';

// The API with Postgres and Redis pointed at closed loopback ports: requests get coded errors
// and health says which dependency is down; nothing hangs or crashes.
let api: ApiHarness;
beforeAll(async () => {
  api = await startApi({
    DATABASE_URL: 'postgresql://maestro@127.0.0.1:2/maestro',
    REDIS_URL: 'redis://127.0.0.1:3',
  });
});
afterAll(() => api?.close());

describe('API with dependencies down', () => {
  it('reports degraded health naming the services that are down', async () => {
    const res = await fetch(`${api.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      status: 'degraded',
      services: { neo4j: 'ok', postgres: 'down', redis: 'down' },
    });
  });

  it('answers a request with SERVICE_UNAVAILABLE naming the tenant store, without internals', async () => {
    const token = await api.token('alice', 'tnt_00000000-0000-4000-8000-000000000000');
    const { status, body } = await api.gql('{ whoami { subject } }', {
      token,
      environment: 'dev',
      region: 'EU',
    });
    expect(status).toBe(503);
    expect(body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(body.errors?.[0]?.message).toBe('tenant store (postgres) is unavailable');
  });
});
