import { AppError } from '@maestro/domain';
import { createRemoteJWKSet, type JWTPayload, jwtVerify, SignJWT } from 'jose';

/** Who is calling, as proven by the token. Tenant roles come from membership, not the token. */
export interface Principal {
  subject: string;
  tenantId: string | null;
  /** Roles claimed by the token; only `platform_admin` is trusted from here. */
  tokenRoles: string[];
}

export interface AuthConfig {
  jwtSecret?: string | undefined;
  oidcIssuer?: string | undefined;
  oidcAudience?: string | undefined;
  oidcJwksUrl?: string | undefined;
}

export type TokenVerifier = (token: string) => Promise<Principal>;

const CLOCK_TOLERANCE_S = 30;

function toPrincipal(payload: JWTPayload): Principal {
  const subject = payload.sub;
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > 256) {
    throw new AppError('UNAUTHENTICATED', 'token has no valid subject');
  }
  const tenantId = payload.tenant_id;
  if (
    tenantId !== undefined &&
    (typeof tenantId !== 'string' || tenantId.length === 0 || tenantId.length > 128)
  ) {
    throw new AppError('UNAUTHENTICATED', 'token has an invalid tenant_id');
  }
  const roles = Array.isArray(payload.roles)
    ? payload.roles.filter((r): r is string => typeof r === 'string')
    : [];
  return { subject, tenantId: tenantId ?? null, tokenRoles: roles };
}

/**
 * HS256 with a shared secret in development and tests; OIDC (JWKS, issuer, audience) in
 * production. Algorithms are pinned, so `alg: none` and algorithm confusion are refused.
 */
export function createTokenVerifier(config: AuthConfig): TokenVerifier {
  if (config.oidcIssuer) {
    const jwks = createRemoteJWKSet(
      new URL(config.oidcJwksUrl ?? `${config.oidcIssuer.replace(/\/$/, '')}/.well-known/jwks.json`),
    );
    return verifier((token) =>
      jwtVerify(token, jwks, {
        issuer: config.oidcIssuer,
        ...(config.oidcAudience ? { audience: config.oidcAudience } : {}),
        algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'],
        clockTolerance: CLOCK_TOLERANCE_S,
      }),
    );
  }
  if (!config.jwtSecret) throw new Error('no token verification configured');
  const key = new TextEncoder().encode(config.jwtSecret);
  return verifier((token) =>
    jwtVerify(token, key, { algorithms: ['HS256'], clockTolerance: CLOCK_TOLERANCE_S }),
  );
}

/** Any verification failure is UNAUTHENTICATED; the cause stays on the error, never in the reply. */
function verifier(verify: (token: string) => Promise<{ payload: JWTPayload }>): TokenVerifier {
  return async (token) => {
    try {
      return toPrincipal((await verify(token)).payload);
    } catch (error) {
      throw error instanceof AppError
        ? error
        : new AppError('UNAUTHENTICATED', 'invalid token', { cause: error });
    }
  };
}

export interface DevTokenClaims {
  subject: string;
  tenantId?: string;
  roles?: string[];
  ttlSeconds?: number;
}

/** Signs an HS256 development token (tests, the seed script and the dev-only endpoint). */
export async function signDevToken(secret: string, claims: DevTokenClaims): Promise<string> {
  return new SignJWT({
    ...(claims.tenantId ? { tenant_id: claims.tenantId } : {}),
    roles: claims.roles ?? [],
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.subject)
    .setIssuedAt()
    .setIssuer('maestro-dev')
    .setExpirationTime(`${claims.ttlSeconds ?? 8 * 3600}s`)
    .sign(new TextEncoder().encode(secret));
}
