import type { Decision, PolicyInput } from './decision.ts';
import type { PolicyEngineStats } from './metrics.ts';
import type { BundleRef, RawDecision } from './wasm-engine.ts';

/** A bundle that could not be loaded (unreadable, not a wasm bundle, failed its smoke test, …). */
export class PolicyBundleError extends Error {
  override name = 'PolicyBundleError';
  constructor(
    readonly path: string,
    cause: string,
    options?: ErrorOptions,
  ) {
    super(`cannot load policy bundle ${path}: ${cause}`, options);
  }
}

export type ReloadResult =
  | { ok: true; bundle: BundleRef; previous: BundleRef; loadMs: number }
  /** The new bundle was refused; `bundle` is the one still serving. */
  | { ok: false; error: Error; bundle: BundleRef };

/** The policy decision point, in process (opa-wasm) or remote (OPA server); both fail closed. */
export interface PolicyEngine {
  /**
   * Asks `maestro/main/decision` about `action` (set as `input.action`). Never rejects: an
   * evaluation error, a malformed result, a deadline overrun, an oversized input or an
   * unreachable PDP is a denial with reason `pdp_unavailable: <cause>`.
   */
  decide(action: string, input: PolicyInput): Promise<Decision>;
  /** The bundle serving now. */
  readonly bundle: BundleRef;
  /**
   * Loads and validates a bundle fully, then swaps it in atomically; on failure the old bundle
   * keeps serving and the error is returned (never thrown). Concurrent reloads run in order.
   */
  reload(path?: string): Promise<ReloadResult>;
  /** Reloads when the bundle file changes (debounced). Returns a function that stops watching. */
  watch(): () => void;
  stats(): PolicyEngineStats;
  close(): Promise<void>;
}

/** The in-process engine; also answers the synchronous scope-auth questions. */
export interface WasmPolicyEngine extends PolicyEngine {
  /**
   * Synchronous role check on `maestro/authz/decision` for scope-auth: `{...context, action,
   * actor}`. Fails closed: any error, malformed result or deadline overrun is `false`.
   */
  can(action: string, actor: PolicyInput['actor'], context?: PolicyInput): boolean;
  /**
   * `maestro/authz/decision` on a full input, as `WasmPolicy.evaluate` (throws on error or a
   * malformed result), so the engine can stand in wherever a WasmPolicy is used.
   */
  evaluate(input: unknown): RawDecision;
}
