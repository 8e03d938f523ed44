import { describe, expect, it } from 'vitest';
import { coreFail } from './core-fail.ts';
import { executeStep } from './step-type.ts';
import { stepFailure } from './test-support.ts';
import { testStepContext } from './testing.ts';

describe('core.fail', () => {
  it('fails retryably with its message before until_attempt, succeeds with {} from it on', async () => {
    const input = { message: 'flaky', until_attempt: 3 };
    for (const attempt of [1, 2]) {
      const error = await stepFailure(executeStep(coreFail, input, testStepContext({ attempt })));
      expect(error).toMatchObject({ code: 'STEP_FAILED', retryable: true, message: 'flaky' });
    }
    expect(await executeStep(coreFail, input, testStepContext({ attempt: 3 }))).toEqual({ output: {} });
    expect(await executeStep(coreFail, input, testStepContext({ attempt: 4 }))).toEqual({ output: {} });
  });

  it('always fails without until_attempt', async () => {
    const error = await stepFailure(
      executeStep(coreFail, { message: 'no' }, testStepContext({ attempt: 50 })),
    );
    expect(error).toMatchObject({ code: 'STEP_FAILED', retryable: true });
  });

  it('validates its input', () => {
    expect(coreFail.input.safeParse({}).success).toBe(false);
    expect(coreFail.input.safeParse({ message: 'x', until_attempt: 0 }).success).toBe(false);
    expect(coreFail.input.safeParse({ message: 'x', until_attempt: 1.5 }).success).toBe(false);
  });
});
