import { randomUUID } from 'node:crypto';
import { getTenant, listMembers } from '@maestro/db';
import { uniqueName } from '@maestro/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.ts';

/*
 * Tenancy over HTTP against the real services.
 * Decision: a caller without `create_tenant` (e.g. a tenant admin) gets a POLICY_DENIED user
 * error in the payload, like every other policy-gated mutation; FORBIDDEN (a GraphQL error) is
 * kept for a platform context asking for tenant data, which has no tenant to act in.
 */

const CREATE = `mutation ($input: CreateTenantInput!) {
  createTenant(input: $input) { tenant { id name } userErrors { code message field } }
}`;
const SET_MEMBER = `mutation ($input: SetMemberInput!) {
  setMember(input: $input) { member { subject role } userErrors { code message field } }
}`;
const MEMBERS = '{ members { subject role } }';
const WHOAMI =
  '{ whoami { subject roles tenant { id name } quota { maxConcurrent } budget { dailyMaxUSD } } }';
const REFUSAL = 'platform operators act on tenants through createTenant; use a tenant token for tenant data';

interface UserError {
  code: string;
  message: string;
  field: string[] | null;
}
interface CreatePayload {
  tenant: { id: string; name: string } | null;
  userErrors: UserError[];
}
interface SetMemberPayload {
  member: { subject: string; role: string } | null;
  userErrors: UserError[];
}

let api: ApiHarness;
let platformToken: string;
const scope = { environment: 'dev', region: 'EU' };
const createdNames: string[] = [];

beforeAll(async () => {
  api = await startApi();
  platformToken = await api.token('ops-1', undefined, ['platform_admin']);
});

afterAll(async () => {
  if (!api) return;
  await api.resources.db.tenant.deleteMany({ where: { name: { in: createdNames } } });
  await api.close();
});

function tenantName(label: string): string {
  const name = uniqueName(label);
  createdNames.push(name);
  return name;
}

async function createTenant(token: string, input: Record<string, unknown>): Promise<CreatePayload> {
  const { status, body } = await api.gql(CREATE, { token, ...scope, variables: { input } });
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  return (body.data as { createTenant: CreatePayload }).createTenant;
}

async function setMember(token: string, subject: string, role: string | null): Promise<SetMemberPayload> {
  const { status, body } = await api.gql(SET_MEMBER, {
    token,
    ...scope,
    variables: { input: { subject, role } },
  });
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  return (body.data as { setMember: SetMemberPayload }).setMember;
}

async function members(token: string): Promise<Array<[string, string]>> {
  const { body } = await api.gql(MEMBERS, { token, ...scope });
  expect(body.errors).toBeUndefined();
  return (body.data as { members: Array<{ subject: string; role: string }> }).members.map((m) => [
    m.subject,
    m.role,
  ]);
}

const tenantNamed = (name: string) => api.resources.db.tenant.findUnique({ where: { name } });

