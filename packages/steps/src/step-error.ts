import { isAppError } from '@maestro/domain';
import { z } from 'zod';

/**
 * Why a step failed. The engine retries a task only when its error is `retryable` (and attempts
 * remain); the code is recorded with the task for operators and the API.
 */
export const STEP_ERROR_CODES = [
  /** Step or request timeout (retryable). */
  'TIMEOUT',
  /** Upstream answered 5xx (retryable). */
  'HTTP_5XX',
  /** Upstream answered 429 Too Many Requests (retryable; `retryAfterMs` when it said). */
  'RATE_LIMITED',
  /** Upstream answered 4xx (fatal). */
  'HTTP_4XX',
  /** Upstream answered a status outside `expect_status` that is neither 4xx nor 5xx (fatal). */
  'UNEXPECTED_STATUS',
  /** Connection refused/reset, DNS failure, socket closed (retryable). */
  'CONNECTION',
  /** Input does not match the step's schema, or is otherwise unusable (fatal). */
  'VALIDATION',
  /** Policy denied egress, a model, or another guarded action (fatal). */
  'POLICY_DENIED',
  /** A command exited with a non-zero code (fatal). */
  'EXIT_NONZERO',
  /** A command was killed by a signal the step did not send, e.g. the OOM killer (retryable). */
  'KILLED',
  /** A command could not be started: not found, not executable, bad cwd (fatal). */
  'SPAWN',
  /** A response was larger than the step allows (fatal). */
  'OUTPUT_LIMIT',
  /** An upstream answered something the step cannot use, e.g. a malformed completion (retryable). */
  'BAD_RESPONSE',
  /** The run was cancelled while the step ran (fatal: never retried). */
  'CANCELLED',
  /** `uses` names no registered step type (fatal). */
  'UNKNOWN_STEP_TYPE',
  /** The step type needs configuration the worker does not have, e.g. no LLM endpoint (fatal). */
  'NOT_CONFIGURED',
  /** `core.fail` failing on purpose (retryable). */
  'STEP_FAILED',
  /** Anything else that was thrown (retryable, per the contract). */
  'ERROR',
] as const;
export type StepErrorCode = (typeof STEP_ERROR_CODES)[number];

export interface StepErrorOptions {
  cause?: unknown;
  /** JSON-safe facts worth recording with the failed task (status, exit code, truncated output). */
  details?: Record<string, unknown>;
  /** The upstream asked to wait this long before retrying (429/503 `Retry-After`). */
  retryAfterMs?: number;
}

/** The one error a step fails with; anything else thrown is mapped by `classifyError`. */
export class StepError extends Error {
  readonly code: StepErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: StepErrorCode, message: string, retryable: boolean, options: StepErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StepError';
    this.code = code;
    this.retryable = retryable;
    this.details = options.details;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** What the engine stores with the task (no stack, no cause). */
  toJSON(): { code: StepErrorCode; message: string; retryable: boolean; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isStepError(value: unknown): value is StepError {
  return value instanceof StepError;
}

/** A failure worth another attempt. */
export function retryable(code: StepErrorCode, message: string, options?: StepErrorOptions): StepError {
  return new StepError(code, message, true, options);
}

/** A failure no retry can fix. */
export function fatal(code: StepErrorCode, message: string, options?: StepErrorOptions): StepError {
  return new StepError(code, message, false, options);
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const POLICY_APP_CODES = new Set(['POLICY_DENIED', 'FORBIDDEN', 'BUDGET_EXCEEDED', 'QUOTA_EXCEEDED']);

/**
 * Maps anything thrown by step code to a StepError, following the contract: timeouts, 5xx,
 * connection errors and thrown errors are retryable; validation, 4xx and policy denial are fatal.
 * - StepError: itself.
 * - ZodError: fatal VALIDATION. Domain AppError: user errors are fatal (POLICY_DENIED for
 *   policy/budget/quota, VALIDATION for the rest), system errors retryable.
 * - `TimeoutError` (AbortSignal.timeout): retryable TIMEOUT. `AbortError`: fatal CANCELLED, unless
 *   its cause is a timeout.
 * - Node/undici errors anywhere in the `cause` chain: connection codes retryable CONNECTION,
 *   timeout codes retryable TIMEOUT.
 * - Anything else (including non-Error values): retryable ERROR.
 */
export function classifyError(error: unknown): StepError {
  if (error instanceof StepError) return error;
  if (error instanceof z.ZodError) {
    return fatal('VALIDATION', `invalid input: ${z.prettifyError(error)}`, { cause: error });
  }
  if (isAppError(error)) {
    if (!error.isUserError) return retryable('ERROR', error.message, { cause: error });
    return fatal(POLICY_APP_CODES.has(error.code) ? 'POLICY_DENIED' : 'VALIDATION', error.message, {
      cause: error,
    });
  }
  if (!(error instanceof Error)) {
    return retryable('ERROR', `step threw a non-error value: ${safeString(error)}`, { cause: error });
  }
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof StepError) return e;
    if (e.name === 'TimeoutError') return retryable('TIMEOUT', 'step timed out', { cause: error });
    const code = errorCode(e);
    if (typeof code === 'string') {
      if (TIMEOUT_CODES.has(code)) return retryable('TIMEOUT', `${code}: ${e.message}`, { cause: error });
      if (CONNECTION_CODES.has(code)) {
        return retryable('CONNECTION', `connection failed (${code}): ${e.message}`, { cause: error });
      }
    }
    if (e.name === 'AbortError' && !(e.cause instanceof Error)) {
      return fatal('CANCELLED', 'step was cancelled', { cause: error });
    }
  }
  return retryable('ERROR', error.message || error.name, { cause: error });
}

/**
 * The error for a step whose signal fired: the engine aborts with a `TimeoutError`
 * (e.g. `AbortSignal.timeout`) or a TIMEOUT StepError for step timeouts, anything else means
 * the run was cancelled.
 */
export function abortError(signal: AbortSignal): StepError {
  const reason: unknown = signal.reason;
  if (reason instanceof StepError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return retryable('TIMEOUT', 'step timed out', { cause: reason });
  }
  return fatal('CANCELLED', 'step was cancelled', reason === undefined ? {} : { cause: reason });
}

/** `code` of a Node system error; for AggregateError (happy eyeballs), of its first error. */
function errorCode(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (error instanceof AggregateError) {
    const first: unknown = error.errors[0];
    if (first instanceof Error) return errorCode(first);
  }
  return undefined;
}

function safeString(value: unknown): string {
  try {
    return String(value).slice(0, 200);
  } catch {
    return typeof value;
  }
}
