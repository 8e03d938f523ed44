import type { z } from 'zod';

/** What a step's code gets besides its input. */
export interface StepContext {
  /** Aborted on run cancellation or step timeout; step code must stop promptly. */
  signal: AbortSignal;
  /** Stable across retries and redeliveries of the same step input (sent as Idempotency-Key). */
  idempotencyKey: string;
  /** 1 for the first attempt. */
  attempt: number;
}

/**
 * One built-in step type: a name (`uses`), an input schema and a function. A new step type is
 * one file implementing this interface, registered in index.ts; nothing else changes.
 */
export interface StepType<I extends z.ZodType = z.ZodType, O = unknown> {
  uses: string;
  input: I;
  run(input: z.infer<I>, ctx: StepContext): Promise<O>;
}

export function defineStep<I extends z.ZodType, O>(step: StepType<I, O>): StepType<I, O> {
  return step;
}
