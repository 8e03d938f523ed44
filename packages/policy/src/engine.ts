import { type FSWatcher, watch as fsWatch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type LoadedPolicy, loadPolicy } from '@open-policy-agent/opa-wasm';
import { bundleDigest, parseBundle } from './bundle.ts';
import {
  AUTHZ_ENTRYPOINT,
  DEFAULT_MAX_INPUT_BYTES,
  type Decision,
  type DecisionResult,
  MAIN_ENTRYPOINT,
  MalformedDecisionError,
  makeDecision,
  type PolicyInput,
  parseAuthzDecision,
  parseDecision,
  prepareInput,
  shortCause,
  unavailable,
} from './decision.ts';
import { PolicyBundleError, type ReloadResult, type WasmPolicyEngine } from './engine-types.ts';
import { EngineMetrics } from './metrics.ts';
import type { BundleRef, RawDecision } from './wasm-engine.ts';

export interface PolicyEngineOptions {
  /** A compiled bundle (`opa build -t wasm -e maestro/main/decision -e maestro/authz/decision`). */
  bundlePath: string;
  /** The policy profile the bundle was built for (internal, hosted-saas, …). */
  profile: string;
  /** Evaluations taking longer are denied (pdp_unavailable). Default 50 ms. */
  deadlineMs?: number;
  /** Inputs whose canonical JSON is larger are denied unevaluated. Default 256 KiB. */
  maxInputBytes?: number;
  /** Cap on one bundle instance's wasm memory, in 64 KiB pages. Default 4096 (256 MiB). */
  maxMemoryPages?: number;
  /** What a new bundle must answer with a well-formed decision before it may serve. */
  smokeInput?: PolicyInput;
  /** Debounce of `watch()`. Default 250 ms. */
  watchDebounceMs?: number;
  /** Called after every reload attempt (including the ones `watch()` makes). */
  onReload?: (result: ReloadResult) => void;
  /** Called for every fail-closed denial, for logging. */
  onUnavailable?: (cause: string, action: string) => void;
}

export const DEFAULT_DEADLINE_MS = 50;
const DEFAULT_MAX_MEMORY_PAGES = 4096;
const encoder = new TextEncoder();
const DEFAULT_SMOKE_INPUT: PolicyInput = {
  action: 'maestro.smoke',
  actor: { subject: 'maestro-smoke', roles: [] },
};

/** One loaded bundle: instantiated and with its data set, never modified after the swap. */
interface LoadedBundle {
  readonly ref: BundleRef;
  readonly path: string;
  readonly policy: LoadedPolicy;
  readonly main: number;
  readonly authz: number;
}

function firstResult(policy: LoadedPolicy, entrypoint: number, input: ArrayBuffer | object): unknown {
  const resultSet: unknown = policy.evaluate(input, entrypoint);
  if (!Array.isArray(resultSet)) throw new MalformedDecisionError('malformed decision: no result set');
  if (resultSet.length === 0) throw new MalformedDecisionError('undefined decision');
  if (resultSet.length > 1) throw new MalformedDecisionError('malformed decision: several results');
  return (resultSet[0] as { result?: unknown }).result;
}

/** opa-wasm takes an input as JSON text only when given an ArrayBuffer (not a view). */
function asArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const { buffer, byteOffset, byteLength } = bytes;
  return buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength
    ? buffer
    : (bytes.slice().buffer as ArrayBuffer);
}

async function loadBundle(
  path: string,
  bytes: Uint8Array,
  profile: string,
  maxMemoryPages: number,
  smokeInput: PolicyInput,
): Promise<LoadedBundle> {
  const fail = (cause: string, error?: unknown): never => {
    throw new PolicyBundleError(path, cause, error === undefined ? undefined : { cause: error });
  };
  const compiled = await parseBundle(bytes, path).catch((e: unknown) => fail(shortCause(e), e));
  if (typeof compiled.data !== 'object' || compiled.data === null || Array.isArray(compiled.data)) {
    fail('data.json is not an object');
  }
  const policy = await loadPolicy(compiled.wasm, { initial: 5, maximum: maxMemoryPages }).catch(
    (e: unknown) => fail(`policy.wasm does not instantiate: ${shortCause(e)}`, e),
  );
  const entrypoints = policy.entrypoints as Record<string, number>;
  const main = entrypoints[MAIN_ENTRYPOINT];
  const authz = entrypoints[AUTHZ_ENTRYPOINT];
  if (main === undefined || authz === undefined) {
    fail(
      `policy.wasm lacks entrypoint ${main === undefined ? MAIN_ENTRYPOINT : AUTHZ_ENTRYPOINT} ` +
        `(has ${Object.keys(entrypoints).join(', ') || 'none'})`,
    );
  }
  try {
    policy.setData(compiled.data as object);
  } catch (e) {
    fail(`data.json does not load: ${shortCause(e)}`, e);
  }
  // Smoke test: both entrypoints answer with their document shapes.
  try {
    parseDecision(firstResult(policy, main as number, smokeInput));
    parseAuthzDecision(firstResult(policy, authz as number, smokeInput));
  } catch (e) {
    fail(`smoke evaluation failed: ${shortCause(e)}`, e);
  }
  return {
    ref: { profile, revision: compiled.manifest.revision ?? 'unknown', digest: compiled.digest },
    path,
    policy,
    main: main as number,
    authz: authz as number,
  };
}

/**
 * Loads a compiled bundle into an in-process policy engine. The wasm is instantiated and its
 * data set once per bundle load; each decision only writes its input. Throws PolicyBundleError
 * when the bundle cannot serve.
 */
