import { performance } from 'node:perf_hooks';
import {
  DEFAULT_MAX_INPUT_BYTES,
  type Decision,
  type DecisionResult,
  MAIN_ENTRYPOINT,
  makeDecision,
  type PolicyInput,
  parseDecision,
  prepareInput,
  shortCause,
  unavailable,
} from './decision.ts';
import type { PolicyEngine, ReloadResult } from './engine-types.ts';
import { EngineMetrics } from './metrics.ts';
import type { BundleRef } from './wasm-engine.ts';

export interface RemotePolicyEngineOptions {
  /** Base URL of an OPA server, e.g. http://opa:8181. */
  url: string;
  /** The profile the server's bundle was built for (reported in decisions). */
  profile: string;
  /** Per request (connect + response + body). Default 250 ms. */
  timeoutMs?: number;
  /** Inputs whose canonical JSON is larger are denied without a request. Default 256 KiB. */
  maxInputBytes?: number;
  /** Extra request headers, e.g. `authorization: Bearer …` for an OPA with token authn. */
  headers?: Record<string, string>;
  /** Called for every fail-closed denial, for logging. */
  onUnavailable?: (cause: string, action: string) => void;
}

export const DEFAULT_REMOTE_TIMEOUT_MS = 250;
const REMOTE = 'remote';

interface BundleInfo {
  revision: string;
  /** revision → digest (the bundle's etag), where the server says. */
  digests: Map<string, string>;
}

/** One name for the bundles a server answered from: `rev` for one bundle, `a@rev,b@rev` for several. */
function revisionOf(bundles: Record<string, { revision?: unknown }> | undefined): string | null {
  const entries = Object.entries(bundles ?? {})
    .filter(([, b]) => typeof b?.revision === 'string' && b.revision !== '')
    .sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return null;
  if (entries.length === 1) return String(entries[0]?.[1].revision);
  return entries.map(([name, b]) => `${name}@${String(b.revision)}`).join(',');
}

function causeOf(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `timeout after ${timeoutMs} ms`;
  }
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  if (typeof code === 'string') return `connection error (${code})`;
  return shortCause(error);
}

/**
 * A policy engine answered by an OPA server's Data API (`POST /v1/data/maestro/main/decision`).
 * Same `decide` contract as the in-process engine: timeouts, HTTP errors, connection errors and
 * malformed or undefined results deny with `pdp_unavailable`. The bundle revision comes with each
 * answer (`?provenance=true`); the digest is the bundle's etag from `/v1/status` or
 * `/v1/data/system/bundles` when the server exposes one, else `remote`.
 */
export async function createRemotePolicyEngine(options: RemotePolicyEngineOptions): Promise<PolicyEngine> {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS;
  const maxInputBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  const headers = { 'content-type': 'application/json', ...options.headers };
  const decisionUrl = `${base}/v1/data/${MAIN_ENTRYPOINT}?provenance=true`;
  const metrics = new EngineMetrics();
  let closed = false;

  const getJson = async (path: string): Promise<unknown> => {
    const res = await fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`GET ${path}: http ${res.status}`);
    return res.json();
  };

  /** Best effort: a server without the status plugin or with system data hidden still serves. */
  const fetchBundleInfo = async (): Promise<BundleInfo> => {
    const digests = new Map<string, string>();
    let revision: string | null = null;
    try {
      const status = (await getJson('/v1/status')) as {
        result?: { bundles?: Record<string, { active_revision?: string; etag?: string }> };
      };
      const bundles = status.result?.bundles ?? {};
      revision = revisionOf(
        Object.fromEntries(Object.entries(bundles).map(([n, b]) => [n, { revision: b.active_revision }])),
      );
      for (const b of Object.values(bundles)) {
        if (b.active_revision && b.etag) digests.set(b.active_revision, b.etag);
      }
    } catch {
      // status plugin not enabled
    }
    if (revision === null) {
      try {
        const system = (await getJson('/v1/data/system/bundles')) as {
          result?: Record<string, { etag?: string; manifest?: { revision?: string } }>;
        };
        const bundles = system.result ?? {};
        revision = revisionOf(
          Object.fromEntries(
            Object.entries(bundles).map(([n, b]) => [n, { revision: b.manifest?.revision }]),
          ),
        );
        for (const b of Object.values(bundles)) {
          if (b.manifest?.revision && b.etag) digests.set(b.manifest.revision, b.etag);
        }
      } catch {
        // no bundle information available
      }
    }
    return { revision: revision ?? REMOTE, digests };
  };

  let info = await fetchBundleInfo();
  const refOf = (revision: string | null): BundleRef => {
    const rev = revision ?? info.revision;
    return { profile: options.profile, revision: rev, digest: info.digests.get(rev) ?? REMOTE };
  };

  /** The decision and the revision it came from, or the cause of a fail-closed denial. */
  const ask = async (body: string): Promise<{ result: DecisionResult; revision: string | null } | string> => {
    let payload: { result?: unknown; provenance?: { bundles?: Record<string, { revision?: unknown }> } };
    try {
      const res = await fetch(decisionUrl, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        return `opa server answered http ${res.status}`;
      }
      payload = (await res.json()) as typeof payload;
    } catch (error) {
      return causeOf(error, timeoutMs);
    }
    if (typeof payload !== 'object' || payload === null || !('result' in payload)) {
      return 'undefined decision';
    }
    try {
      return { result: parseDecision(payload.result), revision: revisionOf(payload.provenance?.bundles) };
    } catch (error) {
      return shortCause(error);
    }
  };

  return {
    get bundle() {
      return refOf(null);
    },

    async decide(action: string, input: PolicyInput): Promise<Decision> {
      const started = performance.now();
      const prepared = prepareInput(action, input, maxInputBytes);
      const outcome = closed
        ? 'policy engine closed'
        : 'cause' in prepared
          ? prepared.cause
          : await ask(`{"input":${prepared.json}}`);
      const latencyMs = performance.now() - started;
      const failed = typeof outcome === 'string';
      const result = failed ? unavailable(outcome) : outcome.result;
      metrics.record(result, failed, latencyMs);
      if (failed) options.onUnavailable?.(outcome, action);
      return makeDecision(result, refOf(failed ? null : outcome.revision), prepared.digest, latencyMs);
    },

    /** Refreshes the bundle information from the server (the server loads its own bundles). */
    async reload(): Promise<ReloadResult> {
      const previous = refOf(null);
      const started = performance.now();
      if (closed) {
        metrics.reloadFailures++;
        return { ok: false, error: new Error('policy engine closed'), bundle: previous };
      }
      info = await fetchBundleInfo();
      metrics.reloads++;
      return { ok: true, bundle: refOf(null), previous, loadMs: performance.now() - started };
    },

    /** Nothing to watch: the OPA server polls its bundle service itself. */
    watch: () => () => undefined,
    stats: () => metrics.snapshot(),
    async close() {
      closed = true;
    },
  };
}
