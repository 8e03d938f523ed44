import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTenant, type MemberRoleName, setMember } from '@maestro/db';
import { jobs } from '@maestro/queue';
import { loadServiceEnv, REPO_ROOT, uniqueName } from '@maestro/testing';
import { closeApiResources, createApiResources } from '../src/api-instance.ts';
import { signDevToken } from '../src/auth.ts';
import { loadApiEnv } from '../src/env.ts';
import type { ApiResources } from '../src/resources.ts';
import { type ApiServer, createApiServer } from '../src/server.ts';

export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long';

/** A real API server on an ephemeral loopback port, wired to the real services. */
export interface ApiHarness {
  url: string;
  resources: ApiResources;
  server: ApiServer;
  /** A fresh tenant with one member per given role; returns the tenant id. */
  makeTenant(members: Record<string, MemberRoleName>): Promise<string>;
  token(subject: string, tenantId?: string, roles?: string[]): Promise<string>;
  gql(
    query: string,
    options: { token?: string; environment?: string; region?: string; variables?: unknown },
  ): Promise<{
    status: number;
    body: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  }>;
  close(): Promise<void>;
}

/** `overrides` replaces service URLs, e.g. to point one dependency at a closed port. */
export async function startApi(overrides: Record<string, string> = {}): Promise<ApiHarness> {
  const env = loadApiEnv({
    ...loadServiceEnv(),
    MAESTRO_JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'silent',
    // The 50 ms production deadline is a guard for a healthy host; on a loaded 2-core CI box a
    // GC pause would turn into random denials. Deadline behaviour is tested in packages/policy.
    MAESTRO_POLICY_DEADLINE_MS: '2000',
    // Jobs this API enqueues (run wake-ups) go to test-private queues, emptied on close, so they
    // never reach a developer's running worker.
    MAESTRO_QUEUE_PREFIX: uniqueName('apitest'),
    ...overrides,
  });
  const resources = await createApiResources(env, REPO_ROOT);
  const server = await createApiServer(resources, {
    corsOrigins: [],
    devAuthSecret: TEST_JWT_SECRET,
    introspection: true,
  });
  const http: Server = await server.listen('127.0.0.1', 0);
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    resources,
    server,
    async makeTenant(members) {
      const tenant = await createTenant(resources.db, { name: uniqueName('tenant') });
      for (const [subject, role] of Object.entries(members)) {
        await setMember(resources.db, { tenantId: tenant.id, subject, role });
      }
      return tenant.id;
    },
    token: (subject, tenantId, roles) =>
      signDevToken(TEST_JWT_SECRET, {
        subject,
        ...(tenantId ? { tenantId } : {}),
        ...(roles ? { roles } : {}),
      }),
    async gql(query, options) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (options.environment) headers['x-maestro-environment'] = options.environment;
      if (options.region) headers['x-maestro-region'] = options.region;
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query, variables: options.variables }),
      });
      return { status: res.status, body: (await res.json()) as never };
    },
    async close() {
      await server.stop();
      const redisUp = await resources.queue.ping().then(
        () => true,
        () => false,
      );
      for (const name of redisUp ? Object.values(jobs).map((j) => j.queue) : []) {
        await resources.queue
          .queue(name)
          .obliterate({ force: true })
          .catch(() => {});
      }
      await closeApiResources(resources);
    },
  };
}
