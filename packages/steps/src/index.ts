import { approvalGate } from './approval-gate.ts';
import { coreEcho } from './core-echo.ts';
import { coreFail } from './core-fail.ts';
import { coreSleep } from './core-sleep.ts';
import { createExecCommand, type ExecCommandOptions } from './exec-command.ts';
import { createHttpRequest, type HttpRequestOptions } from './http-request.ts';
import { createLlmGenerate, type LlmGenerateOptions } from './llm-generate.ts';
import type { StepType } from './step-type.ts';

export { approvalGate } from './approval-gate.ts';
export { coreEcho } from './core-echo.ts';
export { coreFail } from './core-fail.ts';
export { coreSleep } from './core-sleep.ts';
export type { ExecCommandOptions, ExecCommandOutput } from './exec-command.ts';
export { createExecCommand, execCommand, SAFE_PATH } from './exec-command.ts';
export type { AllowListGuardOptions } from './guard.ts';
export { allowListGuard } from './guard.ts';
export type { HttpRequestOptions, HttpRequestOutput } from './http-request.ts';
export { createHttpRequest, HTTP_METHODS, httpRequest } from './http-request.ts';
export { IDEMPOTENCY_HEADER } from './http-util.ts';
export type { LlmGenerateOptions, LlmGenerateOutput } from './llm-generate.ts';
export { createLlmGenerate } from './llm-generate.ts';
export type { StepRegistry } from './registry.ts';
export { createStepRegistry } from './registry.ts';
export type { StepErrorCode, StepErrorOptions } from './step-error.ts';
export {
  abortError,
  classifyError,
  fatal,
  isStepError,
  retryable,
  STEP_ERROR_CODES,
  StepError,
} from './step-error.ts';
export type {
  StepContext,
  StepGuard,
  StepOutput,
  StepResult,
  StepType,
  StepWait,
} from './step-type.ts';
export { defineStep, executeStep, isStepWait, remainingMs } from './step-type.ts';
export { testStepContext } from './testing.ts';

/** Worker configuration for the step types that need any. */
export interface BuiltinStepOptions {
  http?: HttpRequestOptions;
  exec?: ExecCommandOptions;
  /** Without it, `llm.generate` fails with fatal NOT_CONFIGURED. */
  llm?: LlmGenerateOptions;
}

/**
 * Every built-in step type, configured. A new step type is one file plus one line here.
 * `createStepRegistry(builtinSteps(options))` is what a worker runs.
 */
export function builtinSteps(options: BuiltinStepOptions = {}): StepType[] {
  return [
    coreEcho,
    coreSleep,
    coreFail,
    approvalGate,
    createHttpRequest(options.http),
    createExecCommand(options.exec),
    createLlmGenerate(options.llm),
  ];
}
