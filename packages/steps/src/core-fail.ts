import { z } from 'zod';
import { retryable } from './step-error.ts';
import { defineStep } from './step-type.ts';

/**
 * `core.fail`: fails (retryably, so `retry` applies) with `message`; with `until_attempt` it
 * succeeds with `{}` from that attempt on. For testing retries and failure handling.
 */
export const coreFail = defineStep({
  uses: 'core.fail',
  input: z.object({
    message: z.string().max(4096),
    until_attempt: z.number().int().min(1).max(100).optional(),
  }),
  run: async (input, ctx) => {
    if (input.until_attempt !== undefined && ctx.attempt >= input.until_attempt) return { output: {} };
    throw retryable('STEP_FAILED', input.message, { details: { attempt: ctx.attempt } });
  },
});
