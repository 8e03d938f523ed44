import { MAX_DURATION_MS } from '@maestro/domain';
import { z } from 'zod';
import { abortError } from './step-error.ts';
import { defineStep, type StepResult } from './step-type.ts';

/** `core.sleep`: waits `ms` milliseconds, or until the signal fires (then rejects at once). */
export const coreSleep = defineStep({
  uses: 'core.sleep',
  input: z.object({ ms: z.number().int().min(0).max(MAX_DURATION_MS) }),
  run: (input, ctx) =>
    new Promise<StepResult>((resolve, reject) => {
      if (ctx.signal.aborted) {
        reject(abortError(ctx.signal));
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortError(ctx.signal));
      };
      const timer = setTimeout(() => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve({ output: {} });
      }, input.ms);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    }),
});
