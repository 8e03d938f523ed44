import { createPolicyEngine, type PolicyEngineOptions } from './engine.ts';
import type { PolicyEngine, WasmPolicyEngine } from './engine-types.ts';
import { createRemotePolicyEngine, type RemotePolicyEngineOptions } from './remote.ts';

export type PolicyEngineConfig =
  | ({ mode: 'wasm' } & PolicyEngineOptions)
  | ({ mode: 'remote' } & RemotePolicyEngineOptions);

/** The in-process engine (`mode: 'wasm'`) or an OPA server's (`mode: 'remote'`), by config. */
export function createPolicyEngineFromConfig(
  config: { mode: 'wasm' } & PolicyEngineOptions,
): Promise<WasmPolicyEngine>;
export function createPolicyEngineFromConfig(config: PolicyEngineConfig): Promise<PolicyEngine>;
export function createPolicyEngineFromConfig(config: PolicyEngineConfig): Promise<PolicyEngine> {
  switch (config.mode) {
    case 'wasm': {
      const { mode: _, ...options } = config;
      return createPolicyEngine(options);
    }
    case 'remote': {
      const { mode: _, ...options } = config;
      return createRemotePolicyEngine(options);
    }
    default:
      return Promise.reject(
        new Error(`unknown policy engine mode ${JSON.stringify((config as { mode: unknown }).mode)}`),
      );
  }
}
