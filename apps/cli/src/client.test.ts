import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from '../../api/test/api-harness.ts';
import { CliError, graphql } from './client.ts';

let api: ApiHarness;
let tenantId: string;
beforeAll(async () => {
  api = await startApi();
  tenantId = await api.makeTenant({ carol: 'composer' });
});
afterAll(() => api?.close());

describe('maestro CLI client against the real API', () => {
  it('sends the contract headers and returns data', async () => {
    const token = await api.token('carol', tenantId);
    const data = await graphql<{ whoami: { subject: string; roles: string[]; region: string } }>(
      { apiUrl: api.url, token, environment: 'staging', region: 'US' },
      '{ whoami { subject roles region } }',
    );
    expect(data.whoami).toEqual({ subject: 'carol', roles: ['composer'], region: 'US' });
  });

  it('turns API errors and an unreachable API into coded CLI errors', async () => {
    await expect(
      graphql(
        { apiUrl: api.url, token: 'not-a-jwt', environment: 'dev', region: 'EU' },
        '{ whoami { subject } }',
      ),
    ).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(
      graphql(
        { apiUrl: 'http://127.0.0.1:2', token: 'x', environment: 'dev', region: 'EU' },
        '{ whoami { subject } }',
      ),
    ).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    await expect(
      graphql(
        { apiUrl: api.url, token: undefined, environment: 'dev', region: 'EU' },
        '{ whoami { subject } }',
      ),
    ).rejects.toBeInstanceOf(CliError);
  });
});
