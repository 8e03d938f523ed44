import { loadServiceEnv } from '@maestro/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { applyConstraints, CONSTRAINTS, RETIRED } from './constraints.ts';
import { createGraph } from './graph.ts';

const env = loadServiceEnv();
const graph = createGraph({ uri: env.NEO4J_URI, user: env.NEO4J_USER, password: env.NEO4J_PASSWORD });
afterAll(() => graph.close());

describe('neo4j adapter', () => {
  it('applies the constraint migration twice without error and every constraint exists', async () => {
    const first = await applyConstraints(graph);
    const second = await applyConstraints(graph);
    expect(second.applied).toBe(CONSTRAINTS.length);
    for (const statement of CONSTRAINTS) {
      const name = /(?:CONSTRAINT|INDEX) (\w+) IF NOT EXISTS/.exec(statement)?.[1];
      expect(name).toBeDefined();
      expect(second.existing).toContain(name);
    }
    expect(second.existing.sort()).toEqual(first.existing.sort());
    for (const statement of RETIRED) {
      const name = /^DROP (?:CONSTRAINT|INDEX) (\w+) IF EXISTS$/.exec(statement)?.[1];
      expect(name, statement).toBeDefined();
      expect(second.existing).not.toContain(name);
    }
  });

  it('enforces per-tenant uniqueness through the constraints', async () => {
    const tenantId = `t-${crypto.randomUUID()}`;
    const create = () =>
      graph.write((tx) =>
        tx.run('CREATE (:User {tenantId: $tenantId, subject: $subject})', { tenantId, subject: 'alice' }),
      );
    await create();
    await expect(create()).rejects.toMatchObject({
      code: 'Neo.ClientError.Schema.ConstraintValidationFailed',
    });
    // the same subject in another tenant is a different user
    await graph.write((tx) =>
      tx.run('CREATE (:User {tenantId: $tenantId, subject: $subject})', {
        tenantId: `${tenantId}-b`,
        subject: 'alice',
      }),
    );
  });

  it('reports wrong credentials as a coded SERVICE_UNAVAILABLE error, not a crash', async () => {
    const bad = createGraph({ uri: env.NEO4J_URI, user: env.NEO4J_USER, password: 'not-the-password' });
    try {
      await expect(bad.ping()).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    } finally {
      await bad.close();
    }
  });

  it('reports an unreachable server as SERVICE_UNAVAILABLE naming neo4j', async () => {
    const down = createGraph({ uri: 'bolt://127.0.0.1:9', user: 'neo4j', password: 'x' });
    try {
      await expect(down.ping()).rejects.toThrow(/neo4j/);
    } finally {
      await down.close();
    }
  });
});
