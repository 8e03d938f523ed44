export type { CompiledBundle } from './bundle.ts';
export { bundleDigest, parseBundle, readBundle } from './bundle.ts';
export type { PolicyEngineConfig } from './config.ts';
export { createPolicyEngineFromConfig } from './config.ts';
export type { ApprovalSpec, Decision, DecisionResult, PolicyInput } from './decision.ts';
export {
  AUTHZ_ENTRYPOINT,
  DEFAULT_MAX_INPUT_BYTES,
  MAIN_ENTRYPOINT,
  MalformedDecisionError,
  PDP_UNAVAILABLE,
  parseDecision,
} from './decision.ts';
export type { PolicyEngineOptions } from './engine.ts';
export { createPolicyEngine, DEFAULT_DEADLINE_MS } from './engine.ts';
export type { PolicyEngine, ReloadResult, WasmPolicyEngine } from './engine-types.ts';
export { PolicyBundleError } from './engine-types.ts';
export type { LatencySummary, PolicyEngineStats } from './metrics.ts';
export { LATENCY_BUCKETS_MS } from './metrics.ts';
export type { PolicyPackInfo } from './packs.ts';
export { loadPolicyPacks, signingKey, verifyPack } from './packs.ts';
export type { RemotePolicyEngineOptions } from './remote.ts';
export { createRemotePolicyEngine, DEFAULT_REMOTE_TIMEOUT_MS } from './remote.ts';
export type { BundleRef, RawDecision, WasmPolicy } from './wasm-engine.ts';
export { loadWasmPolicy } from './wasm-engine.ts';
