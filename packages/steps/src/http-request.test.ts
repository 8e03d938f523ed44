import { afterEach, describe, expect, it } from 'vitest';
import { allowListGuard } from './guard.ts';
import { createHttpRequest, httpRequest } from './http-request.ts';
import { executeStep } from './step-type.ts';
import { closedPort, json, startServer, stepFailure, type TestServer } from './test-support.ts';
import { testStepContext } from './testing.ts';

const servers: TestServer[] = [];
async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Echoes what it received; `/status/<n>` answers n; counts requests in `requests`. */
function echoServer() {
  return server((req, res) => {
    const status = /^\/status\/(\d+)/.exec(req.url)?.[1];
    if (status) {
      res.writeHead(Number(status), { 'content-type': 'text/plain', 'retry-after': '2' });
      res.end(`status ${status}`);
      return;
    }
    json(
      res,
      200,
      { method: req.method, url: req.url, headers: req.headers, body: req.body },
      { 'x-echo': 'yes' },
    );
  });
}

function ctxFor(...hosts: string[]) {
  return testStepContext({ idempotencyKey: 'idem-123', guard: allowListGuard({ hosts }) });
}

describe('http.request', () => {
  it('sends the request with Idempotency-Key and returns status, headers and the JSON body', async () => {
    const s = await echoServer();
    const result = await executeStep(
      httpRequest,
      { method: 'post', url: `${s.url}/deploy?x=1`, headers: { 'X-Trace': 't1' }, body: { env: 'prod' } },
      ctxFor(s.host),
    );
    expect(result).toMatchObject({
      output: {
        status: 200,
        headers: { 'content-type': 'application/json', 'x-echo': 'yes' },
        body: { method: 'POST', url: '/deploy?x=1', body: '{"env":"prod"}' },
      },
    });
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]?.headers['idempotency-key']).toBe('idem-123');
    expect(s.requests[0]?.headers['content-type']).toBe('application/json');
    expect(s.requests[0]?.headers['x-trace']).toBe('t1');
  });

  it('keeps the task key on retries and over a key the manifest sets', async () => {
    const s = await echoServer();
    const ctx = ctxFor(s.host);
    const input = { method: 'GET', url: s.url, headers: { 'idempotency-key': 'mine' } };
    await executeStep(httpRequest, input, ctx);
    await executeStep(httpRequest, input, { ...ctx, attempt: 2 });
    expect(s.requests.map((r) => r.headers['idempotency-key'])).toEqual(['idem-123', 'idem-123']);
  });

  it('sends a string body as is and returns a text body as text', async () => {
    const s = await server((req, res) => {
      res.writeHead(201, { 'content-type': 'text/plain' });
      res.end(`got ${req.body}`);
    });
    const result = await executeStep(
      httpRequest,
      { method: 'PUT', url: s.url, body: 'raw text' },
      ctxFor(s.host),
    );
    expect(result).toMatchObject({ output: { status: 201, body: 'got raw text' } });
    expect(s.requests[0]?.headers['content-type']).toMatch(/^text\/plain/);
  });

  it('classes 500 and 503 as retryable HTTP_5XX, 429 as retryable RATE_LIMITED with Retry-After', async () => {
    const s = await echoServer();
    for (const status of [500, 503]) {
      const error = await stepFailure(
        executeStep(httpRequest, { url: `${s.url}/status/${status}` }, ctxFor(s.host)),
      );
      expect(error).toMatchObject({ code: 'HTTP_5XX', retryable: true, details: { status } });
      expect(error.message).toContain(`status ${status}`);
    }
    const limited = await stepFailure(
      executeStep(httpRequest, { url: `${s.url}/status/429` }, ctxFor(s.host)),
    );
    expect(limited).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 2000 });
  });

  it('classes 404 and 400 as fatal HTTP_4XX', async () => {
    const s = await echoServer();
    for (const status of [404, 400]) {
      const error = await stepFailure(
        executeStep(httpRequest, { url: `${s.url}/status/${status}` }, ctxFor(s.host)),
      );
      expect(error).toMatchObject({ code: 'HTTP_4XX', retryable: false, details: { status } });
    }
  });

  it('accepts exactly the statuses in expect_status', async () => {
    const s = await echoServer();
    expect(
      await executeStep(
        httpRequest,
        { url: `${s.url}/status/404`, expect_status: [200, 404] },
        ctxFor(s.host),
      ),
    ).toMatchObject({ output: { status: 404, body: 'status 404' } });
    const error = await stepFailure(
      executeStep(httpRequest, { url: s.url, expect_status: 201 }, ctxFor(s.host)),
    );
    expect(error).toMatchObject({ code: 'UNEXPECTED_STATUS', retryable: false, details: { status: 200 } });
  });

  it('times out as retryable TIMEOUT when the server never answers', async () => {
    const s = await server(() => {});
    const started = performance.now();
    const step = createHttpRequest({ timeoutMs: 200 });
    const error = await stepFailure(executeStep(step, { url: s.url }, ctxFor(s.host)));
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('times out at ctx.deadline', async () => {
    const s = await server(() => {});
    const ctx = { ...ctxFor(s.host), deadline: Date.now() + 150 };
    const error = await stepFailure(executeStep(httpRequest, { url: s.url }, ctx));
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
  });

  it('classes connection refused as retryable CONNECTION', async () => {
    const port = await closedPort();
    const error = await stepFailure(
      executeStep(httpRequest, { url: `http://127.0.0.1:${port}/` }, ctxFor(`127.0.0.1:${port}`)),
    );
    expect(error).toMatchObject({ code: 'CONNECTION', retryable: true });
  });

  it('stops promptly and fatally when the run is cancelled', async () => {
    const s = await server(() => {});
    const controller = new AbortController();
    const running = httpRequest.run(httpRequest.input.parse({ url: s.url }), {
      ...ctxFor(s.host),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    expect(await stepFailure(running)).toMatchObject({ code: 'CANCELLED', retryable: false });
  });

  it('fails with fatal OUTPUT_LIMIT past 1 MiB, streamed or declared', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 'a');
    const s = await server((req, res) => {
      if (req.url === '/declared') {
        res.writeHead(200, { 'content-length': String(big.length) });
        res.end(big);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }); // chunked: the size shows only while reading
      for (let i = 0; i < 32; i++) res.write(big.subarray(i * 65536, (i + 1) * 65536));
      res.end();
    });
    for (const path of ['/streamed', '/declared']) {
      const error = await stepFailure(executeStep(httpRequest, { url: `${s.url}${path}` }, ctxFor(s.host)));
      expect(error).toMatchObject({ code: 'OUTPUT_LIMIT', retryable: false });
    }
  });

  it('reads a body up to the limit', async () => {
    const s = await server((_req, res) => res.end('x'.repeat(1024)));
    const step = createHttpRequest({ maxResponseBytes: 1024 });
    expect(await executeStep(step, { url: s.url }, ctxFor(s.host))).toMatchObject({
      output: { body: 'x'.repeat(1024) },
    });
    const tight = createHttpRequest({ maxResponseBytes: 1023 });
    expect((await stepFailure(executeStep(tight, { url: s.url }, ctxFor(s.host)))).code).toBe('OUTPUT_LIMIT');
  });

  it('sends nothing when the egress guard denies the host', async () => {
    const s = await echoServer();
    const error = await stepFailure(executeStep(httpRequest, { url: s.url }, ctxFor('api.example.com')));
    expect(error).toMatchObject({ code: 'POLICY_DENIED', retryable: false });
    expect(s.requests).toHaveLength(0);
  });

  it('checks every redirect hop against the egress guard', async () => {
    const other = await echoServer();
    const s = await server((req, res) => {
      const to = req.url === '/same' ? '/landed' : req.url === '/away' ? `${other.url}/landed` : undefined;
      if (to) {
        res.writeHead(302, { location: to });
        res.end();
      } else json(res, 200, { at: req.url, auth: req.headers.authorization ?? null });
    });
    expect(await executeStep(httpRequest, { url: `${s.url}/same` }, ctxFor(s.host))).toMatchObject({
      output: { status: 200, body: { at: '/landed' } },
    });

    const denied = await stepFailure(executeStep(httpRequest, { url: `${s.url}/away` }, ctxFor(s.host)));
    expect(denied.code).toBe('POLICY_DENIED');
    expect(other.requests).toHaveLength(0);

    const followed = await executeStep(
      httpRequest,
      { url: `${s.url}/away`, headers: { authorization: 'Bearer secret' } },
      ctxFor(s.host, other.host),
    );
    expect(followed).toMatchObject({ output: { status: 200, body: { url: '/landed' } } });
    expect(other.requests[0]?.headers.authorization).toBeUndefined();
    expect(other.requests[0]?.headers['idempotency-key']).toBe('idem-123');
  });

  it('rejects bad input as fatal VALIDATION before any request', async () => {
    const s = await echoServer();
    for (const input of [
      { url: 'ftp://127.0.0.1/x' },
      { url: 'file:///etc/passwd' },
      { url: 'not a url' },
      { url: `http://user:pw@${s.host}/` },
      { url: s.url, method: 'TRACE' },
      { url: s.url, method: 'GET', body: { a: 1 } },
      { url: s.url, headers: { host: 'evil' } },
      { url: s.url, headers: { 'x-bad': 'a\r\nInjected: 1' } },
      { url: s.url, expect_status: [99] },
    ]) {
      const error = await stepFailure(executeStep(httpRequest, input, ctxFor(s.host)));
      expect(error, JSON.stringify(input)).toMatchObject({ code: 'VALIDATION', retryable: false });
    }
    expect(s.requests).toHaveLength(0);
  });
});
