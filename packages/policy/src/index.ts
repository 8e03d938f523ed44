export type { CompiledBundle } from './bundle.ts';
export { readBundle } from './bundle.ts';
export type { PolicyPackInfo } from './packs.ts';
export { loadPolicyPacks, signingKey, verifyPack } from './packs.ts';
export type { BundleRef, RawDecision, WasmPolicy } from './wasm-engine.ts';
export { loadWasmPolicy } from './wasm-engine.ts';
