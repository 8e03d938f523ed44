export { coreEcho } from './core-echo.ts';
export type { StepContext, StepType } from './step-type.ts';
export { defineStep } from './step-type.ts';
