import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

type KeyLike = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, signDevToken } from './auth.ts';

// A fake OIDC provider (outside our system) as a real HTTP server on loopback serving its JWKS.
const ISSUER = 'https://idp.example.test';
let server: Server;
let jwksUrl: string;
let privateKey: KeyLike;
let otherKey: KeyLike;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});
afterAll(() => new Promise((r) => server.close(r)));

const oidcToken = (key: KeyLike, claims: { aud?: string; iss?: string } = {}) =>
  new SignJWT({ tenant_id: 't1', roles: ['viewer'] })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setSubject('oidc-user')
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? 'maestro')
    .setExpirationTime('5m')
    .sign(key);

describe('OIDC token verification (JWKS)', () => {
  const verify = () =>
    createTokenVerifier({ oidcIssuer: ISSUER, oidcAudience: 'maestro', oidcJwksUrl: jwksUrl });

  it('accepts a token signed by the provider for our audience', async () => {
    expect(await verify()(await oidcToken(privateKey))).toEqual({
      subject: 'oidc-user',
      tenantId: 't1',
      tokenRoles: ['viewer'],
    });
  });

  it('refuses another key, another audience, another issuer and an HS256 dev token', async () => {
    const v = verify();
    for (const token of [
      await oidcToken(otherKey),
      await oidcToken(privateKey, { aud: 'someone-else' }),
      await oidcToken(privateKey, { iss: 'https://evil.example.test' }),
      await signDevToken('a-dev-secret-that-is-at-least-32-characters', { subject: 'x', tenantId: 't1' }),
    ]) {
      await expect(v(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    }
  });
});

describe('dev HS256 verification', () => {
  it('refuses tokens without a subject', async () => {
    const secret = 'a-dev-secret-that-is-at-least-32-characters';
    const noSub = await new SignJWT({ tenant_id: 't1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret));
    await expect(createTokenVerifier({ jwtSecret: secret })(noSub)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });
});