export async function createPolicyEngine(options: PolicyEngineOptions): Promise<WasmPolicyEngine> {
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const maxInputBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  const maxMemoryPages = options.maxMemoryPages ?? DEFAULT_MAX_MEMORY_PAGES;
  const smokeInput = options.smokeInput ?? DEFAULT_SMOKE_INPUT;
  const debounceMs = options.watchDebounceMs ?? 250;
  const metrics = new EngineMetrics();

  const load = async (path: string): Promise<LoadedBundle> => {
    const absolute = resolve(path);
    const bytes = await readFile(absolute).catch((e: unknown) => {
      throw new PolicyBundleError(absolute, `unreadable: ${shortCause(e)}`, { cause: e });
    });
    return loadBundle(absolute, bytes, options.profile, maxMemoryPages, smokeInput);
  };

  // The serving bundle. Every call reads it once, synchronously, and uses only that snapshot,
  // so a swap can never be observed half-done.
  let current: LoadedBundle = await load(options.bundlePath);
  let closed = false;
  let reloading: Promise<unknown> = Promise.resolve();
  let stopWatching: (() => void) | null = null;

  /** The policy's decision, or the cause of a fail-closed denial. */
  const evaluateMain = (loaded: LoadedBundle, bytes: Uint8Array): DecisionResult | string => {
    const started = performance.now();
    let raw: unknown;
    try {
      raw = firstResult(loaded.policy, loaded.main, asArrayBuffer(bytes));
    } catch (error) {
      const cause = shortCause(error);
      return error instanceof MalformedDecisionError ? cause : `evaluation error: ${cause}`;
    }
    const elapsed = performance.now() - started;
    if (elapsed > deadlineMs) return `deadline exceeded (${elapsed.toFixed(1)} ms > ${deadlineMs} ms)`;
    try {
      return parseDecision(raw);
    } catch (error) {
      return shortCause(error);
    }
  };

  const authorize = (input: unknown): RawDecision => {
    const loaded = current;
    if (closed) throw new Error('policy engine closed');
    const text = JSON.stringify(input);
    if (text === undefined) throw new Error('input is not JSON');
    const bytes = encoder.encode(text);
    if (bytes.byteLength > maxInputBytes) throw new Error(`input too large (${bytes.byteLength} bytes)`);
    const started = performance.now();
    const raw = firstResult(loaded.policy, loaded.authz, asArrayBuffer(bytes));
    const elapsed = performance.now() - started;
    if (elapsed > deadlineMs) throw new Error(`deadline exceeded (${elapsed.toFixed(1)} ms)`);
    return parseAuthzDecision(raw);
  };

  const reload = (path?: string): Promise<ReloadResult> => {
    const run = async (): Promise<ReloadResult> => {
      const target = path ?? current.path;
      const started = performance.now();
      let result: ReloadResult;
      try {
        if (closed) throw new Error('policy engine closed');
        const next = await load(target);
        if (closed) throw new Error('policy engine closed');
        const previous = current.ref;
        current = next; // the swap: one assignment
        metrics.reloads++;
        result = { ok: true, bundle: next.ref, previous, loadMs: performance.now() - started };
      } catch (error) {
        metrics.reloadFailures++;
        const err = error instanceof Error ? error : new Error(shortCause(error));
        result = { ok: false, error: err, bundle: current.ref };
      }
      options.onReload?.(result);
      return result;
    };
    const next = reloading.then(run, run);
    reloading = next.catch(() => undefined);
    return next;
  };

  const watch = (): (() => void) => {
    stopWatching?.();
    if (closed) return () => undefined;
    const path = current.path;
    const name = basename(path);
    let timer: NodeJS.Timeout | null = null;
    // Watch the directory, not the file: builds replace the file by rename, which would
    // leave a file watcher on the old inode.
    const watcher: FSWatcher = fsWatch(dirname(path), { persistent: false }, (_event, file) => {
      if (file !== null && file !== name) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        void reloadIfChanged(path);
      }, debounceMs);
      timer.unref();
    });
    watcher.on('error', () => undefined);
    const stop = () => {
      if (timer) clearTimeout(timer);
      watcher.close();
      if (stopWatching === stop) stopWatching = null;
    };
    stopWatching = stop;
    return stop;
  };

  const reloadIfChanged = async (path: string): Promise<void> => {
    if (closed) return;
    try {
      if (bundleDigest(await readFile(path)) === current.ref.digest) return;
    } catch {
      // Missing mid-replace: the rename that completes it fires another event.
      return;
    }
    await reload(path);
  };

  return {
    get bundle() {
      return current.ref;
    },

    async decide(action: string, input: PolicyInput): Promise<Decision> {
      const started = performance.now();
      const loaded = current;
      const prepared = prepareInput(action, input, maxInputBytes);
      const outcome: DecisionResult | string = closed
        ? 'policy engine closed'
        : 'cause' in prepared
          ? prepared.cause
          : evaluateMain(loaded, prepared.bytes);
      const latencyMs = performance.now() - started;
      const failed = typeof outcome === 'string';
      const result = failed ? unavailable(outcome) : outcome;
      metrics.record(result, failed, latencyMs);
      if (failed) options.onUnavailable?.(outcome, action);
      return makeDecision(result, loaded.ref, prepared.digest, latencyMs);
    },

    can(action, actor, context = {}) {
      try {
        return authorize({ ...context, action, actor }).allow;
      } catch {
        metrics.authzErrors++;
        return false;
      }
    },

    evaluate(input) {
      try {
        return authorize(input);
      } catch (error) {
        metrics.authzErrors++;
        throw error;
      }
    },

    reload,
    watch,
    stats: () => metrics.snapshot(),

    async close() {
      closed = true;
      stopWatching?.();
      await reloading;
    },
  };
}
