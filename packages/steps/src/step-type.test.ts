import { AppError } from '@maestro/domain';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allowListGuard } from './guard.ts';
import { abortError, classifyError, fatal, retryable, StepError } from './step-error.ts';
import { defineStep, executeStep, remainingMs } from './step-type.ts';
import { stepFailure } from './test-support.ts';
import { testStepContext } from './testing.ts';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyError', () => {
  it('keeps StepErrors', () => {
    const error = fatal('HTTP_4XX', 'nope');
    expect(classifyError(error)).toBe(error);
    expect(retryable('HTTP_5XX', 'x').retryable).toBe(true);
    expect(fatal('HTTP_4XX', 'x').retryable).toBe(false);
  });

  it.each([
    ['a plain Error', new Error('boom'), 'ERROR', true],
    ['a thrown string', 'boom', 'ERROR', true],
    ['a TimeoutError', new DOMException('t', 'TimeoutError'), 'TIMEOUT', true],
    ['an AbortError', new DOMException('a', 'AbortError'), 'CANCELLED', false],
    [
      'ECONNREFUSED in the cause chain',
      new TypeError('fetch failed', { cause: withCode('x', 'ECONNREFUSED') }),
      'CONNECTION',
      true,
    ],
    ['ECONNRESET', withCode('reset', 'ECONNRESET'), 'CONNECTION', true],
    ['ENOTFOUND', withCode('dns', 'ENOTFOUND'), 'CONNECTION', true],
    [
      'an AggregateError of refusals',
      new AggregateError([withCode('x', 'ECONNREFUSED')]),
      'CONNECTION',
      true,
    ],
    ['ETIMEDOUT', withCode('slow', 'ETIMEDOUT'), 'TIMEOUT', true],
    ['UND_ERR_HEADERS_TIMEOUT', withCode('slow', 'UND_ERR_HEADERS_TIMEOUT'), 'TIMEOUT', true],
    ['a ZodError', z.string().safeParse(1).error, 'VALIDATION', false],
    ['a VALIDATION AppError', new AppError('VALIDATION', 'bad'), 'VALIDATION', false],
    ['a POLICY_DENIED AppError', new AppError('POLICY_DENIED', 'no'), 'POLICY_DENIED', false],
    ['a BUDGET_EXCEEDED AppError', new AppError('BUDGET_EXCEEDED', 'no'), 'POLICY_DENIED', false],
    ['a SERVICE_UNAVAILABLE AppError', new AppError('SERVICE_UNAVAILABLE', 'down'), 'ERROR', true],
  ])('maps %s', (_, thrown, code, isRetryable) => {
    expect(classifyError(thrown)).toMatchObject({ code, retryable: isRetryable });
  });

  it('serialises without stack or cause', () => {
    const error = retryable('HTTP_5XX', 'bad gateway', { details: { status: 502 }, cause: new Error('x') });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: 'HTTP_5XX',
      message: 'bad gateway',
      retryable: true,
      details: { status: 502 },
    });
  });

  it('tells a step timeout from a cancel by the abort reason', () => {
    expect(abortError(AbortSignal.abort())).toMatchObject({ code: 'CANCELLED', retryable: false });
    expect(abortError(AbortSignal.abort(new DOMException('t', 'TimeoutError')))).toMatchObject({
      code: 'TIMEOUT',
      retryable: true,
    });
    const reason = retryable('TIMEOUT', 'step timeout 2m');
    expect(abortError(AbortSignal.abort(reason))).toBe(reason);
  });
});

describe('executeStep', () => {
  const throwing = defineStep({
    uses: 'test.throw',
    input: z.object({ what: z.enum(['error', 'fatal', 'ok']) }),
    run: async (input) => {
      if (input.what === 'error') throw new Error('kaput');
      if (input.what === 'fatal') throw fatal('HTTP_4XX', 'gone');
      return { output: { fine: true }, costUSD: 0.5 };
    },
  });

  it('returns the result', async () => {
    expect(await executeStep(throwing, { what: 'ok' }, testStepContext())).toEqual({
      output: { fine: true },
      costUSD: 0.5,
    });
  });

  it('rejects invalid input as fatal VALIDATION naming the field', async () => {
    const error = await stepFailure(executeStep(throwing, { what: 'nope' }, testStepContext()));
    expect(error).toMatchObject({ code: 'VALIDATION', retryable: false });
    expect(error.message).toMatch(/test\.throw/);
    expect(error.message).toMatch(/what/);
  });

  it('classifies what the step throws', async () => {
    expect(await stepFailure(executeStep(throwing, { what: 'error' }, testStepContext()))).toMatchObject({
      code: 'ERROR',
      retryable: true,
      message: 'kaput',
    });
    expect(await stepFailure(executeStep(throwing, { what: 'fatal' }, testStepContext()))).toMatchObject({
      code: 'HTTP_4XX',
      retryable: false,
    });
  });

  it('settles on abort even when the step ignores its signal', async () => {
    const stubborn = defineStep({
      uses: 'test.stubborn',
      input: z.object({}),
      run: () => new Promise<never>(() => {}),
    });
    const controller = new AbortController();
    const running = executeStep(stubborn, {}, testStepContext({ signal: controller.signal }));
    setTimeout(() => controller.abort(), 10);
    expect(await stepFailure(running)).toMatchObject({ code: 'CANCELLED', retryable: false });
  });

  it('does not run once aborted', async () => {
    let ran = false;
    const step = defineStep({
      uses: 'test.ran',
      input: z.object({}),
      run: async () => {
        ran = true;
        return { output: {} };
      },
    });
    await stepFailure(executeStep(step, {}, testStepContext({ signal: AbortSignal.abort() })));
    expect(ran).toBe(false);
  });
});

describe('remainingMs', () => {
  it('is the cap or the time to the deadline, whichever is less, and at least 1', () => {
    expect(remainingMs({ deadline: Date.now() + 60_000 }, 1000)).toBe(1000);
    expect(remainingMs({ deadline: Date.now() + 500 }, 1000)).toBeLessThanOrEqual(500);
    expect(remainingMs({ deadline: Date.now() - 500 }, 1000)).toBe(1);
    expect(remainingMs({ deadline: Number.NaN }, 1000)).toBe(1000);
  });
});

describe('allowListGuard', () => {
  const guard = allowListGuard({ hosts: ['api.example.com', '127.0.0.1:8080'], models: ['gpt-4.1-mini'] });

  it('allows listed hosts (any port by hostname, or exact host:port) and models', async () => {
    await guard.checkEgress(new URL('https://api.example.com/x'));
    await guard.checkEgress(new URL('https://API.example.com:8443/x'));
    await guard.checkEgress(new URL('http://127.0.0.1:8080/'));
    await guard.checkModel('gpt-4.1-mini');
  });

  it('denies the rest with a fatal POLICY_DENIED', async () => {
    for (const denied of [
      guard.checkEgress(new URL('http://127.0.0.1:9090/')),
      guard.checkEgress(new URL('https://evil.example.com/')),
      guard.checkModel('gpt-4o'),
    ]) {
      const error = await stepFailure(denied);
      expect(error).toBeInstanceOf(StepError);
      expect(error).toMatchObject({ code: 'POLICY_DENIED', retryable: false });
    }
  });
});
