import { z } from 'zod';
import { abortError, classifyError, fatal } from './step-error.ts';

/**
 * Policy checks a step must pass before touching the outside world. The engine wires them to
 * the policy engine; both resolve when allowed and throw a fatal POLICY_DENIED StepError when
 * denied (any other error they throw is classified as usual, i.e. retryable).
 */
export interface StepGuard {
  /** Before any network request, for every URL (including each redirect hop). */
  checkEgress(url: URL): Promise<void>;
  /** Before calling a model. */
  checkModel(model: string): Promise<void>;
}

/** What a step's code gets besides its input. */
export interface StepContext {
  /** Aborted on run cancellation or step timeout; step code must stop promptly. */
  signal: AbortSignal;
  /** Stable across retries and redeliveries of the same step input (sent as Idempotency-Key). */
  idempotencyKey: string;
  /** 1 for the first attempt. */
  attempt: number;
  runId: string;
  taskId: string;
  tenantId: string;
  environment: string;
  region: string;
  /** Epoch ms by which the step must have finished (step timeout and run deadline, whichever is first). */
  deadline: number;
  guard: StepGuard;
}

/** A step that finished: its output (JSON-safe) and what it cost, when it cost anything. */
export interface StepOutput<O = unknown> {
  output: O;
  costUSD?: number;
}

/** A step that parks the task until something outside happens (today: approvals). */
export interface StepWait {
  wait: {
    kind: 'approval';
    requiredApprovals: number;
    eligibleRoles: string[];
    /** From the moment the engine opens the approval; null = never expires. */
    expiresInMs: number | null;
  };
}

export type StepResult<O = unknown> = StepOutput<O> | StepWait;

export function isStepWait(result: StepResult): result is StepWait {
  return 'wait' in result;
}

/**
 * One built-in step type: a name (`uses`), an input schema and a function. A new step type is
 * one file implementing this interface, registered in index.ts; nothing else changes.
 * `run` gets input already parsed by `input`; it throws StepError (see `retryable`/`fatal`)
 * or anything else, which `classifyError` maps.
 */
export interface StepType<I extends z.ZodType = z.ZodType, O = unknown> {
  uses: string;
  input: I;
  run(input: z.infer<I>, ctx: StepContext): Promise<StepResult<O>>;
}

export function defineStep<I extends z.ZodType, O>(step: StepType<I, O>): StepType<I, O> {
  return step;
}

/**
 * How the engine runs one attempt: validates `input` (fatal VALIDATION), runs the step, and
 * maps whatever it throws to a StepError. Settles as soon as `ctx.signal` fires (TIMEOUT when
 * the abort reason is a TimeoutError, CANCELLED otherwise) even if step code lags behind.
 * Always rejects with a StepError.
 */
export async function executeStep(step: StepType, input: unknown, ctx: StepContext): Promise<StepResult> {
  if (ctx.signal.aborted) throw abortError(ctx.signal);
  const parsed = step.input.safeParse(input);
  if (!parsed.success) {
    throw fatal('VALIDATION', `invalid input for ${step.uses}: ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(ctx.signal));
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([step.run(parsed.data, ctx), aborted]);
  } catch (error) {
    throw ctx.signal.aborted ? abortError(ctx.signal) : classifyError(error);
  } finally {
    if (onAbort) ctx.signal.removeEventListener('abort', onAbort);
  }
}

/** Milliseconds left before `ctx.deadline`, at most `capMs`, at least 1. */
export function remainingMs(ctx: Pick<StepContext, 'deadline'>, capMs: number): number {
  const left = ctx.deadline - Date.now();
  return Math.max(1, Math.min(capMs, Number.isNaN(left) ? capMs : left));
}
