import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { readBundle } from './bundle.ts';
import { AUTHZ_ENTRYPOINT } from './decision.ts';

export interface BundleRef {
  profile: string;
  revision: string;
  /** sha256 of the compiled bundle, hex. */
  digest: string;
}

export interface RawDecision {
  allow: boolean;
  reasons: string[];
}

export interface WasmPolicy {
  readonly bundle: BundleRef;
  /**
   * Evaluates `maestro/authz/decision` (or, in a bundle without it, the first entrypoint);
   * throws if the result is not a decision document.
   */
  evaluate(input: unknown): RawDecision;
}

/**
 * Loads a compiled bundle once: the wasm module is instantiated and its data set a single
 * time, so each evaluation only pays for the input.
 */
export async function loadWasmPolicy(path: string, profile: string): Promise<WasmPolicy> {
  const compiled = await readBundle(path);
  const policy = await loadPolicy(compiled.wasm);
  policy.setData(compiled.data as object);
  const bundle: BundleRef = {
    profile,
    revision: compiled.manifest.revision ?? 'unknown',
    digest: compiled.digest,
  };
  const entrypoints = policy.entrypoints as Record<string, number>;
  const entrypoint = entrypoints[AUTHZ_ENTRYPOINT] ?? 0;
  return {
    bundle,
    evaluate(input) {
      const resultSet = policy.evaluate(input, entrypoint) as Array<{ result?: unknown }>;
      const result = resultSet[0]?.result as Partial<RawDecision> | undefined;
      if (!result || typeof result.allow !== 'boolean' || !Array.isArray(result.reasons)) {
        throw new Error('policy result is not a decision document {allow, reasons}');
      }
      return { allow: result.allow, reasons: result.reasons.map(String) };
    },
  };
}
