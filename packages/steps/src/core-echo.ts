import { z } from 'zod';
import { defineStep } from './step-type.ts';

/** `core.echo`: returns its message (after expression resolution by the engine). */
export const coreEcho = defineStep({
  uses: 'core.echo',
  input: z.object({ message: z.string().max(64 * 1024) }),
  run: async (input) => ({ output: { message: input.message } }),
});
