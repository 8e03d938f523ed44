import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from './api-harness.ts';

// Hostile requests get clear, coded errors and never pin the server or leak internals.
let api: ApiHarness;
let token: string;
const scope = { environment: 'dev', region: 'EU' };

beforeAll(async () => {
  api = await startApi();
  const tenantId = await api.makeTenant({ mallory: 'operator' });
  token = await api.token('mallory', tenantId);
});
afterAll(() => api?.close());

async function raw(body: string) {
  const res = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      'x-maestro-environment': 'dev',
      'x-maestro-region': 'EU',
    },
    body,
  });
  return { status: res.status, text: await res.text() };
}

describe('hostile GraphQL', () => {
  it('refuses queries nested too deep', async () => {
    let q = 'id';
    for (let i = 0; i < 8; i++) q = `workflow { runs { edges { node { ${q} } } } }`;
    const { body } = await api.gql(`query($id: ID!) { run(id: $id) { ${q} } }`, {
      token,
      ...scope,
      variables: { id: 'x' },
    });
    expect(body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(body.errors?.[0]?.message).toMatch(/^query depth \d+ exceeds the limit of 12$/);
  });

  it('refuses too broad a selection (aliases)', async () => {
    const fields = Array.from({ length: 500 }, (_, i) => `a${i}: whoami { subject }`).join(' ');
    const { body } = await api.gql(`{ ${fields} }`, { token, ...scope });
    expect(body.errors?.[0]?.extensions?.code).toMatch(/QUERY_TOO_COMPLEX|GRAPHQL_PARSE_FAILED/);
  });

  it('refuses documents with too many tokens before parsing them fully', async () => {
    const junk = Array.from({ length: 12_000 }, () => 'subject').join(' ');
    const { body } = await api.gql(`{ whoami { ${junk} } }`, { token, ...scope });
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(body.errors?.[0]?.message).toMatch(/Document contains more th\w+ 10000 tokens/);
  });

  it('answers a 10 MB body with 413 PAYLOAD_TOO_LARGE in the GraphQL error shape', async () => {
    const manifest = `name: big\nversion: 1.0.0\ndescription: ${'x'.repeat(10 * 1024 * 1024)}\nsteps: []\n`;
    const r = await raw(
      JSON.stringify({
        query: 'mutation($m: String!) { publishWorkflow(input: {manifest: $m}) { userErrors { code } } }',
        variables: { m: manifest },
      }),
    );
    expect(r.status).toBe(413);
    expect(JSON.parse(r.text)).toEqual({
      errors: [{ message: 'request body is larger than 1 MiB', extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
    });
  });

  it('answers malformed JSON with 400 BAD_REQUEST and no stack trace', async () => {
    const r = await raw('{"query": "{ whoami { subject } }"');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(r.text).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('never leaks Cypher or stack traces, even for odd ids and arguments', async () => {
    const odd = await api.gql(
      `{ a: run(id: "run_') MATCH (n) DETACH DELETE n //") { id } b: node(id: "wf_x") { id } }`,
      {
        token,
        ...scope,
      },
    );
    expect(odd.body).toEqual({ data: { a: null, b: null } });
    const { body } = await api.gql('{ runs(first: 1000) { totalCount } }', { token, ...scope });
    expect(body.errors?.[0]).toMatchObject({
      message: '`first` must be an integer from 1 to 100',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(JSON.stringify(body)).not.toMatch(/MATCH|cypher|neo4j|\.ts:\d+/i);
  });
});