describe('createTenant', () => {
  it('lets a platform operator create a tenant whose admins can then sign in to it', async () => {
    const name = tenantName('acme');
    const payload = await createTenant(platformToken, {
      name: `  ${name}  `,
      dailyBudgetUSD: 42.5,
      alertThreshold: 0.9,
      maxConcurrentRuns: 7,
      admins: ['ann', 'bob'],
    });
    expect(payload.userErrors).toEqual([]);
    expect(payload.tenant).toMatchObject({ name });
    const tenantId = payload.tenant?.id ?? '';
    expect(tenantId).toMatch(/^tnt_/);
    expect(await getTenant(api.resources.db, tenantId)).toMatchObject({
      dailyBudgetUsd: '42.5000',
      alertThreshold: '0.9000',
      maxConcurrentRuns: 7,
    });
    expect((await listMembers(api.resources.db, tenantId)).map((m) => [m.subject, m.role])).toEqual([
      ['ann', 'admin'],
      ['bob', 'admin'],
    ]);

    for (const subject of ['ann', 'bob']) {
      const token = await api.token(subject, tenantId);
      const { status, body } = await api.gql(WHOAMI, { token, ...scope });
      expect(status).toBe(200);
      expect(body.data).toEqual({
        whoami: {
          subject,
          roles: ['admin'],
          tenant: { id: tenantId, name },
          quota: { maxConcurrent: 7 },
          budget: { dailyMaxUSD: 42.5 },
        },
      });
    }
  });

  it('applies the contract defaults', async () => {
    const name = tenantName('defaults');
    const { tenant, userErrors } = await createTenant(platformToken, { name, admins: ['dee'] });
    expect(userErrors).toEqual([]);
    expect(await getTenant(api.resources.db, tenant?.id ?? '')).toMatchObject({
      dailyBudgetUsd: '100.0000',
      alertThreshold: '0.8000',
      maxConcurrentRuns: 25,
    });
  });

  it('refuses a tenant admin (POLICY_DENIED) and creates nothing', async () => {
    const tenantId = await api.makeTenant({ 'admin-1': 'admin' });
    const name = tenantName('sneaky');
    const token = await api.token('admin-1', tenantId, ['admin']);
    const payload = await createTenant(token, { name, admins: ['admin-1'] });
    expect(payload.tenant).toBeNull();
    expect(payload.userErrors).toEqual([
      expect.objectContaining({ code: 'POLICY_DENIED', message: expect.stringContaining('create_tenant') }),
    ]);
    expect(await tenantNamed(name)).toBeNull();
  });

  it('reports invalid input as VALIDATION user errors with fields and creates nothing', async () => {
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ name: '   ' }, ['input', 'name']],
      [{ name: 'x'.repeat(101) }, ['input', 'name']],
      [{ dailyBudgetUSD: -1 }, ['input', 'dailyBudgetUSD']],
      [{ dailyBudgetUSD: 1e6 + 1 }, ['input', 'dailyBudgetUSD']],
      [{ alertThreshold: 1.5 }, ['input', 'alertThreshold']],
      [{ alertThreshold: 0 }, ['input', 'alertThreshold']],
      [{ maxConcurrentRuns: 0 }, ['input', 'maxConcurrentRuns']],
      [{ maxConcurrentRuns: 10_001 }, ['input', 'maxConcurrentRuns']],
      [{ admins: [] }, ['input', 'admins']],
      [{ admins: ['ok', ''] }, ['input', 'admins', '1']],
      [{ admins: ['a'.repeat(257)] }, ['input', 'admins', '0']],
    ];
    for (const [override, field] of cases) {
      const name = tenantName('invalid');
      const payload = await createTenant(platformToken, { name, admins: ['someone'], ...override });
      expect(payload.tenant, JSON.stringify(override)).toBeNull();
      expect(payload.userErrors, JSON.stringify(override)).toEqual([
        expect.objectContaining({ code: 'VALIDATION', field }),
      ]);
      expect(await tenantNamed(name)).toBeNull();
    }

    // Every problem is reported at once.
    const all = await createTenant(platformToken, {
      name: '',
      dailyBudgetUSD: -5,
      alertThreshold: 1.5,
      maxConcurrentRuns: 0,
      admins: [],
    });
    expect(all.userErrors.map((e) => [e.code, e.field?.join('.')])).toEqual([
      ['VALIDATION', 'input.name'],
      ['VALIDATION', 'input.dailyBudgetUSD'],
      ['VALIDATION', 'input.alertThreshold'],
      ['VALIDATION', 'input.maxConcurrentRuns'],
      ['VALIDATION', 'input.admins'],
    ]);
  });

  it('reports a duplicate name as CONFLICT and leaves the existing tenant alone', async () => {
    const name = tenantName('dup');
    const first = await createTenant(platformToken, { name, admins: ['first-admin'] });
    expect(first.userErrors).toEqual([]);
    const second = await createTenant(platformToken, { name, admins: ['second-admin'] });
    expect(second.tenant).toBeNull();
    expect(second.userErrors).toEqual([
      expect.objectContaining({ code: 'CONFLICT', field: ['input', 'name'] }),
    ]);
    expect((await listMembers(api.resources.db, first.tenant?.id ?? '')).map((m) => m.subject)).toEqual([
      'first-admin',
    ]);
  });
});

