import { afterEach, describe, expect, it } from 'vitest';
import { allowListGuard } from './guard.ts';
import { completionsUrl, createLlmGenerate } from './llm-generate.ts';
import { executeStep } from './step-type.ts';
import { closedPort, json, startServer, stepFailure, type TestServer } from './test-support.ts';
import { testStepContext } from './testing.ts';

const API_KEY = 'sk-test-do-not-leak';
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/**
 * A small OpenAI-compatible server: POST /v1/chat/completions answers a completion echoing the
 * prompt with fixed usage; a prompt naming a status (`status:429`) gets that status instead.
 */
async function fakeOpenAi(): Promise<TestServer> {
  const s = await startServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions')
      return json(res, 404, { error: 'no route' });
    if (req.headers.authorization !== `Bearer ${API_KEY}`)
      return json(res, 401, { error: { message: 'bad key' } });
    const body = JSON.parse(req.body) as { model: string; messages: { role: string; content: string }[] };
    const prompt = body.messages[0]?.content ?? '';
    const status = /^status:(\w+)/.exec(prompt)?.[1];
    if (status === 'hang') return;
    if (status) {
      return json(res, Number(status), { error: { message: `simulated ${status}` } }, { 'retry-after': '1' });
    }
    if (prompt === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"not":"a completion"}');
    }
    return json(res, 200, {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      model: body.model,
      choices: [
        { index: 0, message: { role: 'assistant', content: `echo: ${prompt}` }, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 },
    });
  });
  servers.push(s);
  return s;
}

const ctx = () =>
  testStepContext({ idempotencyKey: 'idem-llm', guard: allowListGuard({ models: ['gpt-4.1-mini'] }) });

describe('llm.generate', () => {
  it('returns the completion, its usage and cost, and sends key, model and Idempotency-Key', async () => {
    const s = await fakeOpenAi();
    const step = createLlmGenerate({ baseUrl: s.url, apiKey: API_KEY, pricePer1kTokens: 0.5 });
    const result = await executeStep(
      step,
      { model: 'gpt-4.1-mini', prompt: 'plan it', max_tokens: 64 },
      ctx(),
    );
    expect(result).toEqual({
      output: { text: 'echo: plan it', usage: { prompt_tokens: 12, completion_tokens: 30 }, cost_usd: 0.021 },
      costUSD: 0.021,
    });
    const sent = s.requests[0];
    expect(sent?.headers['idempotency-key']).toBe('idem-llm');
    expect(sent?.headers['x-tenant']).toBe('ten_test');
    expect(JSON.parse(sent?.body ?? '')).toEqual({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'plan it' }],
      max_tokens: 64,
      stream: false,
    });
  });

  it('prices by model from a table, unknown models at the conservative default', async () => {
    const s = await fakeOpenAi();
    const guard = allowListGuard({ models: ['cheap', 'mystery'] });
    const step = createLlmGenerate({
      baseUrl: `${s.url}/v1/`,
      apiKey: API_KEY,
      pricePer1kTokens: { cheap: 0.001 },
    });
    const cheap = await executeStep(step, { model: 'cheap', prompt: 'p' }, { ...ctx(), guard });
    expect(cheap).toMatchObject({ costUSD: 0.000042, output: { cost_usd: 0.000042 } });
    const mystery = await executeStep(step, { model: 'mystery', prompt: 'p' }, { ...ctx(), guard });
    expect(mystery).toMatchObject({ costUSD: 0.00126 });
    expect(JSON.parse(s.requests[0]?.body ?? '').max_tokens).toBe(1024);
  });

  it('calls nothing when the model guard denies the model', async () => {
    const s = await fakeOpenAi();
    const step = createLlmGenerate({ baseUrl: s.url, apiKey: API_KEY });
    const error = await stepFailure(executeStep(step, { model: 'gpt-4o', prompt: 'hi' }, ctx()));
    expect(error).toMatchObject({ code: 'POLICY_DENIED', retryable: false });
    expect(s.requests).toHaveLength(0);
  });

  it('classes 429 and 500 as retryable, 400 and 401 as fatal, without leaking the key', async () => {
    const s = await fakeOpenAi();
    const step = createLlmGenerate({ baseUrl: s.url, apiKey: API_KEY });
    const run = (prompt: string) => stepFailure(executeStep(step, { model: 'gpt-4.1-mini', prompt }, ctx()));
    expect(await run('status:429')).toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
      retryAfterMs: 1000,
    });
    expect(await run('status:500')).toMatchObject({
      code: 'HTTP_5XX',
      retryable: true,
      details: { status: 500 },
    });
    const bad = await run('status:400');
    expect(bad).toMatchObject({ code: 'HTTP_4XX', retryable: false });
    expect(bad.message).toContain('simulated 400');
    const wrongKey = createLlmGenerate({ baseUrl: s.url, apiKey: 'sk-wrong' });
    const denied = await stepFailure(executeStep(wrongKey, { model: 'gpt-4.1-mini', prompt: 'x' }, ctx()));
    expect(denied).toMatchObject({ code: 'HTTP_4XX', retryable: false, details: { status: 401 } });
    for (const error of [bad, denied])
      expect(JSON.stringify({ m: error.message, d: error.details })).not.toContain('sk-');
  });

  it('times out as retryable TIMEOUT and cannot reach a closed port as retryable CONNECTION', async () => {
    const s = await fakeOpenAi();
    const slow = createLlmGenerate({ baseUrl: s.url, apiKey: API_KEY, timeoutMs: 200 });
    expect(
      await stepFailure(executeStep(slow, { model: 'gpt-4.1-mini', prompt: 'status:hang' }, ctx())),
    ).toMatchObject({ code: 'TIMEOUT', retryable: true });
    const port = await closedPort();
    const nowhere = createLlmGenerate({ baseUrl: `http://127.0.0.1:${port}`, apiKey: API_KEY });
    expect(
      await stepFailure(executeStep(nowhere, { model: 'gpt-4.1-mini', prompt: 'x' }, ctx())),
    ).toMatchObject({
      code: 'CONNECTION',
      retryable: true,
    });
  });

  it('classes a 200 without a completion as retryable BAD_RESPONSE', async () => {
    const s = await fakeOpenAi();
    const step = createLlmGenerate({ baseUrl: s.url, apiKey: API_KEY });
    expect(
      await stepFailure(executeStep(step, { model: 'gpt-4.1-mini', prompt: 'garbage' }, ctx())),
    ).toMatchObject({
      code: 'BAD_RESPONSE',
      retryable: true,
    });
  });

  it('validates input and configuration', async () => {
    const step = createLlmGenerate({ baseUrl: 'http://127.0.0.1:1' });
    for (const input of [
      { model: 'gpt-4.1-mini' },
      { model: '', prompt: 'x' },
      { model: 'm', prompt: 'x', max_tokens: 0 },
    ]) {
      expect((await stepFailure(executeStep(step, input, ctx()))).code).toBe('VALIDATION');
    }
    expect(() => createLlmGenerate({ baseUrl: 'not a url' })).toThrow(/invalid baseUrl/);
    expect(() => createLlmGenerate({ baseUrl: 'file:///x' })).toThrow(/http/);
    expect(completionsUrl('http://litellm:4000').href).toBe('http://litellm:4000/v1/chat/completions');
    expect(completionsUrl('http://ollama:11434/v1').href).toBe('http://ollama:11434/v1/chat/completions');
    expect(completionsUrl('https://proxy/llm/').href).toBe('https://proxy/llm/v1/chat/completions');
  });
});
