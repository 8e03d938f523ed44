import { randomUUID } from 'node:crypto';
import { getMember, getTenant } from '@maestro/db';
import { AppError, isScopeToken, kindOfId, type Scope } from '@maestro/domain';
import { GraphQLError } from 'graphql';
import type { Principal } from './auth.ts';
import { createLoaders, type Loaders } from './loaders.ts';
import type { ApiResources } from './resources.ts';

export interface Actor {
  subject: string;
  /** Tenant roles from membership, plus platform_admin when the token carries it. */
  roles: string[];
}

export interface TenantShape {
  id: string;
  name: string;
  dailyBudgetUsd: string;
  alertThreshold: string;
  maxConcurrentRuns: number;
}

interface BaseContext {
  requestId: string;
  principal: Principal;
  actor: Actor;
  resources: ApiResources;
}

/** A request inside one tenant: a member, or a platform operator whose token names the tenant. */
export interface TenantContext extends BaseContext {
  kind: 'tenant';
  /** The tenant/environment/region every read and write is confined to. */
  scope: Scope;
  tenant: TenantShape;
  loaders: Loaders;
}

/**
 * A platform operator's token without tenant_id: there is no tenant, so no scope and no
 * loaders. Reading any of them throws FORBIDDEN (`never`), so every field that touches tenant
 * data refuses such a context by construction; only fields that check `kind` first (createTenant)
 * can serve it.
 */
export interface PlatformContext extends BaseContext {
  kind: 'platform';
  readonly scope: never;
  readonly tenant: never;
  readonly loaders: never;
}

export type Context = TenantContext | PlatformContext;

export const PLATFORM_CONTEXT_REFUSAL =
  'platform operators act on tenants through createTenant; use a tenant token for tenant data';

/** The FORBIDDEN error a platform context answers with wherever tenant data is asked for. */
export function platformContextRefusal(): AppError {
  return new AppError('FORBIDDEN', PLATFORM_CONTEXT_REFUSAL);
}

/** Getters on the prototype, so spreading or logging the context never trips them. */
class PlatformOperatorContext implements PlatformContext {
  readonly kind = 'platform';
  constructor(
    readonly requestId: string,
    readonly principal: Principal,
    readonly actor: Actor,
    readonly resources: ApiResources,
  ) {}
  get scope(): never {
    throw platformContextRefusal();
  }
  get tenant(): never {
    throw platformContextRefusal();
  }
  get loaders(): never {
    throw platformContextRefusal();
  }
}

export interface RequestHeaders {
  authorization?: string | undefined;
  environment?: string | undefined;
  region?: string | undefined;
}

function httpError(message: string, code: string, status: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status } } });
}

/**
 * Authenticates the request and fixes its scope. Failures here are request-level: 401 for a
 * missing or invalid token, 400 for missing scope headers, 403 for a tenant the caller is
 * not a member of, or for a token without tenant_id that is not a platform operator's.
 */
export async function createContext(resources: ApiResources, headers: RequestHeaders): Promise<Context> {
  const requestId = randomUUID();
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(headers.authorization ?? '');
  if (!match?.[1]) throw httpError('missing bearer token', 'UNAUTHENTICATED', 401);
  let principal: Principal;
  try {
    principal = await resources.verifyToken(match[1]);
  } catch (error) {
    if (error instanceof AppError && error.code === 'UNAUTHENTICATED') {
      throw httpError('invalid or expired token', 'UNAUTHENTICATED', 401);
    }
    throw error;
  }

  const environment = headers.environment?.trim();
  const region = headers.region?.trim();
  if (!environment || !isScopeToken(environment)) {
    throw httpError('X-Maestro-Environment header is required (e.g. dev, staging, prod)', 'BAD_REQUEST', 400);
  }
  if (!region || !isScopeToken(region)) {
    throw httpError('X-Maestro-Region header is required (e.g. US, EU)', 'BAD_REQUEST', 400);
  }
  const isPlatformAdmin = principal.tokenRoles.includes('platform_admin');
  if (!principal.tenantId) {
    if (!isPlatformAdmin) throw httpError('token carries no tenant_id', 'FORBIDDEN', 403);
    const actor = { subject: principal.subject, roles: ['platform_admin'] };
    return new PlatformOperatorContext(requestId, principal, actor, resources);
  }

  const tenantId = principal.tenantId;
  const { tenant, membership } = await tenantStore(async () => {
    const tenant = await loadTenant(resources, tenantId);
    return { tenant, membership: await getMember(resources.db, tenant.id, principal.subject) };
  });
  if (!membership && !isPlatformAdmin) {
    throw httpError('not a member of this tenant', 'FORBIDDEN', 403);
  }
  const roles = [...(membership ? [membership.role] : []), ...(isPlatformAdmin ? ['platform_admin'] : [])];
  const scope = { tenantId: tenant.id, environment, region };
  return {
    kind: 'tenant',
    requestId,
    principal,
    actor: { subject: principal.subject, roles },
    scope,
    tenant,
    resources,
    loaders: createLoaders(resources.graph, scope),
  };
}

/** Postgres failures while authenticating are a 503 that names the store, not a crash. */
async function tenantStore<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof GraphQLError) throw error;
    throw httpError('tenant store (postgres) is unavailable', 'SERVICE_UNAVAILABLE', 503);
  }
}

async function loadTenant(resources: ApiResources, tenantId: string): Promise<TenantShape> {
  // Anything that is not a tenant id cannot exist and must not reach the database.
  if (kindOfId(tenantId) !== 'Tenant') {
    throw httpError('not a member of this tenant', 'FORBIDDEN', 403);
  }
  const tenant = await getTenant(resources.db, tenantId);
  if (!tenant) throw httpError('not a member of this tenant', 'FORBIDDEN', 403);
  return tenant;
}