describe('platform operator context', () => {
  it('is refused (FORBIDDEN) for tenant data: whoami, members, setMember', async () => {
    for (const query of [WHOAMI, MEMBERS]) {
      const { status, body } = await api.gql(query, { token: platformToken, ...scope });
      expect(status).toBe(200);
      expect(body.data).toBeNull();
      expect(body.errors?.[0]?.extensions?.code, query).toBe('FORBIDDEN');
      expect(body.errors?.[0]?.message, query).toBe(REFUSAL);
    }
    const { body: membersBody } = await api.gql(MEMBERS, { token: platformToken, ...scope });
    expect(membersBody.errors?.[0]?.message).toBe(REFUSAL);

    const { body } = await api.gql(SET_MEMBER, {
      token: platformToken,
      ...scope,
      variables: { input: { subject: 'x', role: 'viewer' } },
    });
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(body.errors?.[0]?.message).toBe(REFUSAL);
  });

  it('still needs the environment and region headers', async () => {
    for (const headers of [{ region: 'EU' }, { environment: 'dev' }]) {
      const { status, body } = await api.gql(CREATE, {
        token: platformToken,
        ...headers,
        variables: { input: { name: tenantName('headerless'), admins: ['a'] } },
      });
      expect(status).toBe(400);
      expect(body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    }
  });

  it('is only for platform_admin: any other token without tenant_id is 403', async () => {
    const token = await api.token('nobody', undefined, ['admin']);
    const { status, body } = await api.gql(WHOAMI, { token, ...scope });
    expect(status).toBe(403);
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('403s a token whose tenant_id names no tenant', async () => {
    for (const tenantId of [`tnt_${randomUUID()}`, 'no-such-tenant']) {
      for (const roles of [[], ['platform_admin']]) {
        const token = await api.token('ghost', tenantId, roles);
        const { status, body } = await api.gql(WHOAMI, { token, ...scope });
        expect(status, `${tenantId} ${roles}`).toBe(403);
        expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      }
    }
  });
});

describe('setMember and members', () => {
  it('lets an admin add, change and remove members', async () => {
    const tenantId = await api.makeTenant({ boss: 'admin' });
    const boss = await api.token('boss', tenantId);

    expect(await setMember(boss, 'newbie', 'viewer')).toEqual({
      member: { subject: 'newbie', role: 'viewer' },
      userErrors: [],
    });
    expect(await members(boss)).toEqual([
      ['boss', 'admin'],
      ['newbie', 'viewer'],
    ]);
    // The new member's role comes from membership at once.
    const { body } = await api.gql('{ whoami { roles } }', {
      token: await api.token('newbie', tenantId),
      ...scope,
    });
    expect(body.data).toEqual({ whoami: { roles: ['viewer'] } });

    expect((await setMember(boss, 'newbie', 'operator')).member).toEqual({
      subject: 'newbie',
      role: 'operator',
    });
    expect(await setMember(boss, 'newbie', null)).toEqual({ member: null, userErrors: [] });
    expect(await members(boss)).toEqual([['boss', 'admin']]);
    // A removed member's token no longer opens the tenant.
    const removed = await api.gql(MEMBERS, { token: await api.token('newbie', tenantId), ...scope });
    expect(removed.status).toBe(403);
  });

  it('reports an unknown role, a bad subject and a missing member as user errors', async () => {
    const tenantId = await api.makeTenant({ boss: 'admin' });
    const boss = await api.token('boss', tenantId);
    expect((await setMember(boss, 'x', 'superuser')).userErrors).toEqual([
      expect.objectContaining({ code: 'VALIDATION', field: ['input', 'role'] }),
    ]);
    expect((await setMember(boss, ' ', 'viewer')).userErrors).toEqual([
      expect.objectContaining({ code: 'VALIDATION', field: ['input', 'subject'] }),
    ]);
    expect((await setMember(boss, 'stranger', null)).userErrors).toEqual([
      expect.objectContaining({ code: 'NOT_FOUND', field: ['input', 'subject'] }),
    ]);
    expect(await members(boss)).toEqual([['boss', 'admin']]);
  });

  it('denies members who are not admins (POLICY_DENIED) and changes nothing', async () => {
    const tenantId = await api.makeTenant({ boss: 'admin', op: 'operator', vic: 'viewer' });
    for (const subject of ['op', 'vic']) {
      // Roles in the token are not trusted: membership decides.
      const token = await api.token(subject, tenantId, ['admin']);
      const payload = await setMember(token, 'friend', 'admin');
      expect(payload.member).toBeNull();
      expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'POLICY_DENIED' })]);
      expect((await setMember(token, 'boss', null)).userErrors[0]?.code).toBe('POLICY_DENIED');
    }
    expect(await members(await api.token('vic', tenantId))).toEqual([
      ['boss', 'admin'],
      ['op', 'operator'],
      ['vic', 'viewer'],
    ]);
  });

  it('keeps the last admin from demoting or removing themself (INVALID_STATE)', async () => {
    const tenantId = await api.makeTenant({ solo: 'admin', helper: 'operator' });
    const solo = await api.token('solo', tenantId);
    for (const role of ['viewer', null]) {
      const payload = await setMember(solo, 'solo', role);
      expect(payload.member).toBeNull();
      expect(payload.userErrors).toEqual([
        expect.objectContaining({ code: 'INVALID_STATE', field: ['input', 'role'] }),
      ]);
    }
    // Re-affirming one's own admin role is fine; with a second admin, stepping down works.
    expect((await setMember(solo, 'solo', 'admin')).userErrors).toEqual([]);
    expect((await setMember(solo, 'helper', 'admin')).userErrors).toEqual([]);
    expect(await setMember(solo, 'solo', 'operator')).toEqual({
      member: { subject: 'solo', role: 'operator' },
      userErrors: [],
    });
    expect(await members(await api.token('helper', tenantId))).toEqual([
      ['helper', 'admin'],
      ['solo', 'operator'],
    ]);
  });

  it("never shows another tenant's members", async () => {
    const tenantA = await api.makeTenant({ 'a-admin': 'admin', 'a-viewer': 'viewer' });
    const tenantB = await api.makeTenant({ 'b-admin': 'admin', shared: 'viewer' });
    const a = await api.token('a-admin', tenantA);
    expect(await members(a)).toEqual([
      ['a-admin', 'admin'],
      ['a-viewer', 'viewer'],
    ]);
    // Changes in A stay in A, even for a subject that is also a member of B.
    expect((await setMember(a, 'shared', 'operator')).userErrors).toEqual([]);
    expect(await members(await api.token('b-admin', tenantB))).toEqual([
      ['b-admin', 'admin'],
      ['shared', 'viewer'],
    ]);
    expect((await members(await api.token('shared', tenantA))).map(([s]) => s)).not.toContain('b-admin');
  });
});
