export type { GateContext, GateDecision, GateRequest } from './gate.ts';
export { assertAllowed, decide, policyInput } from './gate.ts';
export type { PreparedStart } from './start-run.ts';
export {
  APPROVAL_TTL_MS,
  checkedParams,
  createStartedRun,
  decideStart,
  latestVersion,
  manifestErrors,
  resolveVersion,
} from './start-run.ts';
