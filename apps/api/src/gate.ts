// The gate lives in @maestro/control, shared with the worker's scheduler.
export type { GateContext, GateDecision, GateRequest } from '@maestro/control';
export { assertAllowed, decide, policyInput } from '@maestro/control';
